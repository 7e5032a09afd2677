import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { UNKNOWN_TEXT } from "./views/cards";
import { GATEWAY_TEXT, SIMULATOR_TEXT } from "./views/header";
import { settle } from "./test/fake-model";
import { card, form, GIF_BYTES, historyRow, jpegBytes, picture, pngBytes } from "./test/fixtures";
import { choose, mount, pickFile, type, type Mounted } from "./test/mount";

// File reads are asynchronous in happy-dom; give them room on a busy machine.
const WAIT = { timeout: 5000 };

let m: Mounted | null = null;
const open = (...args: Parameters<typeof mount>): Mounted => (m = mount(...args));

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

const reasons = (x: Mounted) => x.q("kls-generate-reason").textContent ?? "";
const withPicture = { pictures: { image: picture(), image_tail: null } };

describe("header and banner", () => {
  it("names the backend and says plainly when it is the simulator", () => {
    const { q } = open();
    expect(q("kls-backend").textContent).toContain("Simulator at 127.0.0.1:8765");
    expect(q("kls-backend").textContent).toContain(SIMULATOR_TEXT);
  });

  it("has no simulator badge for FoxAPI", () => {
    const { q, el } = open({ backend: { mode: "foxapi", base_url: "https://api.foxapi.cc", label: "FoxAPI" } });
    expect(q("kls-backend").textContent).toBe("FoxAPI");
    expect(el.querySelector('[data-testid="kls-simulator"]')).toBeNull();
  });

  it("says when it is on the class gateway, with the label as text", () => {
    const label = "Class gateway at http://hub/services/kling-gateway as <b>ada</b>";
    const { q, el } = open({ backend: { mode: "gateway", base_url: "http://hub/services/kling-gateway", label } });
    expect(q("kls-backend").textContent).toBe(`${label} ${GATEWAY_TEXT}`);
    expect(q("kls-gateway").textContent).toBe(GATEWAY_TEXT);
    expect(el.querySelector('[data-testid="kls-backend"] b')).toBeNull();
    expect(el.querySelector('[data-testid="kls-simulator"]')).toBeNull();
  });

  it("shows backend errors in a dismissable banner; a newer error shows again", () => {
    const { q, model } = open();
    expect(q("kls-error").hidden).toBe(true);
    model.set("error", { message: "ConnectError: <b>refused</b>", at: 1 });
    expect(q("kls-error").hidden).toBe(false);
    expect(q("kls-error").textContent).toContain("ConnectError: <b>refused</b>");
    expect(q("kls-error").querySelector("b")).toBeNull();
    q<HTMLButtonElement>("kls-error-dismiss").click();
    expect(q("kls-error").hidden).toBe(true);
    model.set("error", { message: "again", at: 2 });
    expect(q("kls-error").hidden).toBe(false);
  });
});

