"""Following a sent task to its end, a part of `Runner`: ask FoxAPI until the task ends (a failed
lookup is asked again, never taken for the task's end), apply every answer to the task's card,
journal it, and save the video. Also what the runner says of a task it stopped following."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import time
from collections.abc import Callable

from ..client._async import AsyncClient
from ..errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    InputError,
    TransportError,
    VideoExpiredError,
    WaitTimeout,
)
from ..history._store import History
from ..history._videos import VideoCache
from ..media._posters import poster_data_url
from ..pictures import is_url
from ..statuses import shown
from ..tasks import Task
from ._cards import Live
from ._journal import Journal
from ._measuring import measure_task

log = logging.getLogger("kling_studio")

LOOKUP_RETRY_FIRST = 0.25  # seconds before asking again after a failed lookup, doubled
LOOKUP_RETRY_MAX = 30.0
UPLOAD_RETRY_FIRST = 2.0  # seconds before putting videos into a store that was away, doubled
UPLOAD_RETRY_MAX = 60.0
CODE_NOT_UPLOADED = "video_not_uploaded"  # the card's code while the store is away


class Following:
    """Follows one sent task to a saved video (mixed into `Runner`, which sets the state)."""

    client: AsyncClient
    history: History
    cache: VideoCache
    download_videos: bool
    measure_videos: bool
    _measuring: set[asyncio.Task[None]]
    _measure_pool: concurrent.futures.ThreadPoolExecutor
    _pictures: dict[str, tuple[object, object]]
    wait_timeout: float | None
    _journal: Journal
    _emit: Callable[[Live], None]
    _uploader: asyncio.Task[None] | None
    _waiting_upload: dict[str, Live]

    async def _follow(self, live: Live, task: Task | str) -> None:
        """Wait for the task's end, journalling every change, then save its video.

        A failed lookup is not the task's end: it is paid for and goes on at FoxAPI, so the
        runner asks again (backing off) until its deadline, and never calls it failed."""

        def progress(fresh: Task) -> None:
            # Called only when status or progress moved: journal it, then tell listeners.
            self._journal.write(
                live, "update", functools.partial(self.history.update, live.local_id, fresh)
            )
            self._clear_lookup_error(live)
            self._apply(live, fresh)

        # wait_timeout bounds waiting and saving the video together (a stalled download too).
        deadline = None if self.wait_timeout is None else time.monotonic() + self.wait_timeout
        failures = 0
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                final = await self.client.wait(task, timeout=left, on_progress=progress)
                break
            except WaitTimeout as exc:
                live.error = {"code": "wait_timeout", "message": str(exc)}
                self._emit(live)
                return
            except (ConfigurationError, InputError, AuthenticationError) as exc:
                # Asking again cannot help (no key, a refused key): stop asking, but the task
                # stays what it was; `resume` takes it up again.
                live.error = {
                    "code": "not_followed",
                    "message": f"{exc} — the task was not followed further; "
                    "`kling-studio resume` picks it up",
                }
                self._emit(live)
                return
            except (APIError, TransportError) as exc:
                failures += 1
                pause = min(LOOKUP_RETRY_MAX, LOOKUP_RETRY_FIRST * 2 ** (failures - 1))
                if deadline is not None and time.monotonic() + pause >= deadline:
                    live.error = {
                        "code": "wait_timeout",
                        "message": f"the task could not be looked up before the deadline ({exc}); "
                        "it goes on at FoxAPI and `kling-studio resume` picks it up",
                    }
                    self._emit(live)
                    return
                live.error = {
                    "code": "lookup_failed",
                    "message": f"the task could not be looked up ({exc}); asking again",
                }
                self._emit(live)
                await asyncio.sleep(pause)
        self._clear_lookup_error(live)
        self._journal.write(
            live, "update", functools.partial(self.history.update, live.local_id, final)
        )
        self._apply(live, final)
        if final.succeeded and final.video_url and self.download_videos:
            await self._download(live, final.video_url, final.id, deadline)
            if live.has_video and self.measure_videos:  # shown first, then measured once
                self._measure_soon(live)
        elif final.succeeded and final.error is not None:  # completed, nothing to download
            self._journal.write(
                live,
                "download_error",
                functools.partial(
                    self.history.set_download_error, live.local_id, final.error.message
                ),
            )
            live.error = {"code": final.error.code, "message": final.error.message}
        live.finished = live.finished or time.time()
        self._emit(live)

    @staticmethod
    def _clear_lookup_error(live: Live) -> None:
        if live.error is not None and live.error.get("code") == "lookup_failed":
            live.error = None

    async def _download(
        self, live: Live, url: str, task_id: str, deadline: float | None = None
    ) -> None:
        local_id = live.local_id
        try:
            path = await self.cache.download(
                url, task_id, http=self.client.public_http, deadline=deadline
            )
        except VideoExpiredError as exc:
            write = functools.partial(
                self.history.set_download_error, local_id, str(exc), expired=True
            )
            self._journal.write(live, "download", write)
            live.error = {"code": "video_expired", "message": str(exc)}
        except Exception as exc:
            message = f"the video could not be saved ({type(exc).__name__}: {exc})"
            if is_url(url):  # a broken link is retried by resume(); a bogus scheme never works
                message += "; kling-studio tries again on the next resume"
            self._journal.write(
                live,
                "download",
                functools.partial(self.history.set_download_error, local_id, message),
            )
            live.error = {"code": "download_failed", "message": message}
            log.warning("download of %s failed: %s", task_id, exc)
        else:
            # Into the video store off the event loop (streamed); a store that is away leaves
            # the video here, and the uploader puts it there when the store answers.
            kept = await asyncio.to_thread(self.history.keep_video, path)
            write = functools.partial(self.history.set_video, local_id, path, kept=kept)
            self._journal.write(live, "download", write)
            live.has_video = True
            live.poster = await asyncio.to_thread(poster_data_url, path)
            live.error = None
            if kept.error is not None:
                live.error = {"code": CODE_NOT_UPLOADED, "message": kept.error}
                self._waiting_upload[local_id] = live
                self._upload_later()
        self._emit(live)

    def _upload_later(self) -> None:
        """Keep trying the videos a store that was away has not taken (not one of the runner's
        tasks: `join()` does not wait for a store to come back)."""
        if self._uploader is None or self._uploader.done():
            self._uploader = asyncio.get_running_loop().create_task(self._upload_pending())

    async def _upload_pending(self) -> None:
        pause = UPLOAD_RETRY_FIRST
        while self._waiting_upload:
            await asyncio.sleep(pause)
            pause = min(UPLOAD_RETRY_MAX, pause * 2)
            try:
                await asyncio.to_thread(self.history.upload_pending)
                taken = await asyncio.to_thread(
                    lambda: [i for i in self._waiting_upload if self.history[i].video_stored]
                )
            except Exception as exc:  # the history itself is busy: try again later
                log.warning("videos waiting for the store: %s", exc)
                continue
            for local_id in taken:
                live = self._waiting_upload.pop(local_id)
                if live.error is not None and live.error.get("code") == CODE_NOT_UPLOADED:
                    live.error = None
                self._emit(live)

    def _measure_soon(self, live: Live) -> None:
        """Measure the video just saved, off the task's path (its end is not delayed), one
        video at a time per runner; `measured()` waits for them. A failure costs only the
        measures (`measure_missing` takes them on first need)."""
        local_id = live.local_id
        pictures = self._pictures.pop(local_id, (None, None))

        def work() -> None:
            record = self.history.get(local_id)
            if record is not None:
                measure_task(self.history, record, pictures=pictures)

        async def run() -> None:
            try:
                await asyncio.get_running_loop().run_in_executor(self._measure_pool, work)
            except Exception:
                log.warning("the video of %s was not measured", local_id, exc_info=True)
            else:
                self._emit(live)  # the card again: a comparison on screen shows the numbers

        job = asyncio.get_running_loop().create_task(run())
        self._measuring.add(job)
        job.add_done_callback(self._measuring.discard)

    async def measured(self) -> None:
        """Wait until every video saved so far is measured."""
        while self._measuring:
            await asyncio.gather(*list(self._measuring), return_exceptions=True)

    def _apply(self, live: Live, task: Task) -> None:
        live.task_id = task.id
        live.status = shown(task.status)
        live.progress = task.progress if not task.succeeded else 100
        if task.estimated_time is not None:
            live.estimate = task.estimated_time
        if task.error is not None and task.failed:
            live.error = {"code": task.error.code, "message": task.error.message}
        if task.done:
            live.finished = time.time()
        self._emit(live)

    def _lost_track(self, live: Live, exc: BaseException) -> None:
        """An unexpected error after the create was sent: the task may exist and be paid for,
        so it is never called failed; without an id it is `unknown`."""
        if live.task_id is None:
            reason = f"kling-studio stopped after sending the create ({type(exc).__name__}: {exc})"
            self._journal.write(
                live, "unknown", functools.partial(self.history.mark_unknown, live.local_id, reason)
            )
            live.status = "unknown"
        live.error = {
            "code": "not_followed",
            "message": f"kling-studio stopped following this task ({type(exc).__name__}: {exc}); "
            "it may exist and be paid for: `kling-studio resume` picks it up",
        }
        self._emit(live)
