"""The player streams from the Jupyter server's media route in a real browser (JupyterLab 4 and
Notebook 7) with a real kernel on the simulator: the `<video>`'s source is an http URL of the
route, a Range request to it answers 206, a seek to the last second shows a frame after reading
only part of the file (the bytes the browser received are counted through Chromium's DevTools
protocol), and where the route fails the player falls back to the bytes and still plays."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

from . import harness
from .test_studio import play

MEDIA_ROUTE = "/kling-studio/media/"

# A 10 s 1080p clip at a real clip's bitrate (~12 MB), a keyframe a second: a seek decodes from the
# keyframe before it, so a player that reads by Range needs only the end of the file. (With one
# keyframe per clip, x264's default, any seek needs everything before it: benchmarks/README.md.)
CELLS = [
    """\
import io
from PIL import Image
from kling_studio import Studio
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import Simulator
sim = Simulator(time_scale=0.02, bitrate="realistic", keyframe_seconds=1,
                data_dir={renders!r}).start()
s = Studio(api_key=sim.api_key, base_url=sim.base_url, history="player-{tag}.sqlite3",
           resume=False)
s.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
picture = io.BytesIO()
Image.new("RGB", (1280, 720), (40, 90, 140)).save(picture, "PNG")
s.set_image(picture.getvalue())
r = s.generate(prompt="a harbour at dusk", resolution="1080p", duration=10, timeout=240)
print(r.status, r.video_path.stat().st_size)
""",
    "s",
]
# A second studio on the same history: its gallery lists the clip from the history's rows.
SECOND_STUDIO = [
    """s2 = Studio(api_key=sim.api_key, base_url=sim.base_url, history="player-{tag}.sqlite3",
            resume=False)
s2
""",
]

# The poster of the second studio's tile, once it has loaded (or failed).
POSTER_JS = """() => {
  const roots = document.querySelectorAll('.kls-root');
  const img = roots.length > 1 && roots[1].querySelector('[data-testid=kls-card] img');
  return img && img.complete ? {src: img.currentSrc || img.src, width: img.naturalWidth} : null;
}"""


def history_poster(page: Page) -> dict[str, object]:
    """The src and width of the poster in the second studio's gallery (from history rows)."""
    page.locator(".kls-root").nth(1).scroll_into_view_if_needed()
    handle = page.wait_for_function(
        f"() => {{ const p = ({POSTER_JS})(); return p && p.width > 0 && p; }}", timeout=30_000
    )
    value: dict[str, object] = handle.json_value()
    return value


class MediaBytes:
    """Bytes Chromium received for requests to the media route (encoded, as on the wire)."""

    def __init__(self, page: Page) -> None:
        self.urls: dict[str, str] = {}
        self.received = 0
        self.requests = 0
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.dataReceived", self._data)
        cdp.send("Network.enable")

    def _sent(self, event: dict[str, object]) -> None:
        url = str(event["request"]["url"])  # type: ignore[index]
        if MEDIA_ROUTE in url:
            self.urls[str(event["requestId"])] = url
            self.requests += 1

    def _data(self, event: dict[str, object]) -> None:
        if str(event["requestId"]) in self.urls:
            self.received += int(event["encodedDataLength"] or event["dataLength"])  # type: ignore[call-overload]


@contextmanager
def studio_with_a_clip(
    page: Page, server: harness.JupyterServer, ui: harness.UI, tag: str, *, second: bool = False
) -> Iterator[int]:
    """Opens a notebook whose studio has one finished clip (and, with `second`, another studio
    on the same history below it); yields the clip's size in bytes."""
    # One render folder for the server's tests: the clip is encoded once.
    renders = str(server.base_dir / "simulator-renders")
    cells = [
        c.replace("{tag}", tag).replace("{renders!r}", repr(renders))
        for c in [*CELLS, *(SECOND_STUDIO if second else [])]
    ]
    notebook = harness.make_notebook(server.base_dir / f"player-{tag}.ipynb", cells)
    name = harness.copy_notebook(notebook, server)
    harness.open_notebook(page, server, name, ui)
    harness.run_all(page, ui, timeout=240_000)
    out = page.locator(".jp-OutputArea-output", has_text="completed").first
    expect(out).to_be_visible(timeout=30_000)
    size = int(out.inner_text().split()[-1])
    harness.wait_for_widget(page, "[data-testid=kls-backend]")
    try:
        yield size
    finally:
        harness.kernel_exec(page, "s.close(); sim.stop()" + ("; s2.close()" if second else ""))


def open_the_clip(page: Page) -> object:
    studio = page.locator(".kls-root").first
    card = studio.locator("[data-testid=kls-card][data-status=completed]").first
    expect(card).to_be_visible(timeout=60_000)
    card.locator(".kls-prompt").click()
    video = studio.locator("[data-testid=kls-stage] [data-testid=kls-video]")
    expect(video).to_be_visible(timeout=30_000)
    return video


