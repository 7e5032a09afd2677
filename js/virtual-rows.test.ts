import { describe, expect, it } from "vitest";
import { covers, EMPTY_WINDOW, FrameCoalescer, rowWindow, visibleRange, windowPatch, type Frames, type RowWindow } from "./virtual-rows";

const base = { count: 10_000, rowHeight: 20, viewport: 400, overscan: 5 };

describe("visibleRange", () => {
  it("is the rows at least partly in view", () => {
    expect(visibleRange({ ...base, scrollTop: 0 })).toEqual({ first: 0, last: 20 });
    expect(visibleRange({ ...base, scrollTop: 10 })).toEqual({ first: 0, last: 21 });
    expect(visibleRange({ ...base, scrollTop: 100_000 })).toEqual({ first: 5000, last: 5020 });
  });

  it("subtracts the header above the first row", () => {
    expect(visibleRange({ ...base, scrollTop: 30, offset: 30 })).toEqual({ first: 0, last: 20 });
    expect(visibleRange({ ...base, scrollTop: 10, offset: 30 })).toEqual({ first: 0, last: 20 });
  });

  it("treats a scroll past the end (the list shrank) as the end", () => {
    expect(visibleRange({ ...base, count: 100, scrollTop: 1e9 })).toEqual({ first: 80, last: 100 });
    expect(visibleRange({ ...base, count: 10, scrollTop: 500 })).toEqual({ first: 0, last: 10 });
  });

  it("copes with nothing to show and with junk numbers", () => {
    expect(visibleRange({ ...base, count: 0, scrollTop: 0 })).toEqual({ first: 0, last: 0 });
    expect(visibleRange({ ...base, viewport: 0, scrollTop: 200 })).toEqual({ first: 10, last: 10 });
    expect(visibleRange({ count: 50, rowHeight: 0, viewport: NaN, scrollTop: -5 })).toEqual({ first: 0, last: 0 });
    expect(visibleRange({ count: NaN, rowHeight: 20, viewport: 400, scrollTop: 0 })).toEqual({ first: 0, last: 0 });
  });
});

describe("rowWindow", () => {
  it("builds the rows in view plus the overscan, with spacers for the rest", () => {
    expect(rowWindow({ ...base, scrollTop: 0 })).toEqual({ start: 0, end: 25, top: 0, bottom: (10_000 - 25) * 20 });
    const mid = rowWindow({ ...base, scrollTop: 100_000 });
    expect(mid).toEqual({ start: 4995, end: 5025, top: 4995 * 20, bottom: (10_000 - 5025) * 20 });
    const end = rowWindow({ ...base, scrollTop: 200_000 - 400 });
    expect(end).toEqual({ start: 9975, end: 10_000, top: 9975 * 20, bottom: 0 });
  });

  it("keeps the total height: spacers plus built rows are every row", () => {
    for (const scrollTop of [0, 1, 399, 4321, 77_777, 199_600, 1e7]) {
      const w = rowWindow({ ...base, scrollTop });
      expect(w.top + (w.end - w.start) * base.rowHeight + w.bottom).toBe(base.count * base.rowHeight);
      expect(w.end - w.start).toBeLessThanOrEqual(Math.ceil(base.viewport / base.rowHeight) + 1 + 2 * base.overscan);
    }
  });

  it("builds everything for a short list and nothing for an empty one", () => {
    expect(rowWindow({ ...base, count: 3, scrollTop: 0 })).toEqual({ start: 0, end: 3, top: 0, bottom: 0 });
    expect(rowWindow({ ...base, count: 0, scrollTop: 0 })).toBe(EMPTY_WINDOW);
  });

  it("uses a default overscan", () => {
    const w = rowWindow({ count: 1000, rowHeight: 20, viewport: 400, scrollTop: 10_000 });
    expect(w.start).toBeLessThan(500);
    expect(w.end).toBeGreaterThan(520);
  });
});