describe("the form", () => {
  it("shows the rules: options, counters", () => {
    const { q } = open();
    const options = (id: string) => Array.from(q<HTMLSelectElement>(id).options).map((o) => o.value);
    expect(options("kls-resolution")).toEqual(["720p", "1080p", "4k"]);
    expect(options("kls-duration")).toEqual(["5", "10"]);
    expect(q<HTMLTextAreaElement>("kls-prompt").value).toBe("A cat walks on the beach");
    expect(q("kls-prompt-count").textContent).toBe("24 / 2,500");
  });

  it("counts as Python does and writes the form trait after a pause in typing", () => {
    const { q, model } = open();
    type(q("kls-prompt"), "😀 hi");
    expect(q("kls-prompt-count").textContent).toBe("4 / 2,500");
    expect(model.get("form")?.prompt).toBe("A cat walks on the beach"); // not yet: debounced
    vi.advanceTimersByTime(149);
    expect(model.get("form")?.prompt).toBe("A cat walks on the beach");
    vi.advanceTimersByTime(1);
    expect(model.get("form")?.prompt).toBe("😀 hi");
    expect(model.saves).toBe(1);
  });

  it("writes selects and the audio box at once", () => {
    const { q, model } = open();
    choose(q("kls-resolution"), "4k");
    choose(q("kls-duration"), "10");
    choose(q("kls-audio"), true);
    expect(model.get("form")).toMatchObject({ resolution: "4k", duration: 10, generate_audio: true });
  });

  it("enables voice ids only with audio, and sends them only then", () => {
    const { q, model } = open();
    const v1 = q<HTMLInputElement>("kls-voice-1");
    expect(v1.disabled).toBe(true);
    choose(q("kls-audio"), true);
    expect(v1.disabled).toBe(false);
    type(v1, " voice-abc ");
    vi.advanceTimersByTime(200);
    expect(model.get("form")?.voice_ids).toEqual(["voice-abc"]);
    choose(q("kls-audio"), false);
    expect(model.get("form")?.voice_ids).toEqual([]);
    expect(v1.value).toBe(" voice-abc "); // kept on screen for when audio comes back
  });

  it("shows a change made by Python (remix, load_settings)", () => {
    const { q, model } = open();
    model.set("form", form({ prompt: "From Python", duration: 10, multi_prompt: [{ prompt: "one", duration: 10 }] }));
    expect(q<HTMLTextAreaElement>("kls-prompt").value).toBe("From Python");
    expect(q<HTMLSelectElement>("kls-duration").value).toBe("10");
    expect(q("kls-segments-sum").textContent).toBe("10 of 10 s");
    expect(q<HTMLTextAreaElement>("kls-segment-prompt").value).toBe("one");
  });

  it("edits multi-prompt segments and shows their sum against the duration", () => {
    const x = open(withPicture);
    const { q, qa, model } = x;
    expect(q("kls-segments-sum").textContent).toBe("off");
    q<HTMLButtonElement>("kls-segment-add").click();
    expect(qa("kls-segment")).toHaveLength(1);
    expect(q("kls-segments-sum").textContent).toBe("5 of 5 s");
    expect(reasons(x)).toContain("Segment 1 needs a prompt.");
    type(q("kls-segment-prompt"), "The cat turns");
    type(q("kls-segment-seconds"), "3");
    expect(q("kls-segments-sum").textContent).toBe("3 of 5 s");
    expect(reasons(x)).toBe("Segments add up to 3 s; the duration is 5 s. They must be equal.");
    q<HTMLButtonElement>("kls-segment-add").click();
    expect(q("kls-segments-sum").textContent).toBe("5 of 5 s");
    type(qa<HTMLTextAreaElement>("kls-segment-prompt")[1]!, "and leaves");
    expect(q<HTMLButtonElement>("kls-generate").disabled).toBe(false);
    vi.advanceTimersByTime(200);
    expect(model.get("form")?.multi_prompt).toEqual([
      { prompt: "The cat turns", duration: 3 },
      { prompt: "and leaves", duration: 2 },
    ]);
    qa<HTMLButtonElement>("kls-segment-remove")[0]!.click();
    expect(model.get("form")?.multi_prompt).toEqual([{ prompt: "and leaves", duration: 2 }]);
  });
});

describe("Generate", () => {
  it("is disabled with the reasons as text, and enabled when everything is valid", () => {
    const x = open();
    const { q, model } = x;
    const button = q<HTMLButtonElement>("kls-generate");
    expect(button.disabled).toBe(true);
    expect(reasons(x)).toBe("Add a first-frame picture.");
    model.set("pictures", { image: picture(), image_tail: null });
    expect(button.disabled).toBe(false);
    expect(reasons(x)).toBe("");
    type(q("kls-prompt"), "x".repeat(2612));
    expect(button.disabled).toBe(true);
    expect(reasons(x)).toBe("Prompt is 2,612 characters; the limit is 2,500.");
    expect(q("kls-prompt-count").classList.contains("kls-over")).toBe(true);
  });

  it("is disabled by a picture with problems from Python", () => {
    const x = open({ pictures: { image: picture({ problems: ["the picture is 200 px wide; each side must be at least 300 px"] }), image_tail: null } });
    expect(x.q<HTMLButtonElement>("kls-generate").disabled).toBe(true);
    expect(reasons(x)).toContain("The first-frame picture fails its checks");
    expect(x.q("kls-image-checks").textContent).toContain("at least 300 px");
  });

  it("flushes the form before sending, and shows Python's error beside the button", async () => {
    const x = open(withPicture);
    const { q, model } = x;
    let formAtGenerate: unknown = null;
    model.answer("generate", () => {
      formAtGenerate = model.get("form");
      return { error: { message: "prompt: is required", field: "prompt" } };
    });
    type(q("kls-prompt"), "typed just now");
    q<HTMLButtonElement>("kls-generate").click();
    await settle();
    expect(formAtGenerate).toMatchObject({ prompt: "typed just now" });
    expect(model.sentOf("generate")).toHaveLength(1);
    expect(reasons(x)).toBe("prompt: is required");
    type(q("kls-prompt"), "typed again");
    expect(reasons(x)).toBe(""); // the answer no longer describes the form
  });

  it("says the task started", async () => {
    const x = open(withPicture);
    x.model.answer("generate", () => ({ local_id: "new1" }));
    x.q<HTMLButtonElement>("kls-generate").click();
    expect(x.q<HTMLButtonElement>("kls-generate").disabled).toBe(true); // while sending
    await settle();
    expect(reasons(x)).toContain("Task started");
    expect(x.q<HTMLButtonElement>("kls-generate").disabled).toBe(false);
  });
});

