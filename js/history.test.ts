import { afterEach, describe, expect, it, vi } from "vitest";
import { Rpc } from "./rpc";
import { Scope } from "./scope";
import { FakeModel, settle } from "./test/fake-model";
import { card, historyRow } from "./test/fixtures";
import type { HistoryRow } from "./types";
import { readCard, tickTimes, timesText } from "./views/cards";
import { COLUMNS, HistoryView, PAGE_SIZES, renderHistoryRows, ROW_HEIGHT } from "./views/history";
import type { Frames } from "./virtual-rows";

describe("renderHistoryRows", () => {
  it("makes one row per record with the columns as text", () => {
    const frag = renderHistoryRows([historyRow(7), historyRow(8)], "L8");
    const trs = Array.from(frag.children) as HTMLElement[];
    expect(trs.map((tr) => tr.getAttribute("data-testid"))).toEqual(["kls-history-row", "kls-history-row"]);
    const cells = Array.from(trs[0]!.children).map((td) => td.textContent);
    expect(cells).toHaveLength(COLUMNS.length);
    expect(cells[0]).toBe("failed");
    expect(cells[1]).toBe("Prompt number 7");
    expect(cells[2]).toBe("720p · 5 s · no audio");
    expect(cells[4]).toBe("45 s");
    expect(cells[5]).toBe("content_policy: The prompt was refused.");
    expect((trs[0]!.children[5] as HTMLElement).title).toBe("content_policy: The prompt was refused.");
    expect((trs[0]!.children[1] as HTMLElement).title).toBe("Prompt number 7");
    expect((trs[1]!.children[5] as HTMLElement).hasAttribute("title")).toBe(false);
    expect(trs[1]!.getAttribute("aria-selected")).toBe("true");
    expect(trs.map((tr) => tr.getAttribute("aria-rowindex"))).toEqual(["2", "3"]);
  });
});

// A HistoryView on a fake model, with frames run by hand and the table's layout faked where
// happy-dom has none (clientHeight).
function manualFrames(): Frames & { run(): void; queued(): number } {
  let next = 1;
  const queue = new Map<number, () => void>();
  return {
    request: (cb) => (queue.set(next, cb), next++),
    cancel: (id) => void queue.delete(id),
    run() {
      const cbs = [...queue.values()];
      queue.clear();
      cbs.forEach((cb) => cb());
    },
    queued: () => queue.size,
  };
}

const ALL: HistoryRow[] = Array.from({ length: 10_000 }, (_, i) => historyRow(i));

function openHistory(pageSize?: number, viewport = 390) {
  const model = new FakeModel();
  const scope = new Scope();
  const rpc = new Rpc(model, scope);
  const frames = manualFrames();
  const view = new HistoryView(rpc, scope, pageSize, frames);
  const chosen: string[] = [];
  view.onSelect = (id) => chosen.push(id);
  model.answer("history", (msg) => ({ rows: ALL.slice(msg["offset"], msg["offset"] + msg["limit"]), total: ALL.length }));
  document.body.appendChild(view.el);
  const q = <T extends Element = HTMLElement>(id: string): T => view.el.querySelector<T>(`[data-testid="${id}"]`)!;
  const wrap = q("kls-history-scroll");
  Object.defineProperty(wrap, "clientHeight", { configurable: true, get: () => viewport });
  const rows = () => Array.from(view.el.querySelectorAll<HTMLElement>('[data-testid="kls-history-row"]'));
  const ids = () => rows().map((tr) => tr.getAttribute("data-local-id"));
  // A spacer's height, or null when it is hidden (nothing left out on that side).
  const spacer = (which: string) => {
    const tr = view.el.querySelector<HTMLElement>(`[data-spacer="${which}"]`);
    return !tr || tr.hidden ? null : (tr.firstElementChild as HTMLElement).style.height;
  };
  const scrollTo = (y: number) => {
    wrap.scrollTop = y;
    wrap.dispatchEvent(new Event("scroll"));
  };
  return { model, scope, view, frames, q, wrap, rows, ids, spacer, scrollTo, chosen };
}