describe("covers", () => {
  it("says whether a scroll needs a rebuild", () => {
    const built = rowWindow({ ...base, scrollTop: 100_000 }); // 4995..5025, rows in view 5000..5020
    expect(covers(built, visibleRange({ ...base, scrollTop: 100_000 }))).toBe(true);
    expect(covers(built, visibleRange({ ...base, scrollTop: 100_000 - 5 * 20 }))).toBe(true); // 4995..5015
    expect(covers(built, visibleRange({ ...base, scrollTop: 100_000 - 6 * 20 }))).toBe(false);
    expect(covers(built, visibleRange({ ...base, scrollTop: 100_000 + 5 * 20 }))).toBe(true); // ..5025
    expect(covers(built, visibleRange({ ...base, scrollTop: 100_000 + 6 * 20 }))).toBe(false);
    expect(covers(EMPTY_WINDOW, visibleRange({ ...base, scrollTop: 0 }))).toBe(false);
    expect(covers(EMPTY_WINDOW, { first: 0, last: 0 })).toBe(true);
  });
});

describe("windowPatch", () => {
  const w = (start: number, end: number): RowWindow => ({ start, end, top: start, bottom: 100 - end });

  it("drops and adds only the rows at the ends", () => {
    expect(windowPatch(w(10, 40), w(15, 45))).toEqual({ dropTop: 5, dropBottom: 0, addTop: [15, 15], addBottom: [40, 45] });
    expect(windowPatch(w(10, 40), w(4, 34))).toEqual({ dropTop: 0, dropBottom: 6, addTop: [4, 10], addBottom: [34, 34] });
    expect(windowPatch(w(10, 40), w(12, 38))).toEqual({ dropTop: 2, dropBottom: 2, addTop: [12, 12], addBottom: [38, 38] });
    expect(windowPatch(w(10, 40), w(0, 50))).toEqual({ dropTop: 0, dropBottom: 0, addTop: [0, 10], addBottom: [40, 50] });
    expect(windowPatch(w(10, 40), w(10, 40))).toEqual({ dropTop: 0, dropBottom: 0, addTop: [10, 10], addBottom: [40, 40] });
  });

  it("is null when the windows share no row", () => {
    expect(windowPatch(w(10, 40), w(40, 70))).toBeNull();
    expect(windowPatch(w(50, 80), w(0, 30))).toBeNull();
    expect(windowPatch(EMPTY_WINDOW, w(0, 30))).toBeNull();
  });

  it("turns any window into any other (kept + added = the new window)", () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 500; i++) {
      const a = rand(90), b = a + 1 + rand(10), c = rand(90), d = c + 1 + rand(10);
      const p = windowPatch(w(a, b), w(c, d));
      if (!p) {
        expect(Math.max(a, c)).toBeGreaterThanOrEqual(Math.min(b, d));
        continue;
      }
      const kept = [a + p.dropTop, b - p.dropBottom];
      expect(p.addTop[1]).toBe(kept[0]);
      expect(p.addBottom[0]).toBe(kept[1]);
      expect([p.addTop[0], p.addBottom[1]]).toEqual([c, d]);
    }
  });
});

describe("FrameCoalescer", () => {
  function manualFrames(): Frames & { run(): void; queued: number } {
    let next = 1;
    const queue = new Map<number, () => void>();
    return {
      request(cb) {
        queue.set(next, cb);
        return next++;
      },
      cancel(id) {
        queue.delete(id);
      },
      run() {
        const cbs = [...queue.values()];
        queue.clear();
        for (const cb of cbs) cb();
      },
      get queued() {
        return queue.size;
      },
    };
  }

  it("runs the job once per frame however many requests came", () => {
    const frames = manualFrames();
    let runs = 0;
    const c = new FrameCoalescer(() => runs++, frames);
    for (let i = 0; i < 50; i++) c.request();
    expect(frames.queued).toBe(1);
    expect(c.pending).toBe(true);
    frames.run();
    expect(runs).toBe(1);
    expect(c.pending).toBe(false);
    c.request();
    frames.run();
    expect(runs).toBe(2);
  });

  it("can be cancelled (cleanup)", () => {
    const frames = manualFrames();
    let runs = 0;
    const c = new FrameCoalescer(() => runs++, frames);
    c.request();
    c.cancel();
    expect(frames.queued).toBe(0);
    frames.run();
    expect(runs).toBe(0);
    c.cancel(); // twice is fine
  });
});
