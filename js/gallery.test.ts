import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mergeItems } from "./gallery-items";
import { resetPosterRoutes } from "./media-route";
import { columnsFromLefts, moveIndex } from "./gallery-keys";
import { chooseLayout, NARROW_BELOW } from "./layout";
import { Selection } from "./selection";
import { isGenerateKey, isStudioKey, SUPPRESS } from "./keyboard";
import { settle } from "./test/fake-model";
import { card, historyRow } from "./test/fixtures";
import { mount, type Mounted } from "./test/mount";

const POSTER = "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2w==";

describe("the layout for a width", () => {
  it("puts the inputs beside the player when wide, and stacks them in a side panel", () => {
    expect(chooseLayout(1280)).toBe("wide");
    expect(chooseLayout(1000)).toBe("wide");
    expect(chooseLayout(600)).toBe("narrow");
    expect(chooseLayout(NARROW_BELOW - 1)).toBe("narrow");
    expect(chooseLayout(NARROW_BELOW)).toBe("wide");
  });

  it("does not flip back and forth right at the edge, and keeps its choice while hidden (width 0)", () => {
    expect(chooseLayout(NARROW_BELOW + 5, "narrow")).toBe("narrow");
    expect(chooseLayout(NARROW_BELOW - 5, "wide")).toBe("wide");
    expect(chooseLayout(NARROW_BELOW + 40, "narrow")).toBe("wide");
    expect(chooseLayout(0, "narrow")).toBe("narrow");
    expect(chooseLayout(0)).toBe("wide");
  });
});

describe("moving in the gallery with the keys", () => {
  it("moves by one sideways and by a row up and down, staying inside", () => {
    // 10 tiles in rows of 4: 0-3, 4-7, 8-9.
    expect(moveIndex("ArrowRight", 0, 10, 4)).toBe(1);
    expect(moveIndex("ArrowLeft", 0, 10, 4)).toBe(0);
    expect(moveIndex("ArrowDown", 1, 10, 4)).toBe(5);
    expect(moveIndex("ArrowUp", 5, 10, 4)).toBe(1);
    expect(moveIndex("ArrowUp", 2, 10, 4)).toBe(2);
    expect(moveIndex("ArrowRight", 9, 10, 4)).toBe(9);
    // Below the short last row: stays (nothing under it).
    expect(moveIndex("ArrowDown", 7, 10, 4)).toBe(7);
    expect(moveIndex("Home", 7, 10, 4)).toBe(0);
    expect(moveIndex("End", 2, 10, 4)).toBe(9);
    expect(moveIndex("a", 2, 10, 4)).toBeNull();
    expect(moveIndex("ArrowDown", 0, 0, 4)).toBeNull();
  });

  it("counts the columns from the tiles' left edges", () => {
    expect(columnsFromLefts([0, 180, 360, 0, 180])).toBe(3);
    expect(columnsFromLefts([0, 0, 0])).toBe(1);
    expect(columnsFromLefts([])).toBe(1);
  });
});

describe("the selection of clips to join", () => {
  it("keeps the order of picking, toggles, and extends a range with Shift in the gallery's order", () => {
    const s = new Selection();
    s.toggle("c");
    s.toggle("a");
    expect(s.ids).toEqual(["c", "a"]);
    s.toggle("c");
    expect(s.ids).toEqual(["a"]);
    const order = ["a", "b", "c", "d", "e"];
    s.toggle("a");
    s.toggle("a"); // the last one clicked is where a range starts
    s.extend("d", order);
    expect(s.ids).toEqual(["a", "b", "c", "d"]);
    s.clear();
    s.toggle("e");
    s.extend("c", order); // upwards: from the anchor outwards
    expect(s.ids).toEqual(["e", "d", "c"]);
    s.retain((id) => id !== "d");
    expect(s.ids).toEqual(["e", "c"]);
  });
});

describe("the gallery's items", () => {
  it("lays this session's cards over the page's rows, newest first, and keeps the row's poster", () => {
    const rows = [historyRow(1, { poster: POSTER, user: "ana" } as never), historyRow(2)];
    const live = card({ local_id: "L1", status: "processing", progress: 40, created: rows[0]!.created });
    const fresh = card({ local_id: "new", created: rows[0]!.created + 100 });
    const items = mergeItems([live, fresh], rows, true);
    expect(items.map((i) => i.local_id)).toEqual(["new", "L1", "L2"]);
    expect(items[1]).toMatchObject({ status: "processing", progress: 40, poster: POSTER, user: "ana", live: true });
    expect(items[2]).toMatchObject({ status: "completed", live: false, poster: null });
  });

  it("leaves out cards a filter or another page would not show", () => {
    const rows = [historyRow(1)];
    const items = mergeItems([card({ local_id: "elsewhere" })], rows, false);
    expect(items.map((i) => i.local_id)).toEqual(["L1"]);
  });
});