describe("the windowed history table", () => {
  afterEach(() => {
    document.body.textContent = "";
    vi.restoreAllMocks();
  });

  it("builds only the rows in view of a 10,000-row page, with spacers for the rest", async () => {
    const x = openHistory(10_000);
    x.view.refresh();
    await settle();
    expect(x.model.sentOf("history").at(-1)?.content).toMatchObject({ offset: 0, limit: 10_000 });
    const n = x.rows().length;
    expect(n).toBeGreaterThanOrEqual(Math.ceil(390 / ROW_HEIGHT));
    expect(n).toBeLessThan(60);
    expect(x.ids()[0]).toBe("L0");
    expect(x.spacer("top")).toBeNull();
    expect(x.spacer("bottom")).toBe(`${(10_000 - n) * ROW_HEIGHT}px`);
    expect(x.q("kls-history-range").textContent).toBe("1–10,000 of 10,000");
    expect(x.view.el.querySelector("table")?.getAttribute("aria-rowcount")).toBe("10001");
    x.scope.dispose();
  });

  it("takes a 10,000-row reply quickly (timing logged, not asserted: see benchmarks/widget.py)", async () => {
    const x = openHistory(10_000);
    x.model.answer("history", () => undefined); // answer by hand, to time the reply alone
    x.view.refresh();
    const req = x.model.sentOf("history").at(-1)!.content;
    const t0 = performance.now();
    x.model.reply(req["req_id"], { rows: ALL, total: ALL.length });
    await settle();
    const ms = performance.now() - t0;
    console.log(`history: a 10,000-row page shown in ${ms.toFixed(1)} ms, ${x.rows().length} rows built (happy-dom)`);
    expect(x.ids().at(0)).toBe("L0");
    x.scope.dispose();
  });

  it("rebuilds on scroll at most once a frame, and only when the rows in view leave the window", async () => {
    const x = openHistory(10_000);
    x.view.refresh();
    await settle();
    for (let i = 1; i <= 20; i++) x.scrollTo(i * 250 * ROW_HEIGHT); // a fast drag: 20 scroll events
    expect(x.frames.queued()).toBe(1);
    expect(x.ids()[0]).toBe("L0"); // nothing rebuilt before the frame
    x.frames.run();
    const ids = x.ids();
    expect(ids).toContain("L5000");
    expect(ids).toContain("L5010");
    expect(ids).not.toContain("L4980");
    const start = Number(ids[0]!.slice(1));
    expect(x.spacer("top")).toBe(`${start * ROW_HEIGHT}px`);
    expect(x.rows()[0]!.getAttribute("aria-rowindex")).toBe(String(start + 2));
    // A small scroll inside the overscan keeps the very same row elements.
    const before = x.rows()[0];
    x.scrollTo(5002 * ROW_HEIGHT);
    x.frames.run();
    expect(x.rows()[0]).toBe(before);
    // The end: the last row is built and there is no bottom spacer.
    x.scrollTo(10_000 * ROW_HEIGHT);
    x.frames.run();
    expect(x.ids().at(-1)).toBe("L9999");
    expect(x.spacer("bottom")).toBeNull();
    x.scope.dispose();
  });

  it("moves the window by its ends: shared rows stay, the DOM always matches the window", async () => {
    const x = openHistory(10_000);
    x.view.refresh();
    await settle();
    x.scrollTo(2000 * ROW_HEIGHT);
    x.frames.run();
    const shared = x.rows().find((r) => r.getAttribute("data-local-id") === "L2020")!;
    x.scrollTo(2012 * ROW_HEIGHT); // past the overscan, but most rows are shared
    x.frames.run();
    expect(x.rows()).toContain(shared);
    let seed = 11;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 200; i++) {
      // Mostly small steps either way, sometimes a jump.
      const y = i % 17 === 0 ? rand(10_000) * ROW_HEIGHT : Math.max(0, x.wrap.scrollTop + (rand(41) - 20) * ROW_HEIGHT);
      x.scrollTo(y);
      x.frames.run();
      const ids = x.ids().map((id) => Number(id!.slice(1)));
      const start = ids[0]!;
      expect(ids).toEqual(ids.map((_, k) => start + k)); // contiguous, in order
      const index = x.rows().map((tr) => Number(tr.getAttribute("aria-rowindex")));
      expect(index).toEqual(ids.map((n) => n + 2));
      const top = x.spacer("top"), bottom = x.spacer("bottom");
      expect(top ?? "0px").toBe(`${start * ROW_HEIGHT}px`);
      expect(bottom ?? "0px").toBe(`${(10_000 - start - ids.length) * ROW_HEIGHT}px`);
      const first = Math.min(Math.floor(Math.max(0, y) / ROW_HEIGHT), 10_000 - 1);
      expect(start).toBeLessThanOrEqual(first); // the row at the top of the view is built
      expect(start + ids.length).toBeGreaterThan(Math.min(first + 14, 9_999));
    }
    x.scope.dispose();
  }, 30_000); // 200 checked scrolls of a 10,000-row page: seconds on a loaded 2-core machine

  it("selects a clicked row, and the selection survives rebuilding the window", async () => {
    const x = openHistory(10_000);
    x.view.refresh();
    await settle();
    x.scrollTo(3000 * ROW_HEIGHT);
    x.frames.run();
    const tr = x.rows().find((r) => r.getAttribute("data-local-id") === "L3004")!;
    (tr.children[1] as HTMLElement).click();
    await settle();
    expect(tr.getAttribute("aria-selected")).toBe("true");
    expect(x.chosen).toEqual(["L3004"]);
    x.scrollTo(0);
    x.frames.run();
    expect(x.view.el.querySelector('[aria-selected="true"]')).toBeNull();
    x.scrollTo(3000 * ROW_HEIGHT);
    x.frames.run();
    expect(x.view.el.querySelector('[aria-selected="true"]')?.getAttribute("data-local-id")).toBe("L3004");
    // Clicking a spacer selects nothing.
    (x.view.el.querySelector('[data-spacer="top"] > td') as HTMLElement).click();
    expect(x.view.el.querySelectorAll('[aria-selected="true"]')).toHaveLength(1);
    x.scope.dispose();
  });

  it("offers page sizes up to 10,000 and keeps the first row's page when the size changes", async () => {
    const x = openHistory(); // 50 by default
    x.view.refresh();
    await settle();
    const select = x.q<HTMLSelectElement>("kls-history-page-size");
    expect(Array.from(select.options).map((o) => Number(o.value))).toEqual(PAGE_SIZES);
    expect(select.value).toBe("50");
    expect(Array.from(select.options).map((o) => o.textContent)).toContain("10,000 per page");
    for (let i = 0; i < 12; i++) x.q<HTMLButtonElement>("kls-history-next").click(), await settle();
    expect(x.model.sentOf("history").at(-1)?.content).toMatchObject({ offset: 600, limit: 50 });
    x.wrap.scrollTop = 300;
    select.value = "500";
    select.dispatchEvent(new Event("change"));
    await settle();
    expect(x.model.sentOf("history").at(-1)?.content).toMatchObject({ offset: 500, limit: 500 });
    expect(x.wrap.scrollTop).toBe(0); // another page starts at its top
    expect(x.q("kls-history-range").textContent).toBe("501–1,000 of 10,000");
    expect(x.ids()[0]).toBe("L500");
    select.value = "10000";
    select.dispatchEvent(new Event("change"));
    await settle();
    expect(x.model.sentOf("history").at(-1)?.content).toMatchObject({ offset: 0, limit: 10_000 });
    expect(x.q<HTMLButtonElement>("kls-history-next").disabled).toBe(true);
    x.scope.dispose();
  });

  it("keeps the scroll position when the same page is refreshed (history changed)", async () => {
    const x = openHistory(10_000);
    x.view.refresh();
    await settle();
    x.scrollTo(7000 * ROW_HEIGHT);
    x.frames.run();
    x.view.refresh();
    await settle();
    expect(x.wrap.scrollTop).toBe(7000 * ROW_HEIGHT);
    expect(x.ids()).toContain("L7005");
    x.scope.dispose();
  });

  it("a page size outside the list is offered too, and limits are clamped to 10,000", () => {
    expect(Array.from(openHistory(2).q<HTMLSelectElement>("kls-history-page-size").options).map((o) => o.value)).toEqual(["2", "50", "500", "10000"]);
    expect(openHistory(50_000).q<HTMLSelectElement>("kls-history-page-size").value).toBe("10000");
  });

  it("measures the real row height once rows are laid out", async () => {
    // A fake layout: each built row is 31 px tall, in order.
    vi.spyOn(HTMLElement.prototype, "getBoundingClientRect").mockImplementation(function (this: HTMLElement) {
      const i = Number(this.getAttribute("aria-rowindex") ?? "0");
      return { top: i * 31, bottom: i * 31 + 31, height: 31, left: 0, right: 0, width: 0, x: 0, y: i * 31, toJSON: () => ({}) } as DOMRect;
    });
    const x = openHistory(10_000);
    x.view.refresh();
    await settle();
    const n = x.rows().length;
    expect(x.spacer("bottom")).toBe(`${(10_000 - n) * 31}px`);
    x.scrollTo(5000 * 31);
    x.frames.run();
    expect(x.ids()).toContain("L5000");
    expect(x.spacer("top")).toBe(`${Number(x.ids()[0]!.slice(1)) * 31}px`);
    x.scope.dispose();
  });

  it("cleanup cancels a pending frame and stops listening to scrolls", async () => {
    const x = openHistory(10_000);
    x.view.refresh();
    await settle();
    x.scrollTo(5000 * ROW_HEIGHT);
    expect(x.frames.queued()).toBe(1);
    x.scope.dispose();
    expect(x.frames.queued()).toBe(0);
    x.scrollTo(100);
    expect(x.frames.queued()).toBe(0);
  });
});

describe("card times", () => {
  it("tick from the last update for running tasks only", () => {
    const c = card({ elapsed: 10, remaining: 5 });
    expect(tickTimes(c, 1000, 4000)).toEqual({ elapsed: 13, remaining: 2 });
    expect(tickTimes(c, 1000, 9000)).toEqual({ elapsed: 18, remaining: 0 });
    expect(timesText(c, 1000, 9000)).toBe("Elapsed 18 s · finishing…");
    const done = card({ status: "completed", elapsed: 61, remaining: null });
    expect(timesText(done, 0, 99_000)).toBe("Took 1 min 01 s");
  });

  it("reads partial or junk cards safely", () => {
    expect(readCard(null)).toBeNull();
    expect(readCard({ status: "pending" })).toBeNull();
    const c = readCard({ local_id: "x", progress: 250, settings: null, error: { code: 5, message: "m" } })!;
    expect(c.progress).toBe(100);
    expect(c.status).toBe("unknown");
    expect(c.error).toEqual({ code: null, message: "m" });
  });
});