@pytest.fixture(scope="module")
def hub_like_server() -> Iterator[harness.JupyterServer]:
    """A server under a JupyterHub single-user server's base URL."""
    server = harness.start_jupyter_server(base_url="/user/ana/")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.base_dir, ignore_errors=True)


@pytest.mark.browser
@pytest.mark.parametrize("ui", harness.UIS)
def test_the_player_streams_from_the_media_route_and_seeks_without_reading_it_all(
    ui: harness.UI,
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
) -> None:
    streams_and_seeks(ui, page, jupyter_server, console_log)


@pytest.mark.browser
def test_under_a_jupyterhub_base_url_the_route_is_resolved_against_it(
    page: Page, hub_like_server: harness.JupyterServer, console_log: harness.ConsoleLog
) -> None:
    assert hub_like_server.url.endswith("/user/ana")
    streams_and_seeks("lab", page, hub_like_server, console_log, label="-hub")


def streams_and_seeks(
    ui: harness.UI,
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    label: str = "",
) -> None:
    counted = MediaBytes(page)
    with studio_with_a_clip(page, jupyter_server, ui, f"stream-{ui}") as size:
        video = open_the_clip(page)
        handle = video.element_handle()  # type: ignore[attr-defined]
        page.wait_for_function("(v) => v.readyState >= 2", arg=handle, timeout=30_000)
        src = str(handle.evaluate("(v) => v.currentSrc"))
        at_first_frame = counted.received
        assert src.startswith(jupyter_server.url + MEDIA_ROUTE), src
        assert counted.requests >= 1

        # The route answers Range requests with the page's own credentials.
        ranged = page.evaluate(
            """async (src) => {
              const r = await fetch(src, {headers: {Range: 'bytes=100-199'}});
              return {status: r.status, range: r.headers.get('content-range'),
                      accept: r.headers.get('accept-ranges'), type: r.headers.get('content-type'),
                      length: (await r.arrayBuffer()).byteLength};
            }""",
            src,
        )
        assert ranged == {
            "status": 206,
            "range": f"bytes 100-199/{size}",
            "accept": "bytes",
            "type": "video/mp4",
            "length": 100,
        }

        # A seek to the last second shows a frame without the whole file.
        seek = handle.evaluate(
            """(v) => new Promise((done) => {
              v.addEventListener('seeked', () => requestAnimationFrame(() =>
                done({time: v.currentTime, duration: v.duration, ready: v.readyState})),
                {once: true});
              v.currentTime = v.duration - 0.5;
            })"""
        )
        assert seek["ready"] >= 2 and seek["time"] >= seek["duration"] - 1, seek
        read = counted.received - 100  # minus the fetch above
        print(
            f"{ui}: read {at_first_frame / size:.0%} of {size} bytes to the first frame,"
            f" {read / size:.0%} once a seek to the last second showed its frame"
        )
        assert 0 < read < 0.75 * size, (read, size)
        state = play(page, video)
        assert state["src"] == src
        harness.screenshot(page, f"player-route-{ui}{label}")
    console_log.assert_no_errors()


@pytest.mark.browser
def test_a_gallery_loads_history_posters_by_the_route(
    page: Page, jupyter_server: harness.JupyterServer, console_log: harness.ConsoleLog
) -> None:
    with studio_with_a_clip(page, jupyter_server, "lab", "posters", second=True):
        poster = history_poster(page)
        assert str(poster["src"]).startswith(jupyter_server.url + MEDIA_ROUTE), poster
        assert str(poster["src"]).endswith(".jpg")
    console_log.assert_no_errors()


@pytest.mark.browser
def test_where_the_route_fails_the_player_falls_back_to_the_bytes(
    page: Page, jupyter_server: harness.JupyterServer, console_log: harness.ConsoleLog
) -> None:
    refused: list[str] = []

    def refuse(route: object) -> None:
        refused.append(route.request.url)  # type: ignore[attr-defined]
        route.abort()  # type: ignore[attr-defined]

    page.route(f"**{MEDIA_ROUTE}**", refuse)
    with studio_with_a_clip(page, jupyter_server, "lab", "fallback", second=True):
        video = open_the_clip(page)
        state = play(page, video)
        assert str(state["src"]).startswith("blob:"), state
        assert 9.5 <= state["duration"] <= 10.5, state
        assert refused, "the player never tried the route"
        # The posters too: the failed route turns routes off, the rows come with the bytes.
        poster = history_poster(page)
        assert str(poster["src"]).startswith("data:image/jpeg;base64,"), poster
        assert any(".jpg" in url for url in refused), refused
    # The failed load of the route is the browser's own console line, not the widget's.
    console_log.assert_no_errors(ignore=[r"ERR_FAILED|Failed to load resource"])
