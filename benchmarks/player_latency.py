"""Player latency: from the moment the server marks a task completed to the first frame of its
video painted in the browser, for a 10 s 1080p clip of a real clip's size (~12 MB).

Side by side in one run, in one JupyterLab page (headless Chromium through Playwright, the
tests' browser harness), alternating:

- **route**: the real `Studio` widget, displayed in the notebook's first cell. A run submits a
  task (`s.submit(...)`, from the kernel, as the Generate button does); the runner notices the
  completion, downloads the video, sends the card; the front end asks for the video and gets a
  link to the Jupyter server's media route (kling_studio.serverext), which the `<video>` reads
  with HTTP Range. After the first frame the run seeks to the last second and counts the bytes
  the browser received from the route (Chromium's DevTools protocol), as a fraction of the file.
- **websocket**: the same widget with the route turned off (`KLING_STUDIO_MEDIA_ROUTE=0` in the
  kernel): the front end gets the video's bytes as websocket chunks and plays them from a blob:
  URL (the studio's only path before the route, and its fallback). It holds the whole file
  before its first frame, so its seek fraction is 1 by construction.
- **baseline**: what a notebook without the studio does: a fresh cell runs
  `r = s.generate(...)` (the same runner: it returns once the video is saved) then
  `display(IPython.display.Video(r.video_path, embed=True))`, a data: URL in a fresh output.

"Completed" is the simulator's own moment (`state.Task.completed_at()`: the later of the drawn
end and the video being ready), read from its task table; the simulator runs in this process,
whose monotonic clock is turned into wall time once. "Painted" is the first animation frame
after the new `<video>` is visible and has its first frame (`readyState >= HAVE_CURRENT_DATA`),
stamped with `performance.timeOrigin + performance.now()` in the page (same machine, same wall
clock). The simulator renders with `bitrate="realistic"` and the clip is rendered once before
the runs (renders are cached by content), so every run downloads a fresh 12 MB file over
loopback but no run waits for an encoder.

    python -m benchmarks.player_latency [--runs N] [--resolution 1080p] [--duration 10]
        [--time-scale X] [--json]

Needs Debian's Chromium at /usr/bin/chromium (or $KLING_STUDIO_CHROMIUM) and Playwright, and a
built bundle (`npm run build`).
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import format_table, percentile

PICTURE_SIZE = (1280, 720)
PATHS = ("route", "websocket", "baseline")
MEDIA_ROUTE = "/kling-studio/media/"

# Stamps the first frame painted by the next <video> that appears (in the widget, or in an
# output area for the baseline), once it is visible and has its first frame decoded.
WATCH_JS = """(which) => {
  window.__klsPainted = null;
  const seen = new Set(document.querySelectorAll('video'));
  const wanted = (v) => which !== 'baseline'
    ? v.matches('[data-testid=kls-video]')
    : !v.matches('[data-testid=kls-video]') && !!v.closest('.jp-OutputArea-output');
  const loop = () => {
    for (const v of document.querySelectorAll('video')) {
      if (seen.has(v) || !wanted(v)) continue;
      if (!v.hidden && v.readyState >= 2 && v.getBoundingClientRect().height > 0) {
        // This frame shows it: stamp the next one, by which the compositor has drawn it.
        requestAnimationFrame(() => {
          window.__klsPainted = performance.timeOrigin + performance.now();
        });
        return;
      }
    }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
}"""


@dataclass(frozen=True)
class Settings:
    runs: int = 5
    resolution: str = "1080p"
    duration: int = 10
    time_scale: float = 0.02
    keyframe_seconds: float | None = 1.0  # None: x264's default (one keyframe per 10 s clip)
    timeout: float = 300.0


def picture_b64() -> str:
    """A 1280x720 PNG with some detail, as base64 (handed to the kernel in a cell)."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", PICTURE_SIZE, (40, 90, 140))
    draw = ImageDraw.Draw(image)
    for x in range(0, PICTURE_SIZE[0], 40):
        draw.line((x, 0, PICTURE_SIZE[0] - x, PICTURE_SIZE[1]), fill=(200, 160, 60), width=3)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def setup_cell(base_url: str, api_key: str, history: Path, settings: Settings) -> str:
    """The notebook's first cell: a Studio on the simulator, its form filled, displayed."""
    return "\n".join(
        [
            "import base64",
            "from IPython.display import Video, display",
            "from kling_studio import Studio",
            "from kling_studio.client._polling import PollPolicy",
            f"s = Studio(api_key={api_key!r}, base_url={base_url!r}, history={str(history)!r},"
            " resume=False)",
            "s.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)",
            f"s.set_image(base64.b64decode({picture_b64()!r}))",
            f"s.update_form(prompt='a harbour at dusk', resolution={settings.resolution!r},"
            f" duration={settings.duration})",
            "s",
        ]
    )