describe("keys kept from JupyterLab", () => {
  it("keeps plain keys and Ctrl/Cmd+Enter, lets other shortcuts (Ctrl+S) through", () => {
    const k = (key: string, mods: Partial<KeyboardEventInit> = {}) => ({ key, ctrlKey: false, metaKey: false, altKey: false, ...mods });
    expect(isStudioKey(k("ArrowRight"))).toBe(true);
    expect(isStudioKey(k("Enter"))).toBe(true);
    expect(isStudioKey(k("a"))).toBe(true);
    expect(isStudioKey(k("Enter", { shiftKey: true }))).toBe(true);
    expect(isStudioKey(k("Enter", { ctrlKey: true }))).toBe(true);
    expect(isStudioKey(k("s", { ctrlKey: true }))).toBe(false);
    expect(isStudioKey(k("s", { metaKey: true }))).toBe(false);
  });
});

describe("Ctrl/Cmd+Enter", () => {
  it("is the generate key with Ctrl or Meta, not with Alt or alone", () => {
    expect(isGenerateKey({ key: "Enter", ctrlKey: true, metaKey: false, altKey: false })).toBe(true);
    expect(isGenerateKey({ key: "Enter", ctrlKey: false, metaKey: true, altKey: false })).toBe(true);
    expect(isGenerateKey({ key: "Enter", ctrlKey: false, metaKey: false, altKey: false })).toBe(false);
    expect(isGenerateKey({ key: "Enter", ctrlKey: true, metaKey: false, altKey: true })).toBe(false);
  });
});

// --- the gallery in the mounted studio ---

let m: Mounted | null = null;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
});
afterEach(() => {
  m?.cleanup();
  m = null;
  document.body.textContent = "";
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function key(el: Element, k: string, opts: KeyboardEventInit = {}): KeyboardEvent {
  const e = new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...opts });
  el.dispatchEvent(e);
  return e;
}

async function withRows(n: number, over: (i: number) => object = () => ({})): Promise<Mounted> {
  m = mount({}, { before: (model) => model.answer("history", () => ({ rows: Array.from({ length: n }, (_, i) => historyRow(i + 1, over(i + 1))), total: n })) });
  await settle();
  return m;
}

