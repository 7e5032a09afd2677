"""Widget: the studio's speed targets, measured in a real browser and on the real Python side.

Targets (issue): the bundle is at most 150 KB minified; a progress tick sends at most 1 KB to the
browser whatever the size of the history; a 10,000-row history table renders in at most 100 ms
in Chromium.

- **Render** (a): a page served on loopback imports the built `static/widget.js` and mounts the
  studio into a div against a fake anywidget model written in the page. The user picks "10,000
  per page"; the model holds the `history` request, and at the start of an animation frame
  delivers the reply (the real Python reply for N journalled records, parsed beforehand). The
  time runs from that delivery to the end of the frame that shows the table (a MessageChannel
  message posted in the frame's rAF runs once its style, layout and paint are done). Side by
  side, in the same page and the same way: a baseline that renders every row into a plain table
  (a copy of the widget's renderer before windowing, kept in the page). JSON.parse of the reply
  (done by Jupyter's comm layer before the widget sees it) is timed on its own. Median of runs,
  the two interleaved.
- **Scroll** (b): with the N rows shown, jump to the middle and to the end: the time until the
  row there is in view and painted, and the main-thread work of the frames until then; then a
  steady scroll (a fixed step per frame): the main-thread work per frame (median, max).
- **Bundle** (c): `static/widget.js` in bytes, minified and gzipped.
- **Tick** (d): the real `Studio` with a History in a temp folder holding N journalled records
  (finished, some failed) runs one task on the built-in simulator; every message the widget sends
  to the browser (custom messages and trait updates, as the comm would carry them) is recorded
  and grouped by task event. A progress tick is an event whose status did not change; status
  changes also bump `history_count`/`history_rev`, which makes the front end re-request its
  page (that reply's size, per page size, is reported too).

    python -m benchmarks.widget [--rows N] [--runs K] [--scroll-frames F] [--build] [--json]

Needs Debian's Chromium at /usr/bin/chromium (or $KLING_STUDIO_CHROMIUM) and Playwright, and a
built bundle (`npm run build`, or pass --build).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from kling_studio import contract as c
from kling_studio.client._polling import PollPolicy
from kling_studio.history._store import History
from kling_studio.models import PreparedRequest, Task, VideoRequest

from .common import format_table, median, scaled_policy

REPO = Path(__file__).resolve().parent.parent
BUNDLE = REPO / "src" / "kling_studio" / "studio" / "static" / "widget.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
TARGET_BUNDLE_BYTES = 150_000  # "150 KB", read strictly
TARGET_TICK_BYTES = 1_000  # "1 KB", read strictly
TARGET_RENDER_MS = 100.0
IMAGE_URL = "https://cdn.example.com/bench-first-frame.png"  # journalled only, never fetched
VIDEO_URL = "https://cdn.example.com/out/bench.mp4"
PAGE_SIZES = (50, 500, 10_000)

# The longest prompt the contract allows: the card carries its first 200 characters, the history
# row its first 500; the worst case for message sizes.
LONG_PROMPT = (
    "A lighthouse keeper climbs the spiral stairs at dusk, waves rolling in below, " * 40
)[: c.PROMPT_MAX_CHARS]


def chromium_path() -> str | None:
    """$KLING_STUDIO_CHROMIUM if set (None if it is not there), else Debian's /usr/bin/chromium."""
    path = os.environ.get("KLING_STUDIO_CHROMIUM") or CHROMIUM
    return path if os.access(path, os.X_OK) else None


# -- (c) the bundle ---------------------------------------------------------------------------


def build_bundle() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not on PATH: cannot build the bundle")
    subprocess.run([npm, "run", "build"], cwd=REPO, check=True, capture_output=True)


def bundle_sizes(path: Path = BUNDLE) -> dict[str, int]:
    data = path.read_bytes()
    return {"minified": len(data), "gzip": len(gzip.compress(data, compresslevel=9))}


