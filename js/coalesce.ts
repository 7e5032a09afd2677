// Runs an async job so that at most one run is in flight and at most one more is pending: a burst
// of triggers (history_rev bumping on every progress event) becomes two requests, not fifty.
// The pending run starts after the current one and reads the newest state then.

export class Coalescer {
  private inFlight = false;
  private pending = false;

  constructor(private readonly job: () => Promise<void>) {}

  trigger(): void {
    if (this.inFlight) {
      this.pending = true;
      return;
    }
    void this.run();
  }

  get busy(): boolean {
    return this.inFlight;
  }

  private async run(): Promise<void> {
    this.inFlight = true;
    try {
      await this.job();
    } catch {
      /* the job reports its own errors; a failure must not stop later runs */
    } finally {
      this.inFlight = false;
      if (this.pending) {
        this.pending = false;
        void this.run();
      }
    }
  }
}