def baseline_cell(run: int) -> str:
    return (
        f"r = s.generate(prompt='a harbour at dusk', timeout=600)\n"
        "display(Video(str(r.video_path), embed=True))\n"
        f"print('baseline {run}', r.local_id)"
    )


@dataclass(frozen=True)
class Run:
    """One run's moments after the server's `completed`, in seconds."""

    detected: float  # the runner journalled `completed` (history finished_at)
    saved: float  # the video file was in place (its mtime)
    painted: float  # the first frame was painted in the page
    read_first: float = float("nan")  # fraction of the file received by the first frame
    read_seek: float = float("nan")  # ... once a seek to the last second showed its frame

    def as_dict(self) -> dict[str, float]:
        return {
            "detected": self.detected,
            "saved": self.saved,
            "painted": self.painted,
            "read_first": self.read_first,
            "read_seek": self.read_seek,
        }


def summarize(runs: dict[str, list[Run]]) -> dict[str, dict[str, float]]:
    """Per path: runs, p50/p95/min/max of `painted`, and the p50 of each stage."""
    out: dict[str, dict[str, float]] = {}
    for path, items in runs.items():
        values = [r.painted for r in items]
        out[path] = {
            "runs": len(values),
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "min": min(values) if values else float("nan"),
            "max": max(values) if values else float("nan"),
            "detected_p50": percentile([r.detected for r in items], 50),
            "saved_p50": percentile([r.saved for r in items], 50),
            "read_first_p50": percentile([r.read_first for r in items], 50),
            "read_seek_p50": percentile([r.read_seek for r in items], 50),
        }
    return out


