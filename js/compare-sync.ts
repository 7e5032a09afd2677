// Keeps the A/B comparison's players on one timeline. Pure logic against a small `SyncPlayer`
// interface (an HTMLVideoElement fits it), so it is tested without real media.
//
// - The leader is the first ready player in cell order (ready = its metadata is known). Until the
//   first cell's video is ready an earlier-ready one leads; when an earlier cell becomes ready it is
//   aligned to the leader's time and takes over. Only the leader is unmuted: one audio source.
// - The timeline is 0..the shortest known duration. play / pause / seek / loop apply to every
//   ready player; a player that becomes ready later joins at the leader's time.
// - While playing, `tick()` runs on every animation frame (and on the leader's timeupdate): a
//   follower more than DRIFT_S away from the leader is set to the leader's time (never while the
//   leader or that follower is still seeking, so a slow seek is not restarted over and over).
// - At the end of the timeline (the leader reaches it, or any player ends): with loop on, every
//   player restarts at 0; with loop off, every player pauses there.
// - `stop()` pauses everything and cancels the frame loop; the sync is unusable afterwards.

export interface SyncPlayer {
  currentTime: number;
  readonly duration: number;
  readonly paused: boolean;
  readonly ended: boolean;
  readonly seeking?: boolean;
  muted: boolean;
  play(): Promise<void> | void;
  pause(): void;
}

/** requestAnimationFrame / cancelAnimationFrame, injectable for tests. */
export interface FrameClock {
  request(cb: () => void): number;
  cancel(id: number): void;
}

export interface SyncState {
  playing: boolean;
  loop: boolean;
  /** The leader's time, clamped to the timeline; 0 without a leader. */
  time: number;
  /** The timeline's end (the shortest known duration), or null while none is known. */
  end: number | null;
  /** Whether any player is ready (controls can do something). */
  ready: boolean;
}

/** Followers further than this (seconds) from the leader are re-aligned. */
export const DRIFT_S = 0.1;
/** This close to the end counts as the end (a frame at 30 fps, with room to spare). */
export const END_EPS_S = 0.05;

interface Entry {
  player: SyncPlayer;
  order: number;
  ready: boolean;
}

export class CompareSync {
  private readonly entries: Entry[] = [];
  private leaderEntry: Entry | null = null;
  private frame: number | null = null;
  private isPlaying = false;
  private isLooping = true;
  private stopped = false;

  constructor(
    private readonly clock: FrameClock,
    private readonly onUpdate: (s: SyncState) => void = () => undefined,
  ) {}

  get leader(): SyncPlayer | null {
    return this.leaderEntry?.player ?? null;
  }

  get playing(): boolean {
    return this.isPlaying;
  }

  get loop(): boolean {
    return this.isLooping;
  }

  get running(): boolean {
    return this.frame !== null;
  }

  /** The timeline's end: the shortest finite positive duration among ready players. */
  get end(): number | null {
    let end: number | null = null;
    for (const e of this.entries) {
      const d = e.player.duration;
      if (e.ready && Number.isFinite(d) && d > 0 && (end === null || d < end)) end = d;
    }
    return end;
  }

  get time(): number {
    const l = this.leader;
    if (!l) return 0;
    const end = this.end;
    const t = Number.isFinite(l.currentTime) ? Math.max(0, l.currentTime) : 0;
    return end === null ? t : Math.min(t, end);
  }

  state(): SyncState {
    return { playing: this.isPlaying, loop: this.isLooping, time: this.time, end: this.end, ready: this.leaderEntry !== null };
  }

  /** A player of cell number `order` (smaller = earlier cell). Muted until it leads. */
  add(player: SyncPlayer, order: number): void {
    if (this.stopped || this.find(player)) return;
    player.muted = true;
    this.entries.push({ player, order, ready: false });
  }

  remove(player: SyncPlayer): void {
    const i = this.entries.findIndex((e) => e.player === player);
    if (i < 0) return;
    const [e] = this.entries.splice(i, 1);
    safePause(player);
    if (e === this.leaderEntry) this.chooseLeader();
    this.emit();
  }

  /** The player's metadata is known (loadedmetadata): it can seek and join the timeline. */
  ready(player: SyncPlayer): void {
    const e = this.find(player);
    if (!e || this.stopped) return;
    const wasReady = e.ready;
    e.ready = true;
    if (!wasReady) {
      const lead = this.leaderEntry;
      // Join at the timeline's current time, and play along if the others are playing.
      if (lead && lead !== e) setTime(player, lead.player.currentTime);
      if (this.isPlaying) safePlay(player, () => this.onPlayRefused(player));
      else safePause(player);
      this.chooseLeader();
    }
    this.emit();
  }

  /** The player lost its source (emptied): it leaves the timeline until it is ready again. */
  unready(player: SyncPlayer): void {
    const e = this.find(player);
    if (!e || !e.ready) return;
    e.ready = false;
    if (e === this.leaderEntry) this.chooseLeader();
    this.emit();
  }

