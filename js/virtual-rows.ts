// Windowing for a long list of same-height rows (the history table): which rows to build for a
// scroll position, and the heights of the two spacers that stand in for the rows not built.
// Pure arithmetic, no DOM; plus a tiny requestAnimationFrame coalescer (frames injectable).
//
// A window holds the rows in view plus `overscan` rows on each side. While the rows in view stay
// inside the built window (`covers`), a scroll needs no DOM work at all; when they leave it, the
// window moves around them, keeping the rows the old and new windows share (`windowPatch`).

export interface RowWindow {
  /** First row built (inclusive). */
  start: number;
  /** One past the last row built. */
  end: number;
  /** Height in px of the spacer above the built rows (`start` rows). */
  top: number;
  /** Height in px of the spacer below the built rows (`count - end` rows). */
  bottom: number;
}

export interface WindowInput {
  /** Rows in the list. */
  count: number;
  /** Height of one row in px (rows are the same height). */
  rowHeight: number;
  /** The scroll container's scrollTop. */
  scrollTop: number;
  /** The scroll container's visible height in px. */
  viewport: number;
  /** Px between the top of the scrolled content and the first row (e.g. a table header). */
  offset?: number;
  /** Rows built beyond each edge of the view. */
  overscan?: number;
}

export const OVERSCAN = 10;
export const EMPTY_WINDOW: RowWindow = Object.freeze({ start: 0, end: 0, top: 0, bottom: 0 });

function finiteOr(x: number, fallback: number): number {
  return Number.isFinite(x) ? x : fallback;
}

/** The rows at least partly in view: `[first, last)`. A scrollTop past the end (the list shrank)
 * counts as scrolled to the end. */
export function visibleRange(i: WindowInput): { first: number; last: number } {
  const count = Math.max(0, Math.floor(finiteOr(i.count, 0)));
  const h = finiteOr(i.rowHeight, 0) > 0 ? i.rowHeight : 1;
  const view = Math.max(0, finiteOr(i.viewport, 0));
  const maxY = Math.max(0, count * h - view);
  const y = Math.min(Math.max(0, finiteOr(i.scrollTop, 0) - finiteOr(i.offset ?? 0, 0)), maxY);
  const first = Math.min(count, Math.floor(y / h));
  const last = Math.min(count, Math.max(first, Math.ceil((y + view) / h)));
  return { first, last };
}

/** The window to build: the rows in view plus `overscan` each side, and the spacer heights. */
export function rowWindow(i: WindowInput): RowWindow {
  const count = Math.max(0, Math.floor(finiteOr(i.count, 0)));
  if (count === 0) return EMPTY_WINDOW;
  const h = finiteOr(i.rowHeight, 0) > 0 ? i.rowHeight : 1;
  const over = Math.max(0, Math.floor(finiteOr(i.overscan ?? OVERSCAN, OVERSCAN)));
  const { first, last } = visibleRange(i);
  const start = Math.max(0, first - over);
  const end = Math.min(count, last + over);
  return { start, end, top: start * h, bottom: (count - end) * h };
}

/** Whether the built window still holds every row in view (so a scroll needs no rebuild). */
export function covers(built: RowWindow, visible: { first: number; last: number }): boolean {
  return built.start <= visible.first && visible.last <= built.end;
}

/** How to turn the built window `prev` into `next` by editing its ends: rows to drop from the top
 * and the bottom of the built rows, and row ranges `[start, end)` to build above and below the
 * rows kept. Null when the two share no row (build `next` afresh). Scrolling a few rows then
 * builds (and lays out) only those few rows. */
export interface WindowPatch {
  dropTop: number;
  dropBottom: number;
  addTop: [number, number];
  addBottom: [number, number];
}

export function windowPatch(prev: RowWindow, next: RowWindow): WindowPatch | null {
  const keepStart = Math.max(prev.start, next.start);
  const keepEnd = Math.min(prev.end, next.end);
  if (keepStart >= keepEnd) return null;
  return {
    dropTop: keepStart - prev.start,
    dropBottom: prev.end - keepEnd,
    addTop: [next.start, keepStart],
    addBottom: [keepEnd, next.end],
  };
}

/** requestAnimationFrame / cancelAnimationFrame, injectable for tests. */
export interface Frames {
  request(cb: () => void): number;
  cancel(id: number): void;
}

export const browserFrames: Frames = {
  request: (cb) => requestAnimationFrame(() => cb()),
  cancel: (id) => cancelAnimationFrame(id),
};

/** Runs `job` at most once per animation frame however often `request` is called in between. */
export class FrameCoalescer {
  private id: number | null = null;

  constructor(
    private readonly job: () => void,
    private readonly frames: Frames = browserFrames,
  ) {}

  get pending(): boolean {
    return this.id !== null;
  }

  request(): void {
    if (this.id !== null) return;
    this.id = this.frames.request(() => {
      this.id = null;
      this.job();
    });
  }

  cancel(): void {
    if (this.id === null) return;
    this.frames.cancel(this.id);
    this.id = null;
  }
}