class CompletionClock:
    """When the simulator (running in this process) made a task completed, in wall seconds."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.offset = time.time() - time.monotonic()

    def completed(self, task_id: str) -> float:
        task = self.sim._ctx.store.task(task_id)  # no public API says when: read its table
        if task is None or task.completed_at() is None:
            raise RuntimeError(f"the simulator has no completed task {task_id!r}")
        return float(task.completed_at()) + self.offset


def warm_render(base_url: str, api_key: str, folder: Path, settings: Settings) -> float:
    """Render the clip once (cached by content afterwards); returns its size in bytes."""
    from kling_studio import Studio
    from kling_studio.client._polling import PollPolicy

    studio = Studio(api_key=api_key, base_url=base_url, history=folder / "warm.db", resume=False)
    try:
        studio.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
        studio.set_image(base64.b64decode(picture_b64()))
        record = studio.generate(
            prompt="a harbour at dusk",
            resolution=settings.resolution,
            duration=settings.duration,
            timeout=settings.timeout,
        )
        assert record.video_path is not None
        return float(record.video_path.stat().st_size)
    finally:
        studio.close()


def run(settings: Settings) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright
    from tests.browser import harness

    from kling_studio.simulator import Simulator

    chromium = harness.find_chromium()
    if chromium is None:
        raise SystemExit(harness.chromium_missing_reason())
    folder = Path(tempfile.mkdtemp(prefix="kling-player-bench-"))
    server = None
    try:
        with Simulator(
            time_scale=settings.time_scale,
            bitrate="realistic",
            keyframe_seconds=settings.keyframe_seconds,
            data_dir=folder / "sim",
        ) as sim:
            clock = CompletionClock(sim)
            size = warm_render(sim.base_url, sim.api_key, folder, settings)
            server = harness.start_jupyter_server()
            cells = [setup_cell(sim.base_url, sim.api_key, folder / "h.db", settings)]
            cells += [baseline_cell(i) for i in range(settings.runs)]
            notebook = harness.make_notebook(folder / "player.ipynb", cells)
            name = harness.copy_notebook(notebook, server)
            runs: dict[str, list[Run]] = {p: [] for p in PATHS}
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=chromium, args=list(harness.CHROMIUM_ARGS)
                )
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                counter = RouteBytes(page)
                harness.open_in_lab(page, server, name)
                run_cell(page, 0, settings.timeout)
                harness.wait_for_widget(page, ".kls-root")
                for i in range(settings.runs):
                    runs["route"].append(studio_run(page, clock, i, settings, counter, size))
                    runs["websocket"].append(studio_run(page, clock, i, settings, None, size))
                    runs["baseline"].append(baseline_run(page, clock, i, settings))
                browser.close()
        return {
            "settings": settings.__dict__,
            "video_bytes": size,
            "runs": {path: [r.as_dict() for r in items] for path, items in runs.items()},
            "summary": summarize(runs),
        }
    finally:
        if server is not None:
            server.stop()
            shutil.rmtree(server.base_dir, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)


def run_cell(page: Any, index: int, timeout: float) -> None:
    """Run cell `index` of the open notebook and wait for its execute_reply."""
    page.evaluate(
        """async (index) => {
          const w = window.jupyterapp.shell.currentWidget;
          w.content.activeCellIndex = index;
          window.__klsCellDone = false;
          const kernel = w.sessionContext.session.kernel;
          const done = (_, {msg, direction}) => {
            if (direction === 'recv' && msg.header.msg_type === 'execute_reply') {
              window.__klsCellDone = true;
              kernel.anyMessage.disconnect(done);
            }
          };
          kernel.anyMessage.connect(done);
          await window.jupyterapp.commands.execute('notebook:run-cell');
        }""",
        index,
    )
    page.wait_for_function("() => window.__klsCellDone === true", timeout=timeout * 1000)


def painted(page: Any, timeout: float) -> float:
    page.wait_for_function("() => window.__klsPainted !== null", timeout=timeout * 1000)
    return float(page.evaluate("() => window.__klsPainted")) / 1000.0


# Prints a record's task id, when the runner journalled it completed, when its video was saved.
MOMENTS = (
    "r = s.history[{local_id!r}]\n"
    "print(r.task_id, r.finished_at.timestamp(), r.video_path.stat().st_mtime)"
)


def moments(page: Any, clock: CompletionClock, local_id: str, painted_at: float) -> Run:
    from tests.browser import harness

    task_id, finished, saved = harness.kernel_exec(page, MOMENTS.format(local_id=local_id)).split()
    completed = clock.completed(task_id)
    return Run(float(finished) - completed, float(saved) - completed, painted_at - completed)


class RouteBytes:
    """Bytes the browser received from the media route (Chromium's DevTools protocol)."""

    def __init__(self, page: Any) -> None:
        self.requests: set[str] = set()
        self.received = 0
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.dataReceived", self._data)
        cdp.send("Network.enable")

    def _sent(self, event: dict[str, Any]) -> None:
        if MEDIA_ROUTE in str(event["request"]["url"]):
            self.requests.add(str(event["requestId"]))

    def _data(self, event: dict[str, Any]) -> None:
        if str(event["requestId"]) in self.requests:
            self.received += int(event.get("encodedDataLength") or event["dataLength"])


# Seeks the newest studio <video> to half a second before its end; resolves once the frame there
# is shown, with the source it played from.
SEEK_JS = """() => new Promise((done) => {
  const v = [...document.querySelectorAll('video[data-testid=kls-video]')]
    .filter((x) => !x.hidden).at(-1);
  v.addEventListener('seeked', () => requestAnimationFrame(() => done(v.currentSrc)), {once: true});
  v.currentTime = v.duration - 0.5;
})"""


def studio_run(
    page: Any,
    clock: CompletionClock,
    run: int,
    settings: Settings,
    counter: RouteBytes | None,
    size: float,
) -> Run:
    """One studio run: by the media route with `counter`, by the websocket without."""
    from tests.browser import harness

    route = "1" if counter is not None else "0"
    harness.kernel_exec(page, f"import os; os.environ['KLING_STUDIO_MEDIA_ROUTE'] = '{route}'")
    page.locator(".kls-root").first.scroll_into_view_if_needed()
    page.evaluate(WATCH_JS, "studio")
    start = counter.received if counter is not None else 0
    local_id = harness.kernel_exec(page, "print(s.submit())").strip()
    at = painted(page, settings.timeout)
    first = (counter.received - start) / size if counter is not None else 1.0
    src = str(page.evaluate(SEEK_JS))
    if (MEDIA_ROUTE in src) != (counter is not None):
        raise RuntimeError(f"the {'route' if counter else 'websocket'} run played from {src[:80]}")
    seek = (counter.received - start) / size if counter is not None else 1.0
    timing = moments(page, clock, local_id, at)
    return Run(timing.detected, timing.saved, timing.painted, first, seek)


def baseline_run(page: Any, clock: CompletionClock, run: int, settings: Settings) -> Run:
    page.evaluate(WATCH_JS, "baseline")
    run_cell(page, run + 1, settings.timeout)
    at = painted(page, settings.timeout)
    text = page.locator(".jp-OutputArea-output", has_text=f"baseline {run} ").last.inner_text()
    return moments(page, clock, text.split()[-1], at)


def _fraction(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0%}"


def format_report(report: dict[str, Any]) -> str:
    s = report["settings"]
    summary = report["summary"]
    keys = ("runs", "p50", "p95", "min", "max", "detected_p50", "saved_p50")
    rows = [
        [
            path,
            *(row[k] for k in keys),
            _fraction(row["read_first_p50"]),
            _fraction(row["read_seek_p50"]),
        ]
        for path, row in summary.items()
        if row["runs"]
    ]
    route = summary["route"]["p50"]
    ratios = [
        f"{path} p50 / route p50 = {summary[path]['p50'] / route:.2f}x"
        for path in ("websocket", "baseline")
        if summary[path]["runs"]
    ]
    keyframes = s.get("keyframe_seconds")
    gop = f"a keyframe every {keyframes} s" if keyframes else "one keyframe (x264's default)"
    return "\n".join(
        [
            f"{s['resolution']} {s['duration']} s clip, {report['video_bytes'] / 1e6:.1f} MB,"
            f" {gop}; {s['runs']} runs per path, alternating",
            "",
            format_table(
                [
                    "path",
                    "runs",
                    "p50 s",
                    "p95 s",
                    "min s",
                    "max s",
                    "detected p50",
                    "saved p50",
                    "read at 1st frame",
                    "read after seek",
                ],
                rows,
            ),
            "",
            *ratios,
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.player_latency")
    parser.add_argument("--runs", type=int, default=Settings.runs)
    parser.add_argument("--resolution", default=Settings.resolution)
    parser.add_argument("--duration", type=int, default=Settings.duration)
    parser.add_argument("--time-scale", type=float, default=Settings.time_scale)
    parser.add_argument(
        "--keyframe-seconds",
        type=float,
        default=Settings.keyframe_seconds,
        help="a keyframe every this many seconds in the clip; 0: x264's default (one per clip)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings(
        args.runs,
        args.resolution,
        args.duration,
        args.time_scale,
        args.keyframe_seconds or None,
    )
    report = run(settings)
    print(json.dumps(report, indent=1) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