  play(): void {
    if (this.stopped) return;
    const end = this.end;
    // Play at the end starts over, as a single player does.
    if (end !== null && this.time >= end - END_EPS_S) this.setAll(0);
    else this.align(true);
    this.isPlaying = true;
    for (const e of this.readyEntries()) safePlay(e.player, () => this.onPlayRefused(e.player));
    this.startFrames();
    this.emit();
  }

  pause(): void {
    this.isPlaying = false;
    this.cancelFrames();
    for (const e of this.entries) safePause(e.player);
    // Paused frames should match exactly.
    this.align(true);
    this.emit();
  }

  toggle(): void {
    if (this.isPlaying) this.pause();
    else this.play();
  }

  /** Every ready player to `t` (clamped to the timeline), playing or not as before. */
  seek(t: number): void {
    if (this.stopped || !Number.isFinite(t)) return;
    const end = this.end;
    this.setAll(Math.max(0, end === null ? t : Math.min(t, end)));
    this.emit();
  }

  setLoop(on: boolean): void {
    this.isLooping = on;
    this.emit();
  }

  /** One synchronisation step: end of timeline, then drift. Called per frame and on timeupdate. */
  tick(): void {
    if (this.stopped) return;
    const lead = this.leaderEntry;
    if (!lead) return;
    if (this.isPlaying) {
      const end = this.end;
      const atEnd =
        (end !== null && lead.player.currentTime >= end - END_EPS_S && !lead.player.seeking) ||
        this.readyEntries().some((e) => e.player.ended);
      if (atEnd) {
        if (this.isLooping) {
          this.setAll(0);
          for (const e of this.readyEntries()) if (e.player.paused) safePlay(e.player, () => this.onPlayRefused(e.player));
        } else {
          this.isPlaying = false;
          this.cancelFrames();
          for (const e of this.entries) safePause(e.player);
          if (end !== null) this.setAll(end);
        }
        this.emit();
        return;
      }
      this.align(false);
      // A follower that stopped on its own (its own end, a decoder hiccup) is started again.
      for (const e of this.readyEntries()) {
        if (e !== lead && e.player.paused && !e.player.ended) safePlay(e.player, () => this.onPlayRefused(e.player));
      }
    }
    this.emit();
  }

  /** Pauses every player and cancels the frame loop for good. */
  stop(): void {
    this.stopped = true;
    this.isPlaying = false;
    this.cancelFrames();
    for (const e of this.entries) safePause(e.player);
    this.entries.length = 0;
    this.leaderEntry = null;
  }

  // --- internals ---

  private find(player: SyncPlayer): Entry | undefined {
    return this.entries.find((e) => e.player === player);
  }

  private readyEntries(): Entry[] {
    return this.entries.filter((e) => e.ready);
  }

  private chooseLeader(): void {
    let best: Entry | null = null;
    for (const e of this.entries) if (e.ready && (best === null || e.order < best.order)) best = e;
    this.leaderEntry = best;
    for (const e of this.entries) e.player.muted = e !== best;
  }

  /** Followers to the leader's time: all of them (`exact`), or only those drifting > DRIFT_S. */
  private align(exact: boolean): void {
    const lead = this.leaderEntry;
    if (!lead || lead.player.seeking) return;
    const t = lead.player.currentTime;
    if (!Number.isFinite(t)) return;
    for (const e of this.readyEntries()) {
      if (e === lead) continue;
      const drift = Math.abs(e.player.currentTime - t);
      if (exact ? drift > 0 : drift > DRIFT_S && !e.player.seeking) setTime(e.player, t);
    }
  }

  private setAll(t: number): void {
    for (const e of this.readyEntries()) setTime(e.player, t);
  }

  private startFrames(): void {
    if (this.frame !== null || this.stopped) return;
    const loop = (): void => {
      this.frame = null;
      if (!this.isPlaying || this.stopped) return;
      this.tick();
      if (this.isPlaying && !this.stopped) this.frame = this.clock.request(loop);
    };
    this.frame = this.clock.request(loop);
  }

  private cancelFrames(): void {
    if (this.frame === null) return;
    this.clock.cancel(this.frame);
    this.frame = null;
  }

  /** play() refused (autoplay policy with sound): retry muted, so the picture stays in sync. */
  private onPlayRefused(player: SyncPlayer): void {
    if (this.stopped || !this.isPlaying || !this.find(player) || player.muted) return;
    player.muted = true;
    safePlay(player, () => undefined);
  }

  private emit(): void {
    if (!this.stopped) this.onUpdate(this.state());
  }
}

function setTime(p: SyncPlayer, t: number): void {
  try {
    p.currentTime = t;
  } catch {
    /* not seekable yet (no metadata): it is aligned when it becomes ready */
  }
}

function safePause(p: SyncPlayer): void {
  try {
    p.pause();
  } catch {
    /* nothing to pause */
  }
}

function safePlay(p: SyncPlayer, refused: () => void): void {
  try {
    const r = p.play();
    if (r && typeof r.catch === "function") {
      r.catch((e: unknown) => {
        // AbortError: a pause() interrupted the play() — expected, not a refusal.
        if ((e as { name?: unknown } | null)?.name === "NotAllowedError") refused();
      });
    }
  } catch {
    /* a player without media: it joins when it is ready */
  }
}