describe("pictures", () => {
  it("checks a dropped-in PNG here, previews it from our blob URL and sends the bytes", async () => {
    const x = open();
    const { q, model, urls } = x;
    model.answer("set_picture", (msg, buffers) => {
      const info = picture({ name: String(msg["name"]), size: buffers[0]!.byteLength, width: 1280, height: 720, thumb: "data:image/jpeg;base64,AAAA" });
      model.set("pictures", { image: info, image_tail: null });
      return info;
    });
    const bytes = pngBytes(1280, 720, 5000);
    pickFile(q("kls-image-input"), new File([bytes.buffer as ArrayBuffer], "cat.png", { type: "image/png" }));
    await vi.waitFor(() => expect(model.sentOf("set_picture")).toHaveLength(1), WAIT);
    const sent = model.sentOf("set_picture")[0]!;
    expect(sent.content).toMatchObject({ kind: "set_picture", slot: "image", name: "cat.png" });
    expect(sent.buffers[0]!.byteLength).toBe(5000);
    expect(sent.content["data"]).toBeUndefined(); // bytes in a buffer, never base64 in JSON
    await settle();
    const img = q("kls-image-drop").querySelector("img")!;
    expect(img.getAttribute("src")).toBe(urls.created[0]!.url); // our own preview, full quality
    expect(q("kls-image-checks").textContent).toContain("1280 × 720 px");
    expect(q<HTMLButtonElement>("kls-generate").disabled).toBe(false);
  });

  it("accepts a file dropped on the slot", async () => {
    const x = open();
    x.model.answer("set_picture", () => picture());
    const dt = new DataTransfer();
    dt.items.add(new File([jpegBytes(800, 600).buffer as ArrayBuffer], "frame.jpg", { type: "image/jpeg" }));
    const drop = x.q("kls-tail-drop");
    // happy-dom's DragEvent drops `dataTransfer` from its init; attach it by hand.
    const drag = (kind: string) => Object.assign(new Event(kind, { bubbles: true, cancelable: true }), { dataTransfer: dt });
    drop.dispatchEvent(drag("dragover"));
    expect(drop.classList.contains("kls-over")).toBe(true);
    drop.dispatchEvent(drag("drop"));
    await vi.waitFor(() => expect(x.model.sentOf("set_picture")).toHaveLength(1), WAIT);
    expect(x.model.sentOf("set_picture")[0]!.content).toMatchObject({ slot: "image_tail", name: "frame.jpg" });
    expect(x.q("kls-tail-checks").textContent).toContain("800 × 600 px");
  });

  it("refuses a GIF named .png without sending it", async () => {
    const x = open();
    pickFile(x.q("kls-image-input"), new File([GIF_BYTES], "cat.png", { type: "image/png" }));
    await vi.waitFor(() => expect(x.q("kls-image-checks").textContent).toContain("the bytes say GIF"), WAIT);
    expect(x.model.sentOf("set_picture")).toHaveLength(0);
    expect(x.q("kls-image-drop").querySelector("img")).toBeNull();
    expect(x.q<HTMLButtonElement>("kls-generate").disabled).toBe(true);
    expect(reasons(x)).toContain("The first-frame picture fails its checks");
  });

  it("asks Python to fetch a URL and shows its answer", async () => {
    const x = open();
    x.model.answer("set_picture", () => ({ error: { message: "could not fetch the picture: 404" } }));
    type(x.q("kls-image-url"), "https://example.com/cat.jpg");
    x.q<HTMLButtonElement>("kls-image-url-go").click();
    expect(x.model.sentOf("set_picture")[0]?.content).toMatchObject({ slot: "image", url: "https://example.com/cat.jpg" });
    await settle();
    expect(x.el.textContent).toContain("Python refused the picture: could not fetch the picture: 404");
  });

  it("refuses a javascript: picture URL without asking Python", () => {
    const x = open();
    type(x.q("kls-tail-url"), "javascript:alert(1)");
    x.q<HTMLButtonElement>("kls-tail-url-go").click();
    expect(x.model.sentOf("set_picture")).toHaveLength(0);
    expect(x.el.textContent).toContain("Enter an http:// or https:// URL");
  });

  it("clears a slot", async () => {
    const x = open(withPicture);
    x.model.answer("clear_picture", () => {
      x.model.set("pictures", { image: null, image_tail: null });
      return null;
    });
    x.q<HTMLButtonElement>("kls-image-clear").click();
    await settle();
    expect(x.model.sentOf("clear_picture")[0]?.content).toMatchObject({ slot: "image" });
    expect(reasons(x)).toBe("Add a first-frame picture.");
  });

  it("shows only Python's thumb, never a hostile source", () => {
    const x = open({ pictures: { image: picture({ thumb: "javascript:alert(1)", url: "data:text/html,<b>x</b>" }), image_tail: null } });
    expect(x.q("kls-image-drop").querySelector("img")).toBeNull();
  });
});