# -- (d) the Python side: a history of N records, one task's ticks ----------------------------


def fill_history(history: History, rows: int) -> None:
    """N journalled records, most completed, every 7th failed (with an error message)."""
    prepared = []
    for i in range(10):
        request = VideoRequest.build(prompt=f"{LONG_PROMPT[:480]} #{i}", image=IMAGE_URL)
        prepared.append(PreparedRequest(request=request, payload=request.payload(IMAGE_URL, None)))
    for n in range(rows):
        local_id = history.journal_submit(prepared[n % len(prepared)])
        if n % 7 == 0:
            answer: dict[str, Any] = {
                "status": "failed",
                "error": {"code": "content_policy", "message": "The prompt was refused."},
            }
        else:
            answer = {"status": "completed", "progress": 100, "results": [{"url": VIDEO_URL}]}
        history.update(
            local_id, Task.from_api({"id": f"task-bench-{n}", "object": "video.task", **answer})
        )


def json_bytes(value: Any) -> int:
    """Bytes of `value` as Jupyter's session packer writes it (json.dumps, UTF-8)."""
    return len(json.dumps(value, ensure_ascii=False, default=str).encode())


def envelope_bytes(data: dict[str, Any], comm_id: str) -> int | None:
    """Bytes of the whole comm_msg (header, parent header, content) as JSON: an estimate of what
    the websocket carries. None without jupyter_client."""
    try:
        from jupyter_client.session import Session
    except ImportError:
        return None
    session = Session(username="bench")
    msg = session.msg("comm_msg", content={"comm_id": comm_id, "data": data}, metadata={})
    msg["parent_header"] = dict(msg["header"], msg_type="execute_request")
    msg["channel"] = "iopub"
    msg["buffers"] = []
    return json_bytes(msg)


class CommRecorder:
    """Stands in for the comm's `send`: every message the widget sends to the browser."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def __call__(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        json.dumps(data)
        self.sent.append({"data": data, "buffer_bytes": sum(len(b) for b in buffers or [])})


def group_ticks(sent: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Messages grouped by task event: a `task` custom message and the trait updates after it."""
    ticks: list[list[dict[str, Any]]] = []
    for item in sent:
        data = item["data"]
        is_card = data.get("method") == "custom" and data.get("content", {}).get("kind") == "task"
        if is_card:
            ticks.append([item])
        elif ticks and data.get("method") == "update":
            ticks[-1].append(item)
    return ticks


def picture_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (640, 360), (40, 90, 160)).save(buf, format="PNG")
    return buf.getvalue()


