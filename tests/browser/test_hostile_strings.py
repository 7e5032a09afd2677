"""Issue 6 point 4 in a real browser: hostile strings stay plain text and no script runs.

Prompts, a picture's file name, a server's error message and code, a task id and result URLs
carrying HTML or script (`<img src=x onerror=...>`, `<script>`, `javascript:` and
`data:text/html` URLs) go through the widget as a user would meet them: typed into the form and
sent with Generate, picked through the file input, returned by a server. The server is a tiny fake
FoxAPI run by this test on loopback (the simulator has no switch for its failure text or result
URLs); the kernel gets its URL and a key through the notebook's kernelspec.

Afterwards every one of those strings is on screen as text (card, history row and detail,
comparison cell, picture slot), `window.__pwned` is still undefined, there is no `img[src=x]`,
no `onerror` attribute and no script carrying the payload anywhere in the page, and every video
source is http(s) or a blob: URL the widget made. Python's download of the `javascript:` and
`data:` results fails cleanly: an error on the card, in the history and in the comparison.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route

from ..conftest import make_picture
from . import harness

# Each payload, if it ever ran, would set window.__pwned to its own number.
HOSTILE_PROMPT = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> a fox'
FAILING_PROMPT = "<b>FAIL-ME</b> <svg onload=window.__pwned=10> a fox in the snow"
DATA_PROMPT = "DATA-URL <iframe src=javascript:window.__pwned=11></iframe> a fox at dusk"
HOSTILE_ERROR = (
    '<img src=x onerror="window.__pwned=4"><script>window.__pwned=5</script>'
    " <a href=javascript:window.__pwned=12>retry</a> the upstream refused"
)
HOSTILE_CODE = "<i>bad</i><img src=x onerror=window.__pwned=13>"
# A task that completes with a real http:// video (the fake serves a clip it encoded): its player
# shows that a source the widget does use is the saved file by the Jupyter server's own media
# route, never the server's URL.
VIDEO_PROMPT = "PLAIN-VIDEO <img src=x onerror=window.__pwned=16> a fox that plays"
# A create refused with HTTP 400 whose error envelope carries markup.
REJECTED_PROMPT = "REJECT-ME <marquee onstart=window.__pwned=14>a fox</marquee>"
HOSTILE_HTTP_ERROR = '<img src=x onerror="window.__pwned=15"> the prompt <b>is refused</b>'
JAVASCRIPT_URL = "javascript:window.__pwned=3"
DATA_URL = "data:text/html,<script>window.__pwned=6</script>"
HOSTILE_PICTURE = '"><img src=x onerror=window.__pwned=7>.png'
# A task id with markup (no "/", which the client refuses in ids).
HOSTILE_TASK_ID = 'task-{n}-"><img src=x onerror=window.__pwned=8>'

NOTEBOOK_CELLS = [
    """from kling_studio import Studio