describe("task cards", () => {
  it("creates a card from a task message and moves its progress", () => {
    const { model, qa, q } = open();
    model.deliver({ kind: "task", card: card({ progress: 10 }) });
    expect(qa("kls-card")).toHaveLength(1);
    expect(q("kls-card").dataset["status"]).toBe("processing");
    expect(q("kls-progress").getAttribute("aria-valuenow")).toBe("10");
    model.deliver({ kind: "task", card: card({ progress: 55 }) });
    expect(qa("kls-card")).toHaveLength(1);
    expect(q("kls-progress").getAttribute("aria-valuenow")).toBe("55");
  });

  it("ticks elapsed and remaining time locally every second", () => {
    const { model, q } = open();
    model.deliver({ kind: "task", card: card({ elapsed: 5, remaining: 40 }) });
    expect(q("kls-times").textContent).toBe("Elapsed 5 s · about 40 s left");
    vi.advanceTimersByTime(3000);
    expect(q("kls-times").textContent).toBe("Elapsed 8 s · about 37 s left");
    expect(model.sent.filter((s) => s.content["kind"] !== "snapshot" && s.content["kind"] !== "history")).toEqual([]);
  });

  it("puts the newest first and shows several at once", async () => {
    const { model, qa } = open();
    model.answer("snapshot", () => ({ cards: [] }));
    model.deliver({ kind: "task", card: card({ local_id: "old", created: 100 }) });
    model.deliver({ kind: "task", card: card({ local_id: "new", created: 200 }) });
    model.deliver({ kind: "task", card: card({ local_id: "mid", created: 150 }) });
    expect(qa("kls-card").map((c) => c.dataset["localId"])).toEqual(["new", "mid", "old"]);
  });

  it("shows cards from the snapshot on render", async () => {
    const x = open({}, { before: (model) => model.answer("snapshot", () => ({ cards: [card({ local_id: "a", created: 2 }), card({ local_id: "b", status: "completed", created: 1 })] })) });
    expect(x.model.sentOf("snapshot")).toHaveLength(1);
    await settle();
    expect(x.qa("kls-card").map((c) => c.dataset["status"])).toEqual(["processing", "completed"]);
  });

  it("shows a failed card's code and message", () => {
    const { model, q } = open();
    model.deliver({ kind: "task", card: card({ status: "failed", error: { code: "content_policy", message: "The prompt was refused." } }) });
    expect(q("kls-card").dataset["status"]).toBe("failed");
    expect(q("kls-error-code").textContent).toBe("content_policy");
    expect(q("kls-card-note").textContent).toContain("The prompt was refused.");
  });

  it("explains the unknown status", () => {
    const { model, q } = open();
    model.deliver({ kind: "task", card: card({ status: "unknown", remaining: null }) });
    expect(q("kls-card-note").textContent).toContain(UNKNOWN_TEXT);
  });

  it("shows a hostile prompt as text: no element is created from it", () => {
    const { model, q, el } = open();
    const hostile = '<img src=x onerror=alert(1)>';
    model.deliver({ kind: "task", card: card({ prompt: hostile, error: { code: "<b>x</b>", message: hostile }, status: "failed" }) });
    expect(q("kls-card").textContent).toContain(hostile);
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector("b")).toBeNull();
  });
});