async def python_side(rows: int, time_scale: float, folder: Path) -> dict[str, Any]:
    from kling_studio.studio._widget import Studio

    history = History(folder / "history.sqlite3")
    started = time.perf_counter()
    fill_history(history, rows)
    fill_s = time.perf_counter() - started
    studio = Studio(history=history, simulator=True, time_scale=time_scale, resume=False)
    # Polled more often than by default, for more progress ticks to weigh (each tick is the same
    # kind of message whatever the polling).
    dense = dataclasses.replace(PollPolicy(), first_look=0.05, approach=0.15)
    studio.client.poll_policy = scaled_policy(dense, time_scale)
    recorder = CommRecorder()
    studio.comm.send = recorder  # type: ignore[union-attr,method-assign]
    comm_id = str(studio.comm.comm_id)  # type: ignore[union-attr]
    try:
        pages: list[dict[str, Any]] = []
        reply: dict[str, Any] = {}
        for size in PAGE_SIZES:
            t0 = time.perf_counter()
            data = await studio._messages.msg_history({"offset": 0, "limit": size}, [], None)
            ms = (time.perf_counter() - t0) * 1000
            reply = {"kind": "reply", "req_id": "bench", "ok": True, "data": data}
            pages.append(
                {"page_size": size, "rows": len(data["rows"]), "bytes": json_bytes(reply), "ms": ms}
            )
        # The page the browser part renders: the largest one.
        page_text = json.dumps(reply, ensure_ascii=False)

        await studio._set_picture("image", picture_bytes(), name="bench.png")
        studio.update_form(prompt=LONG_PROMPT)
        before = len(recorder.sent)
        # The task runs on the studio's engine thread; its widget updates are posted to this
        # loop (the "kernel's"), where the recorder sees them in order.
        record = await studio.agenerate(timeout=120)
        await studio.await_all(timeout=60)  # and its download
        await asyncio.sleep(0.05)  # the last posted updates
        ticks = group_ticks(recorder.sent[before:])
    finally:
        studio.close()
        # Studio.close() is not idempotent: from Widget.__del__ at interpreter exit it would
        # start a new engine thread and hang the exit. Its own guard skips a studio without one.
        studio.__dict__.pop("_engine", None)
        history.close()

    events = []
    last_status = None
    for tick in ticks:
        card = tick[0]["data"]["content"]["card"]
        events.append(
            {
                "status": card["status"],
                "progress": card["progress"],
                # A progress tick: a running task's progress moved, its status did not.
                "progress_tick": card["status"] == last_status == "processing",
                "messages": len(tick),
                "bytes": sum(json_bytes(m["data"]) + m["buffer_bytes"] for m in tick),
                "wire_bytes": sum(envelope_bytes(m["data"], comm_id) or 0 for m in tick) or None,
            }
        )
        last_status = card["status"]
    progress = [e for e in events if e["progress_tick"]]
    others = [e for e in events if not e["progress_tick"]]
    return {
        "history_rows": rows,
        "fill_s": fill_s,
        "task_status": record.status,
        "events": events,
        "progress_ticks": len(progress),
        "max_progress_bytes": max((e["bytes"] for e in progress), default=None),
        "max_progress_wire_bytes": max((e["wire_bytes"] or 0 for e in progress), default=None),
        "other_events": len(others),
        "max_other_bytes": max((e["bytes"] for e in others), default=None),
        "pages": pages,
        "page_text": page_text,
    }


# -- the page -----------------------------------------------------------------------------------