studio = Studio()  # FOXAPI_API_KEY and FOXAPI_BASE_URL: the test's fake FoxAPI
assert studio.mode == "foxapi", studio
studio""",
]


# --------------------------------------------------------------------------------------------
# A fake FoxAPI with hostile answers
# --------------------------------------------------------------------------------------------


@dataclass
class FakeTask:
    id: str
    prompt: str
    created: float = field(default_factory=time.time)
    polls: int = 0


@dataclass
class FakeFoxAPI:
    """Just enough of FoxAPI for the client: upload, create, get. A task is `processing` on its
    first poll, then ends by its prompt ("REJECT-ME" is refused at once with HTTP 400 and a
    hostile error envelope): "FAIL-ME" fails with a hostile error, "DATA-URL"
    completes with a data:text/html result, anything else with a javascript: result."""

    clip: Path = Path()
    base_url: str = ""
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/files/upload/stream", self.upload, methods=["POST"]),
                Route("/v1/videos/generations", self.create, methods=["POST"]),
                Route("/v1/tasks/{task_id:path}", self.get, methods=["GET"]),
                Route("/videos/clip.mp4", self.video, methods=["GET"]),
            ]
        )

    async def upload(self, request: Request) -> JSONResponse:
        self.requests.append("upload")
        form = await request.form()
        upload = form["file"]
        data = await upload.read()  # type: ignore[union-attr]
        n = next(self._ids)
        return JSONResponse(
            {
                "id": f"file-{n}",
                "filename": "picture.png",
                "url": f"{self.base_url}/files/file-{n}/picture.png",
                "size": len(data),
                "created": int(time.time()),
            }
        )

    async def create(self, request: Request) -> JSONResponse:
        self.requests.append("create")
        body = await request.json()
        if "REJECT-ME" in str(body.get("prompt")):
            error = {"message": HOSTILE_HTTP_ERROR, "type": "invalid_request_error"}
            error["code"] = "<u>refused</u>"
            return JSONResponse({"error": error}, 400)
        task = FakeTask(HOSTILE_TASK_ID.format(n=next(self._ids)), str(body.get("prompt", "")))
        self.tasks[task.id] = task
        return JSONResponse(self.view(task, "pending"))

    async def get(self, request: Request) -> JSONResponse:
        self.requests.append("get")
        task = self.tasks.get(request.path_params["task_id"])
        if task is None:
            return JSONResponse({"error": {"message": "not found", "type": "not_found"}}, 404)
        task.polls += 1
        if task.polls == 1:
            return JSONResponse(self.view(task, "processing", progress=50))
        if "FAIL-ME" in task.prompt:
            body = self.view(task, "failed", progress=50)
            body["error"] = {"code": HOSTILE_CODE, "message": HOSTILE_ERROR, "type": "task_error"}
            return JSONResponse(body)
        url = DATA_URL if "DATA-URL" in task.prompt else JAVASCRIPT_URL
        if "PLAIN-VIDEO" in task.prompt:
            url = f"{self.base_url}/videos/clip.mp4"
        body = self.view(task, "completed", progress=100)
        body["results"] = [{"url": url, "width": 640, "height": 360}]
        return JSONResponse(body)

    async def video(self, request: Request) -> FileResponse:
        self.requests.append("video")
        return FileResponse(self.clip, media_type="video/mp4")

    @staticmethod
    def view(task: FakeTask, status: str, progress: int = 0) -> dict[str, Any]:
        return {
            "id": task.id,
            "object": "video.generation.task",
            "model": "kling-v3",
            "created": int(task.created),
            "status": status,
            "progress": progress,
            "task_info": {"can_cancel": True, "estimated_time": 1},
            "type": "video",
        }


def encode_clip(path: Path, seconds: int = 2, fps: int = 12) -> Path:
    """A small H.264 MP4 (a square crossing the frame), encoded with PyAV."""
    import av
    from PIL import Image, ImageDraw

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        for i in range(seconds * fps):
            image = Image.new("RGB", (320, 180), (30, 90, 60))
            x = 10 + i * 10
            ImageDraw.Draw(image).rectangle([x, 60, x + 60, 120], fill=(240, 200, 80))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@contextlib.contextmanager
def serve(api: FakeFoxAPI) -> Iterator[FakeFoxAPI]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    api.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(api.app(), lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the fake FoxAPI did not start"
        time.sleep(0.01)
    try:
        yield api
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# --------------------------------------------------------------------------------------------
# What the page must not contain
# --------------------------------------------------------------------------------------------

# Anything a payload would have left behind had it become markup or a source.
TRACES_JS = """() => {
  const all = [...document.querySelectorAll('*')];
  const srcs = all.flatMap((e) => ['src', 'href', 'srcdoc', 'data', 'action', 'formaction']
    .filter((a) => e.hasAttribute(a)).map((a) => e.getAttribute(a)));
  return {
    pwned: typeof window.__pwned === 'undefined' ? null : String(window.__pwned),
    imgX: document.querySelectorAll('img[src="x"]').length,
    handlers: all.filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name)))
      .map((e) => e.outerHTML.slice(0, 200)),
    // The comparison's own charts are <svg>s that hold the prompts as text (escaped in their
    // outerHTML); anything a payload made inside them is still an element and still caught.
    payloadElements: all.filter((e) => /^(script|svg|iframe|marquee|b|i|u)$/i.test(e.tagName)
        && e.getAttribute('data-testid') !== 'kls-summary-chart'
        && /__pwned|FAIL-ME|>bad<|is refused|>refused</.test(e.outerHTML))
      .map((e) => e.outerHTML.slice(0, 200)),
    badSources: srcs.filter((s) => /^\\s*(javascript|data:text|vbscript)/i.test(s || '')
      || /__pwned/.test(s || '')),
    videos: [...document.querySelectorAll('video')].map((v) => ({
      src: v.getAttribute('src'), current: v.currentSrc})),
  };
}"""


def assert_no_traces(page: Page) -> dict[str, Any]:
    traces: dict[str, Any] = page.evaluate(TRACES_JS)
    assert traces["pwned"] is None, f"a payload ran: window.__pwned = {traces['pwned']}"
    assert traces["imgX"] == 0, traces
    assert traces["handlers"] == [], traces
    assert traces["payloadElements"] == [], traces
    assert traces["badSources"] == [], traces
    for video in traces["videos"]:
        for src in (video["src"], video["current"]):
            assert not src or src.startswith(("blob:", "http://", "https://")), video
    return traces


def open_studio(page: Page, server: harness.JupyterServer, tmp_path: Path, api: FakeFoxAPI) -> None:
    """A notebook whose studio talks to `api`, open in JupyterLab with the widget shown."""
    source = harness.make_notebook(tmp_path / "hostile.ipynb", NOTEBOOK_CELLS)
    env = {
        "FOXAPI_API_KEY": "k",
        "FOXAPI_BASE_URL": api.base_url,
        "KLING_STUDIO_HOME": str(tmp_path / "home"),
    }
    name = harness.copy_notebook(source, server, env=env)
    harness.open_notebook(page, server, name, "lab")
    harness.run_all(page, "lab", timeout=60_000)
    harness.wait_for_widget(page, "[data-testid=kls-generate]")


def pick_picture(page: Page, name: str) -> None:
    """Picks an 800x450 PNG called `name` through the first frame's file input."""
    data = make_picture(800, 450, (40, 120, 200))
    page.locator("[data-testid=kls-image-input]").set_input_files(
        {"name": name, "mimeType": "image/png", "buffer": data}
    )
    facts = page.locator(".kls-slot[data-slot=image] .kls-facts")
    expect(facts).to_contain_text(f"{name} · 800 × 450 px", timeout=15_000)
    expect(page.locator("[data-testid=kls-image-checks] li[data-ok=true]")).to_have_count(4)