describe("video", () => {
  it("plays an https URL from the reply", async () => {
    const { model, q } = open();
    model.answer("video", () => ({ url: "https://cdn.example.com/v.mp4", mime: "video/mp4", size: null, chunks: 0 }));
    model.deliver({ kind: "task", card: card({ status: "completed", progress: 100, has_video: true }) });
    expect(model.sentOf("video")[0]?.content).toMatchObject({ kind: "video", local_id: "t1" });
    await settle();
    const video = q<HTMLVideoElement>("kls-video");
    expect(video.getAttribute("src")).toBe("https://cdn.example.com/v.mp4");
    expect(video.hidden).toBe(false);
    expect(video.hasAttribute("controls") && video.hasAttribute("loop") && video.hasAttribute("playsinline")).toBe(true);
  });

  it("refuses a javascript: URL and asks for the bytes instead", async () => {
    const { model, q } = open();
    model.answer("video", (msg) => (msg["force_bytes"] ? { error: { message: "no bytes" } } : { url: "javascript:alert(1)", mime: "video/mp4", size: null, chunks: 0 }));
    model.deliver({ kind: "task", card: card({ status: "completed", has_video: true }) });
    await settle(20);
    expect(q<HTMLVideoElement>("kls-video").hasAttribute("src")).toBe(false);
    expect(q<HTMLVideoElement>("kls-video").hidden).toBe(true);
    expect(model.sentOf("video").map((s) => s.content["force_bytes"] === true)).toEqual([false, true]);
  });

  it("assembles video_chunk buffers in seq order into a blob URL", async () => {
    const { model, q, urls } = open();
    model.deliver({ kind: "task", card: card({ status: "completed", has_video: true }) });
    await settle();
    const req_id = model.sentOf("video")[0]!.content["req_id"] as string;
    const chunk = (...b: number[]) => [new Uint8Array(b).buffer];
    // Python sends the chunks first, then the reply; these arrive out of order on purpose.
    model.deliver({ kind: "video_chunk", req_id, seq: 1, total: 3, mime: "video/mp4" }, chunk(3, 4));
    model.deliver({ kind: "video_chunk", req_id: "someone-else", seq: 0, total: 1, mime: "video/mp4" }, chunk(9));
    model.deliver({ kind: "video_chunk", req_id, seq: 0, total: 3, mime: "video/mp4" }, chunk(1, 2));
    model.deliver({ kind: "video_chunk", req_id, seq: 2, total: 3, mime: "video/mp4" }, chunk(5));
    model.reply(req_id, { url: null, mime: "video/mp4", size: 5, chunks: 3 });
    await settle();
    const made = urls.created.at(-1)!;
    expect(q<HTMLVideoElement>("kls-video").getAttribute("src")).toBe(made.url);
    expect(made.blob.type).toBe("video/mp4");
    expect([...new Uint8Array(await made.blob.arrayBuffer())]).toEqual([1, 2, 3, 4, 5]);
  });

  it("falls back to the bytes when the URL fails to play", async () => {
    const { model, q } = open();
    model.answer("video", () => ({ url: "https://expired.example.com/v.mp4", mime: "video/mp4", size: null, chunks: 0 }));
    model.deliver({ kind: "task", card: card({ status: "completed", has_video: true }) });
    await settle();
    model.answer("video", () => undefined); // answer by hand below
    q<HTMLVideoElement>("kls-video").dispatchEvent(new Event("error"));
    expect(model.sentOf("video").at(-1)?.content).toMatchObject({ local_id: "t1", force_bytes: true });
  });
});