INDEX_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>kling-studio widget benchmark</title>
<style>
body { margin: 0; font: 13px system-ui, sans-serif; }
#stage { width: 1100px; padding: 8px; }
/* The baseline: the history table's CSS before windowing (automatic layout, wrapping cells). */
.naive-wrap { max-height: 420px; overflow: auto; border: 1px solid #c9ced6; border-radius: 4px; }
.naive-table { border-collapse: collapse; width: 100%; }
.naive-table th, .naive-table td { text-align: left; padding: 3px 8px;
  border-bottom: 1px solid #c9ced6; vertical-align: top; }
.naive-table th { position: sticky; top: 0; background: #f3f4f6; }
.naive-table td.kls-cell-prompt { max-width: 380px; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
.naive-table tbody tr { cursor: pointer; }
</style></head>
<body><div id="stage"></div><script type="module" src="/bench.js"></script></body></html>
"""

BENCH_JS = r"""
import widget from "/widget.js";

const config = await (await fetch("/config.json")).json();
const pageText = await (await fetch("/page.json")).text();

// -- a fake anywidget model: traits with change events, custom messages both ways --------------
class FakeModel {
  constructor(state) {
    this.state = { ...state };
    this.listeners = new Map();
    this.held = [];
    this.widget_manager = { get_model: () => Promise.reject(new Error("none")) };
  }
  get(key) { return this.state[key]; }
  set(key, value) { this.state[key] = value; this.emit(`change:${key}`); }
  save_changes() {}
  on(event, cb) {
    const list = this.listeners.get(event) ?? [];
    list.push(cb);
    this.listeners.set(event, list);
  }
  off(event, cb) {
    if (!event) { this.listeners.clear(); return; }
    if (!cb) { this.listeners.delete(event); return; }
    this.listeners.set(event, (this.listeners.get(event) ?? []).filter((x) => x !== cb));
  }
  emit(event, ...args) { for (const cb of [...(this.listeners.get(event) ?? [])]) cb(...args); }
  deliver(msg) { this.emit("msg:custom", msg, []); }
  reply(req_id, data) { this.deliver({ kind: "reply", req_id, ok: true, data }); }
  send(msg) {
    const cards = config.cards;
    if (msg.kind === "snapshot") queueMicrotask(() => this.reply(msg.req_id, { cards }));
    else if (msg.kind === "history") this.held.push(msg); // answered by the benchmark
    else queueMicrotask(() => this.reply(msg.req_id, null));
  }
}

// -- the baseline: every row into the table (the widget's renderer before windowing) ------------
const COLUMNS = ["Status", "Prompt", "Settings", "Created", "Elapsed", "Error"];
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });
function seconds(total) {
  const s = Math.max(0, Math.floor(total));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}
function cell(tr, text, cls) {
  const td = document.createElement("td");
  if (cls) td.className = cls;
  td.textContent = text;
  tr.appendChild(td);
}
function naiveRows(rows) {
  const frag = document.createDocumentFragment();
  for (const r of rows) {
    const tr = document.createElement("tr");
    tr.setAttribute("data-testid", "kls-history-row");
    tr.setAttribute("data-local-id", String(r.local_id));
    tr.setAttribute("data-status", String(r.status));
    cell(tr, String(r.status));
    const prompt = String(r.prompt ?? "");
    cell(tr, prompt, "kls-cell-prompt");
    tr.lastChild.title = prompt;
    cell(tr, `${r.resolution} · ${r.duration} s · ${r.generate_audio ? "audio" : "no audio"}`);
    cell(tr, dateFormat.format(new Date(Number(r.created) * 1000)));
    cell(tr, typeof r.elapsed === "number" ? seconds(r.elapsed) : "");
    const error = [r.error_code, r.error_message].filter((x) => typeof x === "string" && x !== "");
    cell(tr, error.join(": "));
    frag.appendChild(tr);
  }
  return frag;
}
function naiveMount(stage) {
  const wrap = document.createElement("div");
  wrap.className = "naive-wrap";
  const table = document.createElement("table");
  table.className = "naive-table";
  const head = table.createTHead().insertRow();
  for (const c of COLUMNS) {
    const th = document.createElement("th");
    th.textContent = c;
    head.appendChild(th);
  }
  const body = table.createTBody();
  wrap.appendChild(table);
  stage.appendChild(wrap);
  const render = (rows) => {
    body.textContent = "";
    body.appendChild(naiveRows(rows));
  };
  return { wrap, body, render };
}

// -- frames ------------------------------------------------------------------------------------
const nextFrame = () => new Promise((r) => requestAnimationFrame(r));
const tick = () => new Promise((r) => setTimeout(r, 0));
// Runs `work` at the start of a frame; resolves, once that frame's rendering is done, with the
// ms from the start of `work` (microtasks it queues run before rendering, in the same frame).
function timeFrame(work) {
  return new Promise((resolve) => requestAnimationFrame(() => {
    const ch = new MessageChannel();
    const t0 = performance.now();
    ch.port1.onmessage = () => resolve(performance.now() - t0);
    ch.port2.postMessage(0);
    work();
  }));
}
// One frame's main-thread work: from its first rAF callback to the end of its rendering.
function frameWork() {
  return new Promise((resolve) => requestAnimationFrame((ts) => {
    const t0 = performance.now();
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve({ work: performance.now() - t0, at: ts });
    ch.port2.postMessage(0);
  }));
}
async function until(pred, what, ms = 10000) {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}
function inView(wrap, id) {
  const tr = wrap.querySelector(`[data-local-id="${CSS.escape(id)}"]`);
  if (!tr) return false;
  const a = tr.getBoundingClientRect(), b = wrap.getBoundingClientRect();
  return a.bottom > b.top && a.top < b.bottom;
}

// -- the measurements ----------------------------------------------------------------------------
const stage = document.getElementById("stage");

async function mountStudio() {
  const model = new FakeModel(config.traits);
  const el = document.createElement("div");
  stage.appendChild(el);
  const cleanup = widget.render({ model, el });
  await until(() => model.held.length > 0, "the first history request");
  const first = model.held.shift();
  const page = JSON.parse(pageText).data;
  const rows = page.rows.slice(first.offset, first.offset + first.limit);
  model.reply(first.req_id, { rows, total: page.total });
  await nextFrame();
  // The studio opens on its gallery; the history table is one click away.
  el.querySelector('[data-testid="kls-view-table"]').click();
  await nextFrame();
  const wrap = el.querySelector('[data-testid="kls-history-scroll"]');
  return { model, el, wrap, cleanup: () => { cleanup(); el.remove(); } };
}

async function renderWidget() {
  const s = await mountStudio();
  const select = s.el.querySelector('[data-testid="kls-history-page-size"]');
  select.value = String(config.page_size);
  select.dispatchEvent(new Event("change"));
  await until(() => s.model.held.length > 0, "the 10,000-row history request");
  const req = s.model.held.shift();
  const msg = JSON.parse(pageText);
  msg.req_id = req.req_id;
  await nextFrame();
  const ms = await timeFrame(() => s.model.deliver(msg));
  const built = s.el.querySelectorAll('[data-testid="kls-history-row"]').length;
  const range = s.el.querySelector('[data-testid="kls-history-range"]').textContent;
  return { s, ms, built, range, rows: msg.data.rows };
}

async function renderNaive() {
  const n = naiveMount(stage);
  const rows = JSON.parse(pageText).data.rows;
  await nextFrame();
  const ms = await timeFrame(() => n.render(rows));
  const built = n.body.children.length;
  return { n, ms, built, rows };
}

// Jump to row `index`: ms until it is in view and painted, frames it took, their work.
async function jump(wrap, rows, index) {
  const id = String(rows[index].local_id);
  await nextFrame();
  // Where the row is: its offset if it exists (the baseline), else rows are evenly spaced.
  const head = wrap.querySelector("thead").offsetHeight;
  const tr = wrap.querySelector(`[data-local-id="${CSS.escape(id)}"]`);
  const y = tr ? tr.offsetTop - head : index * ((wrap.scrollHeight - head) / rows.length);
  const t0 = performance.now();
  wrap.scrollTop = Math.round(y);
  let frames = 0, work = 0, maxWork = 0;
  for (;;) {
    const f = await frameWork();
    frames++; work += f.work; maxWork = Math.max(maxWork, f.work);
    if (inView(wrap, id)) break;
    if (frames > 120) throw new Error(`row ${id} never came into view`);
  }
  return { ms: performance.now() - t0, frames, work_ms: work, max_frame_ms: maxWork };
}

// Scroll by a fixed step every frame: main-thread work per frame, and the frame intervals.
async function steadyScroll(wrap, frames, step) {
  wrap.scrollTop = 0;
  await nextFrame(); await nextFrame();
  const works = [], intervals = [];
  let last = null, blank = 0;
  for (let i = 0; i < frames; i++) {
    wrap.scrollTop += step;
    const f = await frameWork();
    works.push(f.work);
    if (last !== null) intervals.push(f.at - last);
    last = f.at;
    const rows = wrap.querySelectorAll('[data-testid="kls-history-row"]');
    const b = wrap.getBoundingClientRect();
    const y = b.top + 40; // just below the sticky header
    const covered = Array.from(rows).some((tr) => {
      const a = tr.getBoundingClientRect();
      return a.top <= y && a.bottom >= y;
    });
    if (!covered) blank++;
  }
  return { works, intervals, blank };
}

window.runBench = async ({ runs, scrollFrames }) => {
  const out = { widget: [], naive: [], parse_ms: [], scroll: { widget: [], naive: [] } };
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    JSON.parse(pageText);
    out.parse_ms.push(performance.now() - t0);
    // Interleaved, alternating which goes first.
    for (const which of i % 2 === 0 ? ["naive", "widget"] : ["widget", "naive"]) {
      if (which === "widget") {
        const r = await renderWidget();
        out.widget.push({ ms: r.ms, built: r.built, range: r.range });
        if (i === 0) {
          await nextFrame();
          const middle = await jump(r.s.wrap, r.rows, Math.floor(r.rows.length / 2));
          const end = await jump(r.s.wrap, r.rows, r.rows.length - 1);
          const steady = await steadyScroll(r.s.wrap, scrollFrames, 120);
          out.scroll.widget.push({ middle, end, steady });
        }
        r.s.cleanup();
      } else {
        const r = await renderNaive();
        out.naive.push({ ms: r.ms, built: r.built });
        if (i === 0) {
          await nextFrame();
          const middle = await jump(r.n.wrap, r.rows, Math.floor(r.rows.length / 2));
          const end = await jump(r.n.wrap, r.rows, r.rows.length - 1);
          const steady = await steadyScroll(r.n.wrap, scrollFrames, 120);
          out.scroll.naive.push({ middle, end, steady });
        }
        r.n.wrap.remove();
      }
      await nextFrame();
    }
  }
  return out;
};
window.benchReady = true;
"""


class _Handler(BaseHTTPRequestHandler):
    files: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def do_GET(self) -> None:
        found = self.files.get(self.path.split("?")[0])
        if found is None:
            self.send_error(404)
            return
        kind, body = found
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(files: dict[str, tuple[str, bytes]]) -> Iterator[str]:
    """A loopback http.server for the page (ES modules do not load from file://)."""
    handler = type("Handler", (_Handler,), {"files": files})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def page_config(rows: int) -> dict[str, Any]:
    from kling_studio.studio._shapes import default_form

    cards = [
        {
            "local_id": f"card{i}",
            "task_id": f"task-card-{i}",
            "status": "completed" if i else "processing",
            "progress": 100 if i else 42,
            "prompt": LONG_PROMPT[:200],
            "created": 1_795_482_000 - i * 60,
            "elapsed": 45,
            "remaining": None if i else 30,
            "error": None,
            "has_video": False,
            "settings": {"resolution": "720p", "duration": 5, "generate_audio": False},
        }
        for i in range(3)
    ]
    traits = {
        "backend": {"mode": "simulator", "base_url": "http://127.0.0.1:1", "label": "Benchmark"},
        "rules": c.rules_for_front_end(),
        "form": default_form(),
        "pictures": {"image": None, "image_tail": None},
        "history_count": rows,
        "history_rev": 1,
        "error": None,
        "comparison": None,
    }
    return {"traits": traits, "cards": cards, "page_size": max(PAGE_SIZES)}


def browser_side(
    page_text: str, rows: int, runs: int, scroll_frames: int, executable: str
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    files = {
        "/": ("text/html; charset=utf-8", INDEX_HTML.encode()),
        "/favicon.ico": ("image/x-icon", b""),
        "/bench.js": ("text/javascript; charset=utf-8", BENCH_JS.encode()),
        "/widget.js": ("text/javascript; charset=utf-8", BUNDLE.read_bytes()),
        "/config.json": ("application/json", json.dumps(page_config(rows)).encode()),
        "/page.json": ("application/json", page_text.encode()),
    }
    errors: list[str] = []
    with serve(files) as url, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(url + "/")
            page.wait_for_function("window.benchReady === true", timeout=30_000)
            raw: dict[str, Any] = page.evaluate(
                "(a) => window.runBench(a)", {"runs": runs, "scrollFrames": scroll_frames}
            )
            version = browser.version
        finally:
            browser.close()
    if errors:
        raise RuntimeError("the benchmark page failed: " + "; ".join(errors[:5]))
    return {"chromium": version, **raw}


# -- the run ----------------------------------------------------------------------------------


def _scroll_summary(scroll: dict[str, Any]) -> dict[str, Any]:
    steady = scroll["steady"]
    works = steady["works"]
    intervals = steady["intervals"]
    return {
        "works_ms": works,
        "middle": scroll["middle"],
        "end": scroll["end"],
        "steady": {
            "frames": len(works),
            "median_work_ms": median(works),
            "max_work_ms": max(works, default=float("nan")),
            "median_interval_ms": median(intervals),
            "max_interval_ms": max(intervals, default=float("nan")),
            "blank_frames": steady["blank"],
        },
    }


def run(
    *,
    rows: int = 10_000,
    runs: int = 5,
    scroll_frames: int = 60,
    time_scale: float = 0.05,
    build: bool = False,
    executable: str | None = None,
) -> dict[str, Any]:
    executable = executable or chromium_path()
    if executable is None:
        raise RuntimeError(f"no Chromium at {CHROMIUM} (or $KLING_STUDIO_CHROMIUM)")
    if build:
        build_bundle()
    if not BUNDLE.is_file():
        raise RuntimeError(f"no bundle at {BUNDLE}: run `npm run build` (or pass --build)")
    bundle = bundle_sizes()
    with tempfile.TemporaryDirectory(prefix="kls-widget-bench-") as tmp:
        py = asyncio.run(python_side(rows, time_scale, Path(tmp)))
    page_text = py.pop("page_text")
    raw = browser_side(page_text, rows, runs, scroll_frames, executable)

    widget_ms = [r["ms"] for r in raw["widget"]]
    naive_ms = [r["ms"] for r in raw["naive"]]
    render_ms = median(widget_ms)
    tick = py["max_progress_bytes"]
    report: dict[str, Any] = {
        "date": date.today().isoformat(),
        "chromium": raw["chromium"],
        "rows": rows,
        "runs": runs,
        "render": {
            "widget": {
                "median_ms": render_ms,
                "runs_ms": widget_ms,
                "rows_built": raw["widget"][0]["built"],
                "range": raw["widget"][0]["range"],
            },
            "naive": {
                "median_ms": median(naive_ms),
                "runs_ms": naive_ms,
                "rows_built": raw["naive"][0]["built"],
            },
            "json_parse_ms": median(raw["parse_ms"]),
            "reply_bytes": len(page_text.encode()),
        },
        "scroll": {
            "widget": _scroll_summary(raw["scroll"]["widget"][0]),
            "naive": _scroll_summary(raw["scroll"]["naive"][0]),
        },
        "bundle": bundle,
        "python": py,
        "targets": {
            "bundle_minified_bytes": {
                "limit": TARGET_BUNDLE_BYTES,
                "value": bundle["minified"],
                "met": bundle["minified"] <= TARGET_BUNDLE_BYTES,
            },
            "progress_tick_bytes": {
                "limit": TARGET_TICK_BYTES,
                "value": tick,
                "met": tick is not None and tick <= TARGET_TICK_BYTES,
            },
            "render_ms": {
                "limit": TARGET_RENDER_MS,
                "value": render_ms,
                "met": render_ms <= TARGET_RENDER_MS,
            },
        },
    }
    return report


def _frames(jump: dict[str, Any]) -> str:
    return f"{jump['frames']}, {jump['work_ms']:.1f}"


def format_report(r: dict[str, Any]) -> str:
    w, n = r["render"]["widget"], r["render"]["naive"]
    sw, sn = r["scroll"]["widget"], r["scroll"]["naive"]
    py = r["python"]
    t = r["targets"]

    def met(key: str) -> str:
        return "yes" if t[key]["met"] else "NO"

    rows = [
        [
            f"(a) {r['rows']:,} rows: reply to painted, median ms",
            w["median_ms"],
            n["median_ms"],
            f"<= {TARGET_RENDER_MS:.0f}",
            met("render_ms"),
        ],
        ["    rows in the DOM", w["rows_built"], n["rows_built"], "", ""],
        ["    JSON.parse of the reply (comm layer), ms", r["render"]["json_parse_ms"], "", "", ""],
        [
            "(b) jump to the middle: ms to painted (waits for a frame)",
            sw["middle"]["ms"],
            sn["middle"]["ms"],
            "",
            "",
        ],
        [
            "    jump to the middle: frames, main-thread work ms",
            _frames(sw["middle"]),
            _frames(sn["middle"]),
            "",
            "",
        ],
        ["    jump to the end: ms to painted", sw["end"]["ms"], sn["end"]["ms"], "", ""],
        [
            "    jump to the end: frames, main-thread work ms",
            _frames(sw["end"]),
            _frames(sn["end"]),
            "",
            "",
        ],
        [
            "    steady scroll: median frame work, ms",
            sw["steady"]["median_work_ms"],
            sn["steady"]["median_work_ms"],
            "",
            "",
        ],
        [
            "    steady scroll: max frame work, ms",
            sw["steady"]["max_work_ms"],
            sn["steady"]["max_work_ms"],
            "",
            "",
        ],
        [
            "    steady scroll: max frame interval, ms",
            sw["steady"]["max_interval_ms"],
            sn["steady"]["max_interval_ms"],
            "",
            "",
        ],
        [
            "    steady scroll: blank frames",
            sw["steady"]["blank_frames"],
            sn["steady"]["blank_frames"],
            "",
            "",
        ],
        [
            "(c) bundle, bytes minified",
            r["bundle"]["minified"],
            "",
            f"<= {TARGET_BUNDLE_BYTES:,}",
            met("bundle_minified_bytes"),
        ],
        ["    bundle, bytes gzipped", r["bundle"]["gzip"], "", "", ""],
        [
            f"(d) progress tick, max bytes ({py['progress_ticks']} ticks)",
            py["max_progress_bytes"],
            "",
            f"<= {TARGET_TICK_BYTES:,}",
            met("progress_tick_bytes"),
        ],
        [
            "    progress tick with the Jupyter envelope (estimate)",
            py["max_progress_wire_bytes"],
            "",
            "",
            "",
        ],
        [
            f"    other task events (status, video), max bytes ({py['other_events']})",
            py["max_other_bytes"],
            "",
            "",
            "",
        ],
    ]
    for page in py["pages"]:
        rows.append(
            [
                f"    page re-request after a status change, {page['page_size']:,} rows: bytes",
                page["bytes"],
                "",
                "",
                "",
            ]
        )
    headers = ["measure", "kling-studio", "baseline (all rows)", "target", "met"]
    head = (
        f"Widget benchmark, {r['date']}: Chromium {r['chromium']}, {r['rows']:,}-row history, "
        f"{r['runs']} runs"
    )
    return head + "\n\n" + format_table(headers, rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.widget", description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000, help="history rows (default 10,000)")
    parser.add_argument("--runs", type=int, default=5, help="render runs per side (default 5)")
    parser.add_argument("--scroll-frames", type=int, default=60, help="steady-scroll frames")
    parser.add_argument("--time-scale", type=float, default=0.05, help="simulator clock")
    parser.add_argument("--build", action="store_true", help="run `npm run build` first")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.rows <= 10_000:
        parser.error("--rows must be 1..10,000 (the largest page Python answers)")
    report = run(
        rows=args.rows,
        runs=args.runs,
        scroll_frames=args.scroll_frames,
        time_scale=args.time_scale,
        build=args.build,
    )
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