def generate(page: Page, prompt: str) -> None:
    """Types `prompt` into the form and presses Generate; waits for Python's answer."""
    page.locator("[data-testid=kls-prompt]").fill(prompt)
    button = page.locator("[data-testid=kls-generate]")
    expect(button).to_be_enabled()
    button.click()
    expect(page.locator("[data-testid=kls-generate-reason]")).to_contain_text(
        "Task started", timeout=15_000
    )


def card_with(page: Page, prompt: str) -> Any:
    """The task card whose prompt reads exactly `prompt`."""
    exact = page.locator(".kls-prompt", has_text=re.compile(f"^{re.escape(prompt)}$"))
    return page.locator("[data-testid=kls-card]").filter(has=exact)


@pytest.mark.browser
def test_hostile_strings_stay_text_and_nothing_runs(
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    tmp_path: Path,
) -> None:
    with serve(FakeFoxAPI(clip=encode_clip(tmp_path / "clip.mp4"))) as api:
        open_studio(page, jupyter_server, tmp_path, api)

        # A picture whose file name is markup: shown as text in the slot.
        pick_picture(page, HOSTILE_PICTURE)

        # Tasks through the form: a javascript: result, a hostile failure, a data: result, a
        # create refused with a hostile error envelope, a real video.
        generate(page, HOSTILE_PROMPT)
        hostile = card_with(page, HOSTILE_PROMPT)
        expect(hostile).to_have_count(1, timeout=15_000)
        expect(hostile).to_have_attribute("data-status", "completed", timeout=30_000)
        generate(page, FAILING_PROMPT)
        failed = card_with(page, FAILING_PROMPT)
        expect(failed).to_have_attribute("data-status", "failed", timeout=30_000)
        generate(page, DATA_PROMPT)
        data_card = card_with(page, DATA_PROMPT)
        expect(data_card).to_have_attribute("data-status", "completed", timeout=30_000)
        generate(page, REJECTED_PROMPT)
        rejected = card_with(page, REJECTED_PROMPT)
        expect(rejected).to_have_attribute("data-status", "failed", timeout=30_000)
        generate(page, VIDEO_PROMPT)
        playing = card_with(page, VIDEO_PROMPT)
        expect(playing).to_have_attribute("data-status", "completed", timeout=30_000)
        assert api.requests.count("create") == 5, api.requests
        assert api.requests.count("upload") == 1, api.requests

        # The cards: every string exactly as text.
        expect(hostile.locator(".kls-prompt")).to_have_text(HOSTILE_PROMPT)
        expect(failed.locator(".kls-prompt")).to_have_text(FAILING_PROMPT)
        expect(data_card.locator(".kls-prompt")).to_have_text(DATA_PROMPT)
        expect(rejected.locator(".kls-prompt")).to_have_text(REJECTED_PROMPT)
        expect(playing.locator(".kls-prompt")).to_have_text(VIDEO_PROMPT)
        # A tile plays in the player when clicked.
        playing.locator(".kls-prompt").click()
        stage = page.locator("[data-testid=kls-stage]")
        expect(stage.locator(".kls-prompt")).to_have_text(VIDEO_PROMPT)
        video = stage.locator("[data-testid=kls-video]")
        expect(video).to_be_visible(timeout=30_000)
        handle = video.element_handle()
        assert handle is not None
        page.wait_for_function("(v) => v.readyState >= 2", arg=handle, timeout=30_000)
        own_route = f"{jupyter_server.url}/kling-studio/media/"
        assert str(handle.evaluate("(v) => v.currentSrc")).startswith(own_route)
        expect(rejected.locator("[data-testid=kls-card-note]")).to_have_text(
            f"<u>refused</u> {HOSTILE_HTTP_ERROR}"
        )
        expect(hostile.locator(".kls-card-head")).to_contain_text(HOSTILE_TASK_ID.format(n=2))
        expect(failed.locator("[data-testid=kls-error-code]")).to_have_text(HOSTILE_CODE)
        expect(failed.locator("[data-testid=kls-card-note]")).to_have_text(
            f"{HOSTILE_CODE} {HOSTILE_ERROR}"
        )
        # The javascript: and data: results never become a video: Python refused to download
        # them, and each card says why (as do the history and the comparison, below).
        for card, url in ((hostile, JAVASCRIPT_URL), (data_card, DATA_URL)):
            card.locator(".kls-prompt").click()
            expect(stage).to_have_attribute(
                "data-local-id", card.get_attribute("data-local-id") or ""
            )
            expect(stage.locator("video")).to_have_count(0)
            expect(stage).to_contain_text("No video for this task.")
            expect(card.locator("[data-testid=kls-error-code]")).to_have_text("download_failed")
            expect(card.locator("[data-testid=kls-card-note]")).to_contain_text(
                f"not an http(s) URL: {url!r}"
            )
        page.locator("[data-testid=kls-gallery]").evaluate(
            "(el) => el.scrollIntoView({block: 'start'})"
        )
        harness.screenshot(page, "hostile-strings-cards")
        assert_no_traces(page)

        # The history table: rows, and the player for a clicked row, as text.
        page.locator("[data-testid=kls-view-table]").click()
        rows = page.locator("[data-testid=kls-history-row]")
        expect(rows).to_have_count(5, timeout=15_000)
        hostile_row = rows.filter(has_text=HOSTILE_PROMPT)
        expect(hostile_row.locator("td.kls-cell-prompt")).to_have_text(HOSTILE_PROMPT)
        expect(hostile_row.locator("td.kls-cell-error")).to_contain_text(
            f"DownloadError: task {HOSTILE_TASK_ID.format(n=2)}: "
            f"not an http(s) URL: {JAVASCRIPT_URL!r}"
        )
        data_row = rows.filter(has_text=DATA_PROMPT)
        expect(data_row.locator("td.kls-cell-error")).to_contain_text(
            f"not an http(s) URL: {DATA_URL!r}"
        )
        rejected_row = rows.filter(has_text=REJECTED_PROMPT)
        expect(rejected_row.locator("td.kls-cell-error")).to_contain_text(
            f"<u>refused</u>: HTTP 400 invalid_request_error: {HOSTILE_HTTP_ERROR}"
        )
        failed_row = rows.filter(has_text=FAILING_PROMPT)
        expect(failed_row.locator("td.kls-cell-error")).to_have_text(
            f"{HOSTILE_CODE}: {HOSTILE_ERROR}"
        )
        hostile_row.click()
        detail = page.locator("[data-testid=kls-stage]")
        expect(detail.locator(".kls-prompt")).to_have_text(HOSTILE_PROMPT)
        expect(detail).to_contain_text(HOSTILE_TASK_ID.format(n=2))
        expect(detail).to_contain_text("No video for this task.")
        failed_row.click()
        expect(detail.locator("[data-testid=kls-stage-problem]")).to_have_text(
            f"{HOSTILE_CODE}: {HOSTILE_ERROR}"
        )
        expect(detail.locator("[data-testid=kls-stage-problem]")).to_have_class("kls-bad-text")
        detail.scroll_into_view_if_needed()
        harness.screenshot(page, "hostile-strings-history")

        # A comparison of the hostile prompt and the failing one, built in the widget.
        tab = page.locator("[data-testid=kls-tab-compare]")
        if tab.get_attribute("aria-selected") != "true":
            tab.click()
        page.locator("[data-testid=kls-compare-prompts]").fill(
            f"{HOSTILE_PROMPT}\n{FAILING_PROMPT}"
        )
        plan_variants = page.locator("[data-testid=kls-compare-plan-variant]")
        expect(plan_variants).to_have_count(2, timeout=15_000)
        expect(plan_variants.first).to_contain_text(HOSTILE_PROMPT)
        page.locator("[data-testid=kls-compare-run]").click()
        cells = page.locator("[data-testid=kls-compare-cell]")
        expect(cells).to_have_count(2, timeout=15_000)
        a, b = cells.nth(0), cells.nth(1)
        expect(a.locator(".kls-compare-param[data-param=prompt] dd")).to_have_text(HOSTILE_PROMPT)
        expect(b.locator(".kls-compare-param[data-param=prompt] dd")).to_have_text(FAILING_PROMPT)
        expect(b).to_have_attribute("data-status", "failed", timeout=30_000)
        expect(b.locator("[data-testid=kls-compare-error]")).to_have_text(
            f"{HOSTILE_CODE}: {HOSTILE_ERROR}"
        )
        expect(a).to_have_attribute("data-status", "completed", timeout=30_000)
        expect(a.locator("[data-testid=kls-compare-error]")).to_contain_text("not an http(s) URL")
        expect(a.locator("video")).to_have_count(0)
        page.locator("[data-testid=kls-compare-grid]").evaluate(
            "(el) => el.scrollIntoView({block: 'start'})"
        )
        harness.screenshot(page, "hostile-strings-compare")

        # Python's side: the hostile results were recorded, never saved as a video, and their
        # download failed with an error (not a crash); the plain one was saved.
        records = json.loads(
            harness.kernel_exec(
                page,
                "import json\nprint(json.dumps([[r.video_url, r.has_video, r.download_error] "
                "for r in studio.history.records(limit=10) if r.video_url]))",
            )
        )
        by_url = {url: (has_video, error) for url, has_video, error in records}
        assert by_url[JAVASCRIPT_URL][0] is False, by_url
        assert "not an http(s) URL" in by_url[JAVASCRIPT_URL][1], by_url
        assert by_url[DATA_URL][0] is False, by_url
        assert "not an http(s) URL" in by_url[DATA_URL][1], by_url
        assert by_url[f"{api.base_url}/videos/clip.mp4"] == (True, None), by_url

    # Back in the studio, the plain task in the player.
    page.locator("[data-testid=kls-tab-create]").click()
    page.locator("[data-testid=kls-view-gallery]").click()
    card_with(page, VIDEO_PROMPT).locator(".kls-prompt").click()
    expect(page.locator("[data-testid=kls-stage] [data-testid=kls-video]")).to_be_visible()
    traces = assert_no_traces(page)
    # One player in the page (the plain task's, in the player), on the saved file by the media
    # route of the page's own Jupyter server.
    assert len(traces["videos"]) == 1, traces
    assert traces["videos"][0]["src"].startswith(f"{jupyter_server.url}/kling-studio/media/")
    page.locator(".kls-slot[data-slot=image]").evaluate(
        "(el) => el.scrollIntoView({block: 'start'})"
    )
    harness.screenshot(page, "hostile-strings-end")
    console_log.assert_no_errors()


@pytest.mark.browser
def test_a_result_python_cannot_download_is_explained_on_its_card(
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    tmp_path: Path,
) -> None:
    with serve(FakeFoxAPI()) as api:
        open_studio(page, jupyter_server, tmp_path, api)
        pick_picture(page, "fox.png")
        generate(page, "A fox in the snow")
        card = card_with(page, "A fox in the snow")
        expect(card).to_have_attribute("data-status", "completed", timeout=30_000)
        card.locator(".kls-prompt").click()
        stage = page.locator("[data-testid=kls-stage]")
        expect(stage.locator("video")).to_have_count(0)
        expect(stage).to_contain_text("No video for this task.")
        # The history already explains it; the card should too.
        row = page.locator("[data-testid=kls-history-row]", has_text="A fox in the snow")
        expect(row).to_contain_text("not an http(s) URL", timeout=15_000)
        card.scroll_into_view_if_needed()
        harness.screenshot(page, "hostile-strings-undownloadable-card")
        note = card.locator("[data-testid=kls-card-note]")
        expect(note).to_contain_text(f"not an http(s) URL: {JAVASCRIPT_URL!r}", timeout=5_000)
    console_log.assert_no_errors()