describe("the gallery", () => {
  it("shows session tasks and history as one list of tiles, with posters only from Python's JPEG data URLs", async () => {
    const x = await withRows(3, (i) => (i === 1 ? { poster: POSTER, user: "ana" } : i === 2 ? { poster: "javascript:alert(1)" } : {}));
    x.model.deliver({ kind: "task", card: { ...card({ local_id: "run", created: 1_900_000_000 }), poster: null } });
    const tiles = x.qa("kls-card");
    expect(tiles.map((t) => t.dataset["localId"])).toEqual(["run", "L1", "L2", "L3"]);
    expect(tiles[1]!.querySelector("img")?.getAttribute("src")).toBe(POSTER);
    expect(tiles[1]!.querySelector('[data-testid="kls-user"]')?.textContent).toBe("ana");
    expect(tiles[2]!.querySelector("img")).toBeNull();
    expect(tiles[2]!.querySelector('[data-testid="kls-poster-placeholder"]')).not.toBeNull();
    // The running task shows its progress, with an accessible name.
    const bar = tiles[0]!.querySelector('[data-testid="kls-progress"]')!;
    expect(bar.getAttribute("aria-valuenow")).toBe("10");
    expect(bar.getAttribute("aria-label")).toBe("Progress of A cat");
    expect(tiles[0]!.querySelector('[data-testid="kls-times"]')?.textContent).toContain("Elapsed");
  });

  describe("posters by the Jupyter server's media route", () => {
    const ROUTE = (i: number) => `kling-studio/media/eyJwIjoiL3gubXA0In0.c2ln${i}.jpg`;
    function jupyterPage(): void {
      const el = document.createElement("script");
      el.id = "jupyter-config-data";
      el.type = "application/json";
      el.textContent = JSON.stringify({ baseUrl: "/user/ana/" });
      document.head.append(el);
    }
    afterEach(() => {
      document.getElementById("jupyter-config-data")?.remove();
      resetPosterRoutes();
    });

    it("asks for routes on a Jupyter page and loads each poster lazily from its URL", async () => {
      jupyterPage();
      const x = await withRows(2, (i) => ({ poster: null, poster_route: ROUTE(i) }));
      expect(x.model.sentOf("history")[0]!.content["poster_routes"]).toBe(true);
      expect(x.model.sentOf("snapshot")[0]!.content["poster_routes"]).toBe(true);
      const imgs = x.qa("kls-card").map((t) => t.querySelector("img")!);
      expect(imgs.map((i) => i.getAttribute("src"))).toEqual([1, 2].map((i) => new URL(`/user/ana/${ROUTE(i)}`, location.href).href));
      expect(imgs.every((i) => i.getAttribute("loading") === "lazy")).toBe(true);
    });

    it("asks for the bytes again once a poster route fails, and never sends routes again", async () => {
      jupyterPage();
      const x = await withRows(2, (i) => ({ poster: null, poster_route: ROUTE(i) }));
      x.model.answer("history", () => ({ rows: [historyRow(1, { poster: POSTER })], total: 1 }));
      x.qa("kls-card")[0]!.querySelector("img")!.dispatchEvent(new Event("error"));
      await vi.advanceTimersByTimeAsync(1000);
      await settle();
      const asked = x.model.sentOf("history");
      expect(asked.length).toBeGreaterThan(1);
      expect(asked.at(-1)!.content["poster_routes"]).toBeUndefined();
      expect(x.qa("kls-card")[0]!.querySelector("img")!.getAttribute("src")).toBe(POSTER);
    });

    it("sends no routes where the page has no Jupyter base URL, and refuses a route that is not one", async () => {
      const x = await withRows(1, () => ({ poster: null, poster_route: "https://evil.example/x.jpg" }));
      expect(x.model.sentOf("history")[0]!.content["poster_routes"]).toBeUndefined();
      expect(x.model.sentOf("snapshot")[0]!.content["poster_routes"]).toBeUndefined();
      expect(x.qa("kls-card")[0]!.querySelector("img")).toBeNull();
    });
  });

  it("opens a clicked tile in the player, and moves with the arrow keys (one tab stop)", async () => {
    const x = await withRows(6);
    const opens = x.qa<HTMLButtonElement>("kls-tile-open");
    expect(opens.filter((b) => b.tabIndex === 0)).toHaveLength(1);
    opens[2]!.click();
    expect(x.q("kls-stage").dataset["localId"]).toBe("L3");
    expect(x.qa("kls-card")[2]!.classList.contains("kls-current")).toBe(true);
    opens[2]!.focus();
    // happy-dom lays nothing out: every tile reads as one column, so Down moves by one.
    const e = key(opens[2]!, "ArrowDown");
    expect(e.defaultPrevented).toBe(true);
    expect(document.activeElement).toBe(opens[3]);
    expect(opens[3]!.tabIndex).toBe(0);
    expect(opens[2]!.tabIndex).toBe(-1);
    key(opens[3]!, "End");
    expect(document.activeElement).toBe(opens[5]);
    key(opens[5]!, "Home");
    expect(document.activeElement).toBe(opens[0]);
  });

  it("joins the clips picked (Ctrl+click, in the order picked) and shows the joined result", async () => {
    const x = await withRows(8); // L7 failed: it cannot be picked
    x.model.answer("stitch", () => ({ local_id: "joined" }));
    const tiles = x.qa("kls-card");
    const prompt = (i: number) => tiles[i]!.querySelector(".kls-tile-prompt") as HTMLElement;
    prompt(2).dispatchEvent(new MouseEvent("click", { bubbles: true, ctrlKey: true }));
    prompt(0).dispatchEvent(new MouseEvent("click", { bubbles: true, ctrlKey: true }));
    prompt(6).dispatchEvent(new MouseEvent("click", { bubbles: true, ctrlKey: true }));
    const join = x.q<HTMLButtonElement>("kls-join");
    expect(join.hidden).toBe(false);
    expect(join.textContent).toBe("Join 2 clips");
    join.click();
    expect(x.model.sentOf("stitch")[0]?.content).toMatchObject({ kind: "stitch", local_ids: ["L3", "L1"] });
    await settle();
    expect(x.q("kls-join-answer").textContent).toBe("Joined 2 clips.");
    expect(join.hidden).toBe(true);
    // The new result plays once Python announces it.
    x.model.deliver({ kind: "task", card: card({ local_id: "joined", status: "completed", has_video: true, created: 1_900_000_000 }) });
    expect(x.q("kls-stage").dataset["localId"]).toBe("joined");
  });

  it("shows a joined result's parts in play order, each opening in the player", async () => {
    // L1 is joined from L3 then L2, and from L99, which is not on this page.
    const x = await withRows(3, (i) => (i === 1 ? { prompt: "Joined", stitched_from: ["L3", "L2", "L99"] } : { prompt: `<b>Part ${i}</b>` }));
    x.qa<HTMLButtonElement>("kls-tile-open")[0]!.click();
    expect(x.q("kls-stage").dataset["localId"]).toBe("L1");
    const parts = x.q("kls-stage-parts");
    expect(parts.textContent).toBe("Joined from 3 clips: 1. <b>Part 3</b> + 2. <b>Part 2</b> + 3. L99");
    expect(parts.querySelector("b")).toBeNull();
    const buttons = x.qa<HTMLButtonElement>("kls-stage-part");
    expect(buttons.map((b) => [b.dataset["localId"], b.disabled])).toEqual([["L3", false], ["L2", false], ["L99", true]]);
    buttons[1]!.click();
    expect(x.q("kls-stage").dataset["localId"]).toBe("L2");
    expect(x.qa("kls-card")[1]!.classList.contains("kls-current")).toBe(true);
    // A generated task has no parts.
    expect(x.q("kls-stage-parts").textContent).toBe("");
  });

  it("selects with the keyboard in selection mode, and Escape leaves it", async () => {
    const x = await withRows(3);
    x.q<HTMLButtonElement>("kls-select-mode").click();
    const opens = x.qa<HTMLButtonElement>("kls-tile-open");
    key(opens[0]!, " ");
    key(opens[1]!, " ");
    expect(x.q("kls-join").textContent).toBe("Join 2 clips");
    const e = key(opens[1]!, "Escape");
    expect(e.defaultPrevented).toBe(true);
    expect(x.q("kls-join").hidden).toBe(true);
    expect(x.qa<HTMLInputElement>("kls-tile-check").some((c) => c.checked)).toBe(false);
  });

  it("continues from a finished result's last frame, or uses it as the last frame", async () => {
    const x = await withRows(2);
    x.model.answer("continue_from", () => ({ name: "last frame", source: "file", url: null, width: 1280, height: 720, size: 9, format: "JPEG", thumb: null, problems: [] }));
    x.qa<HTMLButtonElement>("kls-tile-open")[1]!.click();
    x.q<HTMLButtonElement>("kls-continue").click();
    x.q<HTMLButtonElement>("kls-use-tail").click();
    expect(x.model.sentOf("continue_from").map((s) => s.content)).toMatchObject([
      { local_id: "L2", slot: "image" },
      { local_id: "L2", slot: "image_tail" },
    ]);
    await settle();
    expect(x.q("kls-stage-answer").textContent).toContain("last frame");
  });

  it("shows the table one click away, with the same rows", async () => {
    const x = await withRows(3);
    expect(x.q("kls-history-scroll").hidden).toBe(true);
    x.q<HTMLButtonElement>("kls-view-table").click();
    expect(x.q("kls-history-scroll").hidden).toBe(false);
    expect(x.q("kls-gallery-scroll").hidden).toBe(true);
    expect(x.qa("kls-history-row").map((r) => r.dataset["localId"])).toEqual(["L1", "L2", "L3"]);
    // The row in the player is the selected one; ↓ in the focused table moves on, the player follows.
    expect(x.qa("kls-history-row")[0]!.getAttribute("aria-selected")).toBe("true");
    key(x.q("kls-history-scroll"), "ArrowDown");
    expect(x.q("kls-stage").dataset["localId"]).toBe("L2");
    key(x.q("kls-history-scroll"), "ArrowUp");
    expect(x.q("kls-stage").dataset["localId"]).toBe("L1");
  });

  it("generates on Ctrl+Enter from anywhere in the studio, and stops the key there", async () => {
    const x = await withRows(0);
    x.model.answer("generate", () => ({ local_id: "g1" }));
    x.model.set("pictures", { image: { name: "cat.png", source: "file", url: null, width: 1280, height: 720, size: 200_000, format: "PNG", thumb: null, problems: [] }, image_tail: null });
    const outside = vi.fn();
    const suppressed: boolean[] = [];
    document.body.addEventListener("keydown", outside);
    // Where Lumino listens: it must find the studio marked while the key is dispatched.
    const lumino = (e: Event) => suppressed.push((e.target as Element).hasAttribute(SUPPRESS));
    document.addEventListener("keydown", lumino, true);
    const e = key(x.q("kls-prompt"), "Enter", { ctrlKey: true });
    expect(e.defaultPrevented).toBe(true);
    expect(outside).not.toHaveBeenCalled();
    expect(suppressed).toEqual([true]);
    vi.advanceTimersByTime(1);
    expect(x.el.querySelector(`[${SUPPRESS}]`)).toBeNull();
    // Ctrl+S is JupyterLab's: not marked.
    key(x.q("kls-prompt"), "s", { ctrlKey: true });
    expect(suppressed).toEqual([true, false]);
    await settle();
    expect(x.model.sentOf("generate")).toHaveLength(1);
    document.body.removeEventListener("keydown", outside);
    document.removeEventListener("keydown", lumino, true);
  });
});
