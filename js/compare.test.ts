import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Axes } from "./types";
import { linesOf, PLAN_DEBOUNCE_MS, readComparison, visibleParams } from "./views/compare";
import { settle, type FakeModel } from "./test/fake-model";
import { card, comparison, variant } from "./test/fixtures";
import { choose, mount, type, type Mounted } from "./test/mount";

const HOSTILE = "<img src=x onerror=alert(1)>";

let m: Mounted | null = null;

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date", "requestAnimationFrame", "cancelAnimationFrame"],
  });
});
afterEach(() => {
  m?.cleanup();
  m = null;
  document.body.textContent = "";
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Python's plan: the product of the axes (empty = one value), labelled A, B, … */
function planFor(axes: Axes, reused = 0, confirm_above: number | null = 4) {
  const prompts = axes.prompts.length ? axes.prompts : [null];
  const durations = axes.durations.length ? axes.durations : [null];
  const variants: Array<{ label: string; params: Record<string, string | number> }> = [];
  for (const p of prompts)
    for (const d of durations) {
      const params: Record<string, string | number> = {};
      if (p !== null) params["prompt"] = p;
      if (d !== null) params["duration"] = d;
      variants.push({ label: String.fromCharCode(65 + variants.length), params });
    }
  const differing = [...(axes.prompts.length > 1 ? ["prompt"] : []), ...(axes.durations.length > 1 ? ["duration"] : [])];
  return { count: variants.length, variants, differing, reused: Math.min(reused, variants.length), ...(confirm_above === null ? {} : { confirm_above }) };
}

function open(state: Parameters<typeof mount>[0] = {}, before?: (model: FakeModel) => void): Mounted {
  m = mount(state, before ? { before } : {});
  return m;
}

function expand(x: Mounted): void {
  if (x.q("kls-compare-body").hidden) x.q<HTMLButtonElement>("kls-compare-toggle").click();
}

async function planned(): Promise<void> {
  vi.advanceTimersByTime(PLAN_DEBOUNCE_MS);
  await settle();
}

const cell = (x: Mounted, label: string) => x.el.querySelector<HTMLElement>(`[data-testid="kls-compare-cell"][data-label="${label}"]`)!;
const inCell = <T extends Element = HTMLElement>(c: HTMLElement, id: string) => c.querySelector<T>(`[data-testid="${id}"]`)!;

describe("pure helpers", () => {
  it("reads one line per value, trimmed, without blanks or repeats", () => {
    expect(linesOf("  a cat \n\n a dog\r\na cat\n   ")).toEqual(["a cat", "a dog"]);
    expect(linesOf("")).toEqual([]);
  });

  it("keeps only the differing params", () => {
    expect(visibleParams({ prompt: "x", resolution: "720p", duration: 5 }, ["prompt", "duration"])).toEqual([
      ["prompt", "x"],
      ["duration", 5],
    ]);
    expect(visibleParams({ prompt: "x" }, null)).toEqual([["prompt", "x"]]);
    expect(visibleParams(null, ["prompt"])).toEqual([]);
  });

  it("reads a comparison defensively", () => {
    expect(readComparison(null)).toBeNull();
    expect(readComparison({ group_id: 3 })).toBeNull();
    const c = readComparison({ group_id: "g", variants: [{ rating: 9, label: "" }, "junk"] })!;
    expect(c.variants).toHaveLength(1);
    expect(c.variants[0]).toMatchObject({ label: "A", rating: null, local_id: null, note: "", winner: false });
  });
});

describe("the grid builder", () => {
  it("is collapsed and asks Python nothing until opened", async () => {
    const x = open();
    expect(x.q("kls-compare-body").hidden).toBe(true);
    await planned();
    expect(x.model.sentOf("compare_plan")).toHaveLength(0);
    x.model.answer("compare_plan", (msg) => planFor(msg["axes"] as Axes));
    expand(x);
    await planned();
    expect(x.model.sentOf("compare_plan")).toHaveLength(1);
    expect(x.q("kls-compare-plan").textContent).toBe("1 task (0 reused from history, 1 to pay)");
  });

  it("asks for the plan after a pause in typing and shows the count and the variants' differing params", async () => {
    const x = open();
    x.model.answer("compare_plan", (msg) => planFor(msg["axes"] as Axes, 1));
    expand(x);
    await planned();
    const before = x.model.sentOf("compare_plan").length;
    type(x.q("kls-compare-prompts"), "A cat\n");
    vi.advanceTimersByTime(100);
    type(x.q("kls-compare-prompts"), "A cat\nA dog\n\nA cat");
    choose(x.qa<HTMLInputElement>("kls-compare-duration").find((i) => i.value === "5")!, true);
    choose(x.qa<HTMLInputElement>("kls-compare-duration").find((i) => i.value === "10")!, true);
    expect(x.q("kls-compare-plan").textContent).toBe("Planning…");
    await planned();
    const sent = x.model.sentOf("compare_plan");
    expect(sent.length).toBe(before + 1); // debounced: one request for the burst
    expect(sent.at(-1)!.content["axes"]).toEqual({ prompts: ["A cat", "A dog"], negative_prompts: [], resolutions: [], durations: [5, 10], use_tail: [] });
    expect(x.q("kls-compare-plan").textContent).toBe("4 tasks (1 reused from history, 3 to pay)");
    const items = x.qa("kls-compare-plan-variant");
    expect(items.map((li) => li.dataset["label"])).toEqual(["A", "B", "C", "D"]);
    expect(items[1]!.textContent).toContain("A cat");
    expect(items[1]!.textContent).toContain("10 s");
  });

  it("sends the other axes: negative prompts, resolutions, with and without the last frame", async () => {
    const x = open();
    x.model.answer("compare_plan", (msg) => planFor(msg["axes"] as Axes));
    expand(x);
    type(x.q("kls-compare-negatives"), "blurry\n");
    choose(x.qa<HTMLInputElement>("kls-compare-resolution").find((i) => i.value === "1080p")!, true);
    choose(x.q("kls-compare-tail"), true);
    await planned();
    expect(x.model.sentOf("compare_plan").at(-1)!.content["axes"]).toEqual({
      prompts: [],
      negative_prompts: ["blurry"],
      resolutions: ["1080p"],
      durations: [],
      use_tail: [true, false],
    });
  });

  it("re-plans when the form changes (empty axes mean the form's values)", async () => {
    const x = open();
    x.model.answer("compare_plan", (msg) => planFor(msg["axes"] as Axes));
    expand(x);
    await planned();
    const n = x.model.sentOf("compare_plan").length;
    x.model.set("form", { ...x.model.get("form")!, prompt: "Something else" });
    await planned();
    expect(x.model.sentOf("compare_plan").length).toBe(n + 1);
  });

  it("ignores the answer to an older plan", async () => {
    const x = open();
    expand(x);
    type(x.q("kls-compare-prompts"), "one");
    await planned();
    const old = x.model.sentOf("compare_plan").at(-1)!.content["req_id"] as string;
    type(x.q("kls-compare-prompts"), "one\ntwo");
    await planned();
    const fresh = x.model.sentOf("compare_plan").at(-1)!.content["req_id"] as string;
    x.model.reply(fresh, planFor({ prompts: ["one", "two"], negative_prompts: [], resolutions: [], durations: [], use_tail: [] }));
    await settle();
    x.model.reply(old, planFor({ prompts: ["one"], negative_prompts: [], resolutions: [], durations: [], use_tail: [] }));
    await settle();
    expect(x.q("kls-compare-plan").textContent).toBe("2 tasks (0 reused from history, 2 to pay)");
  });

  it("shows a plan error from Python as text", async () => {
    const x = open();
    x.model.answer("compare_plan", () => ({ error: { message: `Prompt 2 is too long ${HOSTILE}`, field: "prompts" } }));
    expand(x);
    await planned();
    expect(x.q("kls-compare-plan").textContent).toBe(`Could not plan the comparison: Prompt 2 is too long ${HOSTILE}`);
    expect(x.el.querySelector("img")).toBeNull();
  });
});

describe("running a comparison", () => {
  async function ready(count: number, reused = 0, confirm_above: number | null = 4) {
    const x = open();
    const prompts = Array.from({ length: count }, (_, i) => `Prompt ${i}`);
    x.model.answer("compare_plan", (msg) => planFor(msg["axes"] as Axes, reused, confirm_above));
    x.model.answer("compare_run", () => ({ group_id: "g9" }));
    expand(x);
    type(x.q("kls-compare-prompts"), prompts.join("\n"));
    await planned();
    return x;
  }

  it("runs at once at or below confirm_above, unconfirmed", async () => {
    const x = await ready(4);
    x.q<HTMLButtonElement>("kls-compare-run").click();
    await settle();
    const runs = x.model.sentOf("compare_run");
    expect(runs).toHaveLength(1);
    expect(runs[0]!.content).toMatchObject({ confirmed: false, axes: { prompts: ["Prompt 0", "Prompt 1", "Prompt 2", "Prompt 3"] } });
    expect(x.q("kls-compare-message").textContent).toBe("Comparison started: 4 tasks.");
  });

  it("above confirm_above asks first, sends nothing until confirmed, then sends confirmed: true", async () => {
    const x = await ready(8);
    x.q<HTMLButtonElement>("kls-compare-run").click();
    await settle();
    expect(x.model.sentOf("compare_run")).toHaveLength(0);
    expect(x.q("kls-compare-confirm-box").hidden).toBe(false);
    expect(x.q("kls-compare-run").hidden).toBe(true);
    expect(x.q("kls-compare-confirm-text").textContent).toBe("Run 8 tasks? This sends 8 paid requests.");
    // Cancel: back to the button, still nothing sent.
    x.q<HTMLButtonElement>("kls-compare-cancel").click();
    expect(x.q("kls-compare-confirm-box").hidden).toBe(true);
    expect(x.q("kls-compare-run").hidden).toBe(false);
    await settle();
    expect(x.model.sentOf("compare_run")).toHaveLength(0);
    // Again, and confirm.
    x.q<HTMLButtonElement>("kls-compare-run").click();
    await settle();
    x.q<HTMLButtonElement>("kls-compare-confirm").click();
    await settle();
    const runs = x.model.sentOf("compare_run");
    expect(runs).toHaveLength(1);
    expect(runs[0]!.content["confirmed"]).toBe(true);
    expect((runs[0]!.content["axes"] as Axes).prompts).toHaveLength(8);
  });

  it("counts only the paid requests in the confirmation", async () => {
    const x = await ready(6, 2);
    x.q<HTMLButtonElement>("kls-compare-run").click();
    await settle();
    expect(x.q("kls-compare-confirm-text").textContent).toBe("Run 6 tasks? This sends 4 paid requests. (2 reused from history.)");
  });

  it("a change to the grid while asking drops the confirmation", async () => {
    const x = await ready(8);
    x.q<HTMLButtonElement>("kls-compare-run").click();
    await settle();
    type(x.q("kls-compare-prompts"), "just one");
    expect(x.q("kls-compare-confirm-box").hidden).toBe(true);
    await planned();
    expect(x.model.sentOf("compare_run")).toHaveLength(0);
  });

  it("gets the plan first when Run is pressed before it arrived", async () => {
    const x = await ready(2);
    type(x.q("kls-compare-prompts"), "a\nb\nc\nd\ne");
    x.q<HTMLButtonElement>("kls-compare-run").click();
    await settle();
    expect(x.model.sentOf("compare_run")).toHaveLength(0);
    expect(x.q("kls-compare-confirm-text").textContent).toBe("Run 5 tasks? This sends 5 paid requests.");
    expect((x.model.sentOf("compare_plan").at(-1)!.content["axes"] as Axes).prompts).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("without a known threshold lets Python refuse, then asks for confirmation", async () => {
    const x = await ready(6, 0, null);
    x.model.answer("compare_run", (msg) => (msg["confirmed"] ? { group_id: "g1" } : { error: { message: "6 tasks need confirmed: true", field: "confirmed" } }));
    x.q<HTMLButtonElement>("kls-compare-run").click();
    await settle();
    expect(x.q("kls-compare-confirm-box").hidden).toBe(false);
    x.q<HTMLButtonElement>("kls-compare-confirm").click();
    await settle();
    expect(x.model.sentOf("compare_run").map((s) => s.content["confirmed"])).toEqual([false, true]);
  });

  it("shows Python's error reply next to the button", async () => {
    const x = await ready(2);
    x.model.answer("compare_run", () => ({ error: { message: `Add a first-frame picture. ${HOSTILE}` } }));
    x.q<HTMLButtonElement>("kls-compare-run").click();
    await settle();
    expect(x.q("kls-compare-message").textContent).toBe(`Add a first-frame picture. ${HOSTILE}`);
    expect(x.el.querySelector("img")).toBeNull();
    expect(x.q<HTMLButtonElement>("kls-compare-run").disabled).toBe(false);
  });
});

describe("the comparison grid", () => {
  it("opens the section and shows one cell per variant with only the differing params", () => {
    const x = open({
      comparison: comparison({
        differing: ["prompt", "duration"],
        variants: [
          variant({ params: { prompt: "A cat", duration: 5, resolution: "720p" } }),
          variant({ local_id: "v2", label: "B", params: { prompt: "A cat", duration: 10, resolution: "720p" } }),
        ],
      }),
    });
    expect(x.q("kls-compare-body").hidden).toBe(false);
    expect(x.q("kls-compare-title").textContent).toBe("Cat prompts");
    const cells = x.qa("kls-compare-cell");
    expect(cells.map((c) => c.dataset["label"])).toEqual(["A", "B"]);
    const params = (c: HTMLElement) => Array.from(c.querySelectorAll<HTMLElement>(".kls-compare-param")).map((p) => p.dataset["param"]);
    expect(params(cells[1]!)).toEqual(["prompt", "duration"]);
    expect(cells[1]!.textContent).toContain("10 s");
    expect(cells[1]!.textContent).not.toContain("720p");
    expect(x.q("kls-compare-grid").contains(cells[0]!)).toBe(true);
  });

  it("shows status and progress while running, the error when failed, and live progress from task messages", () => {
    const x = open({
      comparison: comparison({
        variants: [
          variant({ status: "processing", progress: 30 }),
          variant({ local_id: "v2", label: "B", status: "failed", error: { code: "content_policy", message: "Refused." } }),
        ],
      }),
    });
    const a = cell(x, "A");
    expect(inCell(a, "kls-compare-status").textContent).toBe("processing");
    expect(inCell(a, "kls-compare-progress").hidden).toBe(false);
    expect(inCell(a, "kls-compare-progress").getAttribute("aria-valuenow")).toBe("30");
    x.model.deliver({ kind: "task", card: card({ local_id: "v1", status: "processing", progress: 64 }) });
    expect(inCell(a, "kls-compare-progress").getAttribute("aria-valuenow")).toBe("64");
    const b = cell(x, "B");
    expect(inCell(b, "kls-compare-progress").hidden).toBe(true);
    expect(inCell(b, "kls-compare-error").textContent).toBe("content_policy: Refused.");
  });

  it("shows hostile strings in params and notes as text, creating no element", () => {
    const x = open({
      comparison: comparison({
        title: HOSTILE,
        variants: [variant({ params: { prompt: HOSTILE }, note: HOSTILE, label: HOSTILE, error: { code: HOSTILE, message: HOSTILE } })],
      }),
    });
    const c = x.q("kls-compare-cell");
    expect(c.textContent).toContain(HOSTILE);
    expect(c.querySelector(".kls-compare-param dd")!.textContent).toBe(HOSTILE);
    expect(inCell<HTMLInputElement>(c, "kls-compare-note").value).toBe(HOSTILE);
    expect(x.q("kls-compare-title").textContent).toBe(HOSTILE);
    expect(x.el.querySelector("img")).toBeNull();
  });

  it("sends rating, winner and note with `rate`, and reflects the trait", async () => {
    const x = open({ comparison: comparison() });
    x.model.answer("rate", () => null);
    const b = cell(x, "B");
    choose(inCell(b, "kls-compare-rating"), "4");
    choose(inCell(b, "kls-compare-winner"), true);
    const note = inCell<HTMLInputElement>(b, "kls-compare-note");
    note.focus();
    note.value = `Best motion ${HOSTILE}`;
    note.dispatchEvent(new Event("change"));
    note.blur(); // same value: not sent twice
    await settle();
    expect(x.model.sentOf("rate").map((s) => s.content)).toEqual([
      expect.objectContaining({ local_id: "v2", rating: 4 }),
      expect.objectContaining({ local_id: "v2", winner: true }),
      expect.objectContaining({ local_id: "v2", note: `Best motion ${HOSTILE}` }),
    ]);
    expect(x.model.sentOf("rate").every((s) => Object.keys(s.content).length === 4)).toBe(true); // kind, req_id, local_id, one change
    x.model.set("comparison", comparison({ variants: [variant({ rating: 2, winner: true, note: "from Python" }), variant({ local_id: "v2", label: "B" })] }));
    const a = cell(x, "A");
    expect(inCell<HTMLSelectElement>(a, "kls-compare-rating").value).toBe("2");
    expect(inCell<HTMLSelectElement>(b, "kls-compare-rating").value).toBe(""); // the trait wins
    choose(inCell(a, "kls-compare-rating"), ""); // "No rating": removes it
    expect(x.model.sentOf("rate").at(-1)!.content).toMatchObject({ local_id: "v1", rating: null });
    expect(inCell<HTMLInputElement>(a, "kls-compare-winner").checked).toBe(true);
    expect(inCell<HTMLInputElement>(a, "kls-compare-note").value).toBe("from Python");
  });

  it("does not overwrite a note being typed; a failed save says so", async () => {
    const x = open({ comparison: comparison() });
    x.model.answer("rate", () => ({ error: { message: "no task v1" } }));
    const note = inCell<HTMLInputElement>(cell(x, "A"), "kls-compare-note");
    note.focus();
    note.value = "typing";
    x.model.set("comparison", comparison({ variants: [variant({ note: "older" }), variant({ local_id: "v2", label: "B" })] }));
    expect(note.value).toBe("typing");
    note.blur();
    await settle();
    expect(x.model.sentOf("rate").at(-1)!.content).toMatchObject({ note: "typing" });
    expect(inCell(cell(x, "A"), "kls-compare-rate-error").textContent).toBe("Not saved: no task v1");
  });

  it("has no judging controls for a variant without a task yet", () => {
    const x = open({ comparison: comparison({ variants: [variant({ local_id: null, status: "submitting" })] }) });
    expect(inCell<HTMLSelectElement>(x.q("kls-compare-cell"), "kls-compare-rating").disabled).toBe(true);
  });
});

/** Gives a happy-dom video what real media has after loadedmetadata. */
function loadMedia(video: HTMLVideoElement, duration: number): void {
  Object.defineProperty(video, "duration", { value: duration, configurable: true });
  video.dispatchEvent(new Event("loadedmetadata"));
}

describe("the players", () => {
  const withVideos = () =>
    comparison({
      variants: [
        variant({ has_video: true }),
        variant({ local_id: "v2", label: "B", has_video: true }),
        variant({ local_id: "v3", label: "C", has_video: true }),
      ],
    });

  async function withPlayers(urls: Record<string, string | null> = { v1: "https://cdn.example/a.mp4", v2: "https://cdn.example/b.mp4", v3: "https://cdn.example/c.mp4" }) {
    const x = open({ comparison: withVideos() }, (model) => {
      model.answer("video", (msg) => {
        // force_bytes: Python answers with the bytes (protocol extension `video.force_bytes`).
        const url = msg["force_bytes"] ? null : (urls[msg["local_id"] as string] ?? null);
        if (url === null) {
          queueMicrotask(() => model.deliver({ kind: "video_chunk", req_id: msg["req_id"], seq: 0, total: 1, mime: "video/mp4" }, [new Uint8Array([1, 2]).buffer]));
        }
        return { url, mime: "video/mp4", size: null, chunks: url === null ? 1 : 0 };
      });
    });
    for (let i = 0; i < 3; i++) await settle(); // the video limiter runs two at a time
    return x;
  }

  it("loads each variant's video through the video logic, without own controls, preloaded, inline", async () => {
    const x = await withPlayers({ v1: "https://cdn.example/a.mp4", v2: "javascript:alert(1)", v3: null });
    const videos = x.qa<HTMLVideoElement>("kls-compare-video");
    expect(videos).toHaveLength(3);
    expect(x.model.sentOf("video").map((s) => s.content["local_id"]).sort()).toEqual(["v1", "v2", "v2", "v3"]);
    expect(videos[0]!.getAttribute("src")).toBe("https://cdn.example/a.mp4");
    expect(videos[1]!.getAttribute("src")).toMatch(/^blob:/); // refused URL -> bytes
    expect(videos[2]!.getAttribute("src")).toMatch(/^blob:/);
    for (const v of videos) {
      expect(v.hasAttribute("controls")).toBe(false);
      expect(v.loop).toBe(false);
      expect(v.getAttribute("preload")).toBe("auto");
      expect(v.hasAttribute("playsinline")).toBe(true);
      expect(v.muted).toBe(true);
    }
  });

  it("gives the sound to the first cell only, and drives every player from one bar", async () => {
    const x = await withPlayers();
    const videos = x.qa<HTMLVideoElement>("kls-compare-video");
    const play = x.q<HTMLButtonElement>("kls-compare-play");
    expect(play.disabled).toBe(true);
    loadMedia(videos[1]!, 5);
    expect(videos.map((v) => v.muted)).toEqual([true, false, true]); // first ready leads until A is ready
    loadMedia(videos[0]!, 5);
    loadMedia(videos[2]!, 4);
    expect(videos.map((v) => v.muted)).toEqual([false, true, true]);
    expect(play.disabled).toBe(false);
    const seek = x.q<HTMLInputElement>("kls-compare-seek");
    expect(seek.max).toBe("4"); // the shortest video

    const idle = vi.getTimerCount();
    play.click();
    expect(videos.every((v) => !v.paused)).toBe(true);
    expect(play.textContent).toBe("Pause");
    expect(vi.getTimerCount()).toBe(idle + 1); // the frame loop

    // A follower drifts; the next frame pulls it back.
    videos[0]!.currentTime = 1;
    videos[1]!.currentTime = 1.5;
    videos[2]!.currentTime = 1.05;
    vi.advanceTimersToNextFrame();
    expect(videos.map((v) => v.currentTime)).toEqual([1, 1, 1.05]);
    expect(x.q("kls-compare-time").textContent).toBe("1.0 / 4.0 s");

    seek.value = "2.5";
    seek.dispatchEvent(new Event("input"));
    seek.dispatchEvent(new Event("change"));
    expect(videos.map((v) => v.currentTime)).toEqual([2.5, 2.5, 2.5]);

    play.click();
    expect(videos.every((v) => v.paused)).toBe(true);
    expect(play.textContent).toBe("Play");
    expect(vi.getTimerCount()).toBe(idle); // the frame loop is cancelled
  });

  it("loop toggle: with loop the players restart at the end, without they stop", async () => {
    const x = await withPlayers();
    const videos = x.qa<HTMLVideoElement>("kls-compare-video");
    videos.forEach((v) => loadMedia(v, 5));
    const loop = x.q<HTMLInputElement>("kls-compare-loop");
    expect(loop.checked).toBe(true);
    x.q<HTMLButtonElement>("kls-compare-play").click();
    videos.forEach((v) => (v.currentTime = 4.99));
    vi.advanceTimersToNextFrame();
    expect(videos.map((v) => v.currentTime)).toEqual([0, 0, 0]);
    expect(videos.every((v) => !v.paused)).toBe(true);
    choose(loop, false);
    videos.forEach((v) => (v.currentTime = 4.99));
    vi.advanceTimersToNextFrame();
    expect(videos.every((v) => v.paused)).toBe(true);
    expect(x.q("kls-compare-play").textContent).toBe("Play");
  });

  it("collapsing the section pauses the players", async () => {
    const x = await withPlayers();
    const videos = x.qa<HTMLVideoElement>("kls-compare-video");
    videos.forEach((v) => loadMedia(v, 5));
    x.q<HTMLButtonElement>("kls-compare-play").click();
    x.q<HTMLButtonElement>("kls-compare-toggle").click();
    expect(videos.every((v) => v.paused)).toBe(true);
  });

  it("a new comparison replaces the cells and stops the old players", async () => {
    const x = await withPlayers({ v1: null, v2: null, v3: null });
    const old = x.qa<HTMLVideoElement>("kls-compare-video");
    expect(old[0]!.getAttribute("src")).toMatch(/^blob:/);
    const blobs = x.urls.created.map((u) => u.url);
    x.model.set("comparison", comparison({ group_id: "g2", variants: [variant({ local_id: "w1", label: "A", params: { prompt: "new" } })] }));
    expect(x.qa("kls-compare-cell")).toHaveLength(1);
    expect(old.every((v) => !v.hasAttribute("src"))).toBe(true);
    expect(x.urls.revoked.sort()).toEqual(blobs.sort());
    x.model.set("comparison", null);
    expect(x.qa("kls-compare-cell")).toHaveLength(0);
  });
});

describe("cleanup", () => {
  it("leaves no listeners, timers or animation frames, revokes URLs and pauses the videos", async () => {
    const x = open(
      {
        comparison: comparison({
          variants: [variant({ has_video: true }), variant({ local_id: "v2", label: "B", has_video: true, status: "processing" })],
        }),
      },
      (model) => {
        model.answer("video", (msg) => {
          queueMicrotask(() => model.deliver({ kind: "video_chunk", req_id: msg["req_id"], seq: 0, total: 1, mime: "video/mp4" }, [new Uint8Array([7]).buffer]));
          return { url: null, mime: "video/mp4", size: 1, chunks: 1 };
        });
      },
    );
    for (let i = 0; i < 3; i++) await settle();
    const videos = x.qa<HTMLVideoElement>("kls-compare-video");
    expect(videos).toHaveLength(2);
    videos.forEach((v) => loadMedia(v, 5));
    const pauses = videos.map((v) => vi.spyOn(v, "pause"));
    x.q<HTMLButtonElement>("kls-compare-play").click(); // a running frame loop
    type(x.q("kls-compare-prompts"), "pending plan"); // a pending debounce
    x.model.answer("rate", () => undefined);
    choose(inCell(cell(x, "A"), "kls-compare-rating"), "3"); // a pending request
    expect(vi.getTimerCount()).toBeGreaterThan(0);

    x.cleanup();
    m = null;

    expect(x.model.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(x.urls.created.length).toBe(2);
    expect(x.urls.revoked.sort()).toEqual(x.urls.created.map((u) => u.url).sort());
    expect(pauses.every((p) => p.mock.calls.length > 0)).toBe(true);
    expect(videos.every((v) => v.paused && !v.hasAttribute("src"))).toBe(true);
    expect(x.el.childElementCount).toBe(0);
    const sent = x.model.sent.length;
    x.model.set("comparison", comparison({ group_id: "late" }));
    vi.advanceTimersByTime(10_000);
    expect(x.model.sent.length).toBe(sent);
  });
});
