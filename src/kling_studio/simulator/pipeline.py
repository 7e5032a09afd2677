"""What happens to a video task after it is accepted: fetch and judge its pictures at once,
then render its clip shortly before it is due. Blocking work runs in worker threads; the
coroutine only waits, so the server's event loop stays free.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from . import pictures
from .pictures import Picture, PictureRejected
from .render import Renderer, RenderJob
from .state import Store, Task

log = logging.getLogger(__name__)

RENDER_LEAD_MAX = 1.0  # start rendering at most this many seconds before the task is due...
RENDER_LEAD_SHARE = 0.3  # ...and never earlier than 70 % of the way through


class Pipeline:
    def __init__(self, store: Store, renderer: Renderer, workers: ThreadPoolExecutor) -> None:
        self.store = store
        self.renderer = renderer
        self.workers = workers
        self.port: int | None = None  # set once the server has bound its socket
        self._running: set[asyncio.Task[None]] = set()

    def start(self, task: Task) -> None:
        """Call on the server's event loop right after a video task was created."""
        job = asyncio.get_running_loop().create_task(self._drive(task))
        self._running.add(job)  # keep a reference: the loop only holds weak ones
        job.add_done_callback(self._running.discard)

    async def _drive(self, task: Task) -> None:
        loop = asyncio.get_running_loop()
        try:
            job = await loop.run_in_executor(self.workers, self._prepare, task)
        except PictureRejected as rejected:
            self.store.fail(task, rejected.code, rejected.message)
            return
        except Exception:
            log.exception("preparing %s failed", task.id)
            self.store.fail(task, "upstream_error", "The pictures could not be processed.")
            return
        if task.fail_at is not None:
            return  # a task doomed by a fault needs no video
        lead = min(RENDER_LEAD_MAX, RENDER_LEAD_SHARE * task.duration)
        await asyncio.sleep(max(0.0, task.end - lead - self.store.clock.now()))
        try:
            output = await loop.run_in_executor(self.workers, self.renderer.render, job)
        except Exception:
            log.exception("rendering %s failed", task.id)
            self.store.fail(task, "upstream_error", "The video could not be generated.")
            return
        self.store.output_ready(task, output)

    def _prepare(self, task: Task) -> RenderJob:
        request = task.request
        first = self._picture(request["image_url"], "image_url")
        tail_url = request["image_tail_url"]
        tail = self._picture(tail_url, "image_tail_url") if tail_url else None
        segments = tuple((s["prompt"], s["duration"]) for s in request["multi_prompt"] or ())
        audio = " · audio" if request["generate_audio"] else ""
        return RenderJob(
            first=first,
            tail=tail,
            prompt=request["prompt"],
            segments=segments,
            duration=request["duration"],
            audio=request["generate_audio"],
            caption=f"{request['resolution']} · {request['duration']} s{audio} · simulated",
            resolution=request["resolution"],
        )

    def _picture(self, url: str, field: str) -> Picture:
        picture = pictures.load(url, field, lambda u: self._own_file(u, field))
        with self.store.lock:
            self.store.picture_sources[picture.source] += 1
        return picture

    def _own_file(self, url: str, field: str) -> bytes | None:
        """Bytes of one of our own uploads, read without HTTP; None for any other URL."""
        parts = urlsplit(url)
        segments = parts.path.split("/")
        if (
            parts.port != self.port
            or not pictures.is_loopback_host(parts.hostname)
            or len(segments) < 3
            or segments[1] != "files"
        ):
            return None
        upload = self.store.upload(segments[2])
        if upload is None:
            raise PictureRejected(
                "image_fetch_failed", f"could not fetch {field}: the server answered HTTP 404"
            )
        if self.store.upload_expired(upload):
            raise PictureRejected(
                "image_fetch_failed", f"could not fetch {field}: the link has expired (HTTP 403)"
            )
        return upload.path.read_bytes()

    def cancel_all(self) -> None:
        for job in list(self._running):
            job.cancel()