describe("video from the Jupyter server's media route", () => {
  const route = "kling-studio/media/eyJwIjoiL3gubXA0In0.c2ln.mp4";
  afterEach(() => document.getElementById("jupyter-config-data")?.remove());

  function jupyterPage(baseUrl: string): void {
    const el = document.createElement("script");
    el.id = "jupyter-config-data";
    el.type = "application/json";
    el.textContent = JSON.stringify({ baseUrl });
    document.body.append(el);
  }

  it("plays the route resolved against the page's base URL, and asks for no bytes", async () => {
    jupyterPage("/user/alice/");
    const { model, q } = open();
    model.answer("video", () => ({ url: null, route, mime: "video/mp4", size: 13_000_000, chunks: 0 }));
    model.deliver({ kind: "task", card: card({ status: "completed", has_video: true }) });
    await settle();
    const video = q<HTMLVideoElement>("kls-video");
    expect(video.getAttribute("src")).toBe(new URL(`/user/alice/${route}`, location.href).href);
    expect(video.hidden).toBe(false);
    expect(model.sentOf("video").map((m) => m.content["force_bytes"] === true)).toEqual([false]);
  });

  it("asks for the bytes at once on a page with no Jupyter base URL (VS Code, Colab)", async () => {
    const { model, q } = open();
    model.answer("video", (msg) => (msg["force_bytes"] ? { url: null, route: null, mime: "video/mp4", size: 0, chunks: 0 } : { url: null, route, mime: "video/mp4", size: 1, chunks: 0 }));
    model.deliver({ kind: "task", card: card({ status: "completed", has_video: true }) });
    await settle(20);
    expect(model.sentOf("video").map((m) => m.content["force_bytes"] === true)).toEqual([false, true]);
    expect(q<HTMLVideoElement>("kls-video").hasAttribute("src")).toBe(false);
  });

  it("falls back to the bytes when the route fails to play (the extension is off)", async () => {
    jupyterPage("/");
    const { model, q } = open();
    model.answer("video", () => ({ url: null, route, mime: "video/mp4", size: 1, chunks: 0 }));
    model.deliver({ kind: "task", card: card({ status: "completed", has_video: true }) });
    await settle();
    model.answer("video", () => undefined); // answered by hand
    q<HTMLVideoElement>("kls-video").dispatchEvent(new Event("error"));
    expect(model.sentOf("video").at(-1)?.content).toMatchObject({ local_id: "t1", force_bytes: true });
  });
});

describe("history", () => {
  const rows = [historyRow(1), historyRow(7, { prompt: '<img src=x onerror=alert(1)>' })];

  it("renders rows from the reply; a clicked row plays in the player, with its actions", async () => {
    const x = open();
    const { model, qa, q, el } = x;
    model.answer("history", () => ({ rows, total: 2 }));
    model.answer("video", () => ({ url: "https://cdn.example.com/1.mp4", mime: "video/mp4", size: null, chunks: 0 }));
    model.answer("remix", () => ({ local_id: "L99" }));
    model.answer("load_settings", () => null);
    model.set("history_rev", 1);
    await settle();
    const trs = qa("kls-history-row");
    expect(trs.map((tr) => tr.dataset["localId"])).toEqual(["L1", "L7"]);
    expect(trs[1]!.textContent).toContain("<img src=x onerror=alert(1)>");
    expect(trs[1]!.textContent).toContain("content_policy: The prompt was refused.");
    expect(el.querySelector("img")).toBeNull();
    expect(q("kls-history-range").textContent).toBe("1–2 of 2");

    // The failed row: the player says why, and offers no video actions.
    trs[1]!.querySelector("td")!.click();
    expect(q("kls-stage").dataset["localId"]).toBe("L7");
    expect(q("kls-stage-problem").textContent).toBe("content_policy: The prompt was refused.");
    expect(q("kls-stage-prompt").textContent).toBe("<img src=x onerror=alert(1)>");
    expect(q<HTMLButtonElement>("kls-continue").hidden).toBe(true);

    trs[0]!.querySelector("td")!.click();
    await settle();
    expect(trs[0]!.getAttribute("aria-selected")).toBe("true");
    expect(model.sentOf("video").at(-1)?.content).toMatchObject({ local_id: "L1" });
    expect(q("kls-stage").querySelector('[data-testid="kls-video"]')?.getAttribute("src")).toBe("https://cdn.example.com/1.mp4");
    q<HTMLButtonElement>("kls-remix").click();
    expect(model.sentOf("remix")[0]?.content).toMatchObject({ kind: "remix", local_id: "L1", changes: {} });
    await settle();
    expect(q("kls-stage-answer").textContent).toBe("Remix started as a new task.");
    q<HTMLButtonElement>("kls-load-settings").click();
    expect(model.sentOf("load_settings")[0]?.content).toMatchObject({ local_id: "L1" });
  });

  it("pages, filters and searches", async () => {
    const x = open({}, { pageSize: 2 });
    const { model, q } = x;
    model.answer("history", (msg) => ({ rows: [historyRow(msg["offset"]), historyRow(msg["offset"] + 1)], total: 5 }));
    model.set("history_rev", 1);
    await settle();
    expect(q("kls-history-range").textContent).toBe("1–2 of 5");
    q<HTMLButtonElement>("kls-history-next").click();
    await settle();
    expect(model.sentOf("history").at(-1)?.content).toMatchObject({ offset: 2, limit: 2 });
    choose(q("kls-history-status"), "failed");
    await settle();
    expect(model.sentOf("history").at(-1)?.content).toMatchObject({ offset: 0, status: "failed" });
    type(q("kls-history-search"), "cat");
    vi.advanceTimersByTime(300);
    await settle();
    expect(model.sentOf("history").at(-1)?.content).toMatchObject({ offset: 0, status: "failed", text: "cat" });
  });

  it("coalesces re-requests: one in flight and one pending", async () => {
    const x = open();
    const { model } = x;
    await settle(); // the first page (asked for at render) is answered
    const before = model.sentOf("history").length;
    model.answer("history", () => undefined); // Python is slow: answer by hand
    for (let rev = 2; rev < 12; rev++) model.set("history_rev", rev);
    expect(model.sentOf("history").length).toBe(before + 1);
    model.reply(model.sentOf("history").at(-1)!.content["req_id"], { rows: [], total: 0 });
    await settle();
    expect(model.sentOf("history").length).toBe(before + 2);
    model.reply(model.sentOf("history").at(-1)!.content["req_id"], { rows: [], total: 0 });
    await settle();
    expect(model.sentOf("history").length).toBe(before + 2);
  });
});

describe("cleanup", () => {
  it("removes every listener, stops every timer, revokes URLs and pauses videos", async () => {
    const x = mount();
    const { model, el, urls, q } = x;
    expect(model.listenerCount()).toBeGreaterThan(0);
    // Give it work of every kind: a ticking card, a pending debounce, a blob video, a pending request.
    model.deliver({ kind: "task", card: card({ local_id: "run" }) });
    model.deliver({ kind: "task", card: card({ local_id: "done", status: "completed", has_video: true }) });
    await settle();
    const req_id = model.sentOf("video")[0]!.content["req_id"] as string;
    model.deliver({ kind: "video_chunk", req_id, seq: 0, total: 1, mime: "video/mp4" }, [new Uint8Array([1]).buffer]);
    model.reply(req_id, { url: null, mime: "video/mp4", size: 1, chunks: 1 });
    await settle();
    const video = q<HTMLVideoElement>("kls-video");
    expect(video.getAttribute("src")).toMatch(/^blob:/);
    const pause = vi.spyOn(video, "pause");
    type(q("kls-prompt"), "pending edit");
    void model.answer("generate", () => undefined);
    expect(vi.getTimerCount()).toBeGreaterThan(0);

    x.cleanup();

    expect(model.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(urls.created.length).toBeGreaterThan(0);
    expect(urls.revoked.sort()).toEqual(urls.created.map((u) => u.url).sort());
    expect(pause).toHaveBeenCalled();
    expect(video.hasAttribute("src")).toBe(false);
    expect(el.childElementCount).toBe(0);
    // Nothing reacts any more: no sends, no timers firing.
    const sent = model.sent.length;
    model.set("history_rev", 99);
    model.deliver({ kind: "task", card: card({ local_id: "late" }) });
    vi.advanceTimersByTime(10_000);
    expect(model.sent.length).toBe(sent);
    expect(model.get("form")?.prompt).toBe("A cat walks on the beach"); // the debounced write died too
  });

  it("can be called twice", () => {
    const x = mount();
    x.cleanup();
    expect(() => x.cleanup()).not.toThrow();
  });
});
