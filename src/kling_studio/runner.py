"""The one place that knows about concurrency: many tasks in flight on one event loop.

For each task the runner journals, submits, waits, and downloads the video, and tells whoever
listens (the widget, a progress bar, a callback) with a small `card` after every change. The
history is written before the create is sent, so a killed process loses nothing: `resume()`
picks unfinished tasks up by id.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .client._async import AsyncClient
from .errors import (
    APIError,
    CreateOutcomeUnknown,
    InputError,
    KlingStudioError,
    VideoExpiredError,
    WaitTimeout,
)
from .history._records import TaskRecord
from .history._store import History
from .history._videos import VideoCache
from .models import PreparedRequest, Task, VideoRequest
from .pictures import is_url

log = logging.getLogger("kling_studio")

Listener = Callable[[dict[str, Any]], None]
CARD_PROMPT_CHARS = 200


@dataclass
class Live:
    """What the runner knows of one task it is driving, for cards between history writes."""

    local_id: str
    prompt: str
    settings: dict[str, Any]
    status: str = "submitting"
    task_id: str | None = None
    progress: int = 0
    submitted: float = field(default_factory=time.time)
    started_mono: float = field(default_factory=time.monotonic)
    estimate: float | None = None
    error: dict[str, Any] | None = None
    has_video: bool = False
    finished: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def card(self) -> dict[str, Any]:
        """The widget's TaskCard (docs/widget-protocol.md): small, whatever the history size."""
        elapsed = (self.finished or time.time()) - self.submitted
        return {
            "local_id": self.local_id,
            "task_id": self.task_id,
            "status": self.status,
            "progress": self.progress,
            "prompt": self.prompt[:CARD_PROMPT_CHARS],
            "created": self.submitted,
            "elapsed": round(elapsed, 2),
            "remaining": self.remaining(elapsed),
            "error": self.error,
            "has_video": self.has_video,
            "settings": self.settings,
        }

    def remaining(self, elapsed: float) -> float | None:
        if self.status not in ("pending", "processing"):
            return None
        if 0 < self.progress < 100:
            return round(elapsed * (100 - self.progress) / self.progress, 1)
        if self.estimate is not None:
            return round(max(0.0, self.estimate - elapsed), 1)
        return None


def live_from_record(record: TaskRecord) -> Live:
    """What the history knows of a task, as the runner's in-memory view of it."""
    return Live(
        local_id=record.local_id,
        prompt=record.prompt,
        settings=_settings(record.resolution, record.duration, record.generate_audio),
        status=_card_status(record.status),
        task_id=record.task_id,
        progress=record.progress,
        submitted=record.submitted_at.timestamp(),
        estimate=record.estimated_time,
        error=_record_error(record),
        has_video=record.has_video,
        finished=record.finished_at.timestamp() if record.finished_at else None,
    )


def card_from_record(record: TaskRecord) -> dict[str, Any]:
    """A card for a task the runner is not driving (from an earlier session)."""
    return live_from_record(record).card()


class Runner:
    """Drives tasks from submit to a saved video, any number at once, on the current loop."""

    def __init__(
        self,
        client: AsyncClient,
        history: History,
        *,
        cache: VideoCache | None = None,
        max_in_flight: int = 8,
        download_videos: bool = True,
        wait_timeout: float | None = 3600.0,
    ) -> None:
        self.client = client
        self.history = history
        self.cache = cache or VideoCache(history.videos_dir)
        self.download_videos = download_videos
        self.wait_timeout = wait_timeout
        self._slots = asyncio.Semaphore(max_in_flight)
        self._live: dict[str, Live] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._listeners: list[Listener] = []
        # Leases (history/_leases.py): renewed while tasks are followed; after resume(), the
        # same beat adopts tasks whose kernel stopped renewing (it died).
        self._heartbeat: asyncio.Task[None] | None = None
        self._adopting = False
        self._held_elsewhere = 0  # tasks another kernel followed at the last look

    # --- listeners --------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(card)` after every change; returns the function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, live: Live) -> None:
        card = live.card()
        for listener in list(self._listeners):
            try:
                listener(card)
            except Exception:  # a broken listener must not stop the task
                log.exception("a task listener failed")

    # --- starting ---------------------------------------------------------------------------

    def check(self, request: VideoRequest) -> None:
        """Raise InputError now (before anything is scheduled) when the fields break a rule."""
        request.check()

    def start(
        self,
        request: VideoRequest | PreparedRequest,
        *,
        group_id: str | None = None,
        variant: dict[str, Any] | None = None,
    ) -> str:
        """Schedule a task on the running loop; returns its local id at once.

        Pass a PreparedRequest (from `client.prepare`) to have every input problem raised to
        the caller before anything is scheduled.
        """
        prepared = request if isinstance(request, PreparedRequest) else None
        request = prepared.request if prepared else request
        assert isinstance(request, VideoRequest)
        self.check(request)
        local_id = uuid.uuid4().hex
        live = Live(
            local_id=local_id,
            prompt=request.prompt,
            settings=_settings(
                request.effective_resolution,
                request.effective_duration,
                bool(request.generate_audio),
            ),
        )
        self._live[local_id] = live
        self._emit(live)
        self._spawn(self._drive_new(live, prepared or request, group_id, variant))
        return local_id

    async def run(
        self,
        request: VideoRequest | PreparedRequest,
        *,
        group_id: str | None = None,
        variant: dict[str, Any] | None = None,
    ) -> TaskRecord:
        """Start a task and wait for its end (video saved); returns its history record."""
        local_id = self.start(request, group_id=group_id, variant=variant)
        return await self.finished(local_id)

    async def finished(self, local_id: str) -> TaskRecord:
        live = self._live.get(local_id)
        if live is not None:
            await live.done.wait()
        record = self.history.get(local_id)
        if record is None:  # failed before it was journalled (e.g. a picture was refused)
            raise KlingStudioError(_error_text(live) if live else f"no task {local_id}")
        return record

    def cards(self, limit: int = 20) -> list[dict[str, Any]]:
        """Cards of the tasks in flight plus the newest finished ones, newest first."""
        live = sorted(self._live.values(), key=lambda x: x.submitted, reverse=True)
        cards = [x.card() for x in live]
        seen = {x.local_id for x in live}
        if len(cards) < limit:
            for record in self.history.records(limit=limit):
                if record.local_id not in seen and len(cards) < limit:
                    cards.append(card_from_record(record))
        return cards[: max(limit, len([x for x in live if not x.done.is_set()]))]

    @property
    def in_flight(self) -> int:
        return sum(1 for x in self._live.values() if not x.done.is_set())

    async def join(self) -> None:
        """Wait until every scheduled task has ended."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        beat, self._heartbeat = self._heartbeat, None
        self._adopting = False
        if beat is not None and not beat.done():
            if beat.get_loop() is asyncio.get_running_loop():
                beat.cancel()
                await asyncio.gather(beat, return_exceptions=True)
            else:  # the beat runs on the loop the tasks ran on (e.g. the studio's engine)
                beat.get_loop().call_soon_threadsafe(beat.cancel)
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_ended)
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    def _task_ended(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks and not self._adopting and self._heartbeat is not None:
            self._heartbeat.cancel()  # nothing left to renew: no beat left pending
            self._heartbeat = None

    async def _beat(self) -> None:
        """Renew this kernel's leases while it follows tasks; after resume(), adopt the tasks of
        kernels that stopped renewing. Ends when this kernel follows nothing and no other
        kernel holds a task it might have to take over."""
        interval = self.history.lease_seconds / 3
        while self._tasks or (self._adopting and self._held_elsewhere):
            await asyncio.sleep(interval)
            try:
                followed = [x.local_id for x in self._live.values() if not x.done.is_set()]
                self.history.renew(followed)
                if self._adopting:
                    await self._adopt()
            except Exception:  # a busy or unreachable history: try again at the next beat
                log.warning("renewing task leases failed", exc_info=True)

    def _release(self, local_id: str) -> None:
        try:
            self.history.release(local_id)
        except Exception:  # the lease runs out by itself
            log.warning("releasing the lease of %s failed", local_id, exc_info=True)

    # --- one task, start to end -------------------------------------------------------------

    async def _drive_new(
        self,
        live: Live,
        request: VideoRequest | PreparedRequest,
        group_id: str | None,
        variant: dict[str, Any] | None,
    ) -> None:
        try:
            async with self._slots:
                try:
                    prepared = (
                        request
                        if isinstance(request, PreparedRequest)
                        else await self.client.prepare(request)
                    )
                except InputError as exc:
                    self._fail_local(live, "invalid_input", str(exc))
                    return
                except KlingStudioError as exc:
                    self._fail_local(live, type(exc).__name__, str(exc))
                    return
                self.history.journal_submit(
                    prepared, local_id=live.local_id, group_id=group_id, variant=variant
                )
                task = await self._create(live, prepared)
                if task is not None:
                    await self._follow(live, task)
        except Exception as exc:  # never lose a task silently
            log.exception("task %s stopped unexpectedly", live.local_id)
            self._fail_local(live, type(exc).__name__, str(exc))
        finally:
            live.done.set()
            self._release(live.local_id)

    async def _create(self, live: Live, prepared: PreparedRequest) -> Task | None:
        try:
            task = await self.client.create(prepared)
        except CreateOutcomeUnknown as exc:
            self.history.mark_unknown(live.local_id, exc.reason)
            live.status = "unknown"
            live.error = {"code": "create_outcome_unknown", "message": str(exc)}
            live.finished = time.time()
            self._emit(live)
            return None
        except APIError as exc:
            self.history.mark_rejected(live.local_id, exc)
            live.status = "failed"
            live.error = {
                "code": exc.code or exc.error_type or str(exc.status_code),
                "message": exc.message,
            }
            live.finished = time.time()
            self._emit(live)
            return None
        self.history.mark_created(live.local_id, task)
        self._apply(live, task)
        return task

    async def _follow(self, live: Live, task: Task) -> None:
        def progress(fresh: Task) -> None:
            # Called only when status or progress moved: journal it, then tell listeners.
            self.history.update(live.local_id, fresh)
            self._apply(live, fresh)

        try:
            task = await self.client.wait(task, timeout=self.wait_timeout, on_progress=progress)
        except WaitTimeout as exc:
            live.error = {"code": "wait_timeout", "message": str(exc)}
            self._emit(live)
            return
        self.history.update(live.local_id, task)
        self._apply(live, task)
        if task.succeeded and task.video_url and self.download_videos:
            await self._download(live, task.video_url, task.id)
        live.finished = live.finished or time.time()
        self._emit(live)

    async def _download(self, live: Live, url: str, task_id: str) -> None:
        try:
            path = await self.cache.download(url, task_id)
        except VideoExpiredError as exc:
            self.history.set_download_error(live.local_id, str(exc), expired=True)
            live.error = {"code": "video_expired", "message": str(exc)}
        except Exception as exc:
            message = f"the video could not be saved ({type(exc).__name__}: {exc})"
            if is_url(url):  # a broken link is retried by resume(); a bogus scheme never works
                message += "; kling-studio tries again on the next resume"
            self.history.set_download_error(live.local_id, message)
            live.error = {"code": "download_failed", "message": message}
            log.warning("download of %s failed: %s", task_id, exc)
        else:
            self.history.set_video(live.local_id, path)
            live.has_video = True
            live.error = None
        self._emit(live)

    def _apply(self, live: Live, task: Task) -> None:
        live.task_id = task.id
        live.status = _card_status(task.status)
        live.progress = task.progress if not task.succeeded else 100
        if task.estimated_time is not None:
            live.estimate = task.estimated_time
        if task.error is not None and task.failed:
            live.error = {"code": task.error.code, "message": task.error.message}
        if task.done:
            live.finished = time.time()
        self._emit(live)

    def _fail_local(self, live: Live, code: str, message: str) -> None:
        live.status = "failed"
        live.error = {"code": code, "message": message}
        live.finished = time.time()
        record = self.history.get(live.local_id)
        if record is not None and not record.done:
            self.history.mark_rejected(live.local_id, KlingStudioError(message))
        self._emit(live)

    # --- resume -----------------------------------------------------------------------------

    async def resume(self) -> list[str]:
        """Follow every unfinished task of the history to its end; fetch missing videos.

        A record still `submitting` was journalled but its create's answer never came back (the
        process died): it becomes `unknown`, since the task may exist.

        Several kernels may resume one shared history: each task is taken by exactly one (its
        lease, history/_leases.py); a task another live kernel follows is left to it, and from
        now on this runner also adopts tasks whose kernel dies (once their lease runs out).
        """
        self._adopting = True
        resumed = await self._adopt()
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())
        return resumed

    async def _adopt(self) -> list[str]:
        """Start following every unfinished task (and missing video) whose lease is free."""
        resumed: list[str] = []
        held_elsewhere = 0
        for record in self.history.unfinished():
            if record.local_id in self._live:
                continue
            if record.status == "unknown" and record.task_id is None:
                continue  # nothing to follow: only a person can tell whether it exists
            if not self.history.claim(record.local_id):
                held_elsewhere += 1  # another kernel follows it
                continue
            if record.status == "submitting" or (record.task_id is None):
                # Its kernel's lease ran out before the create's answer was journalled.
                self.history.mark_unknown(
                    record.local_id,
                    "the process stopped after journalling the create, before its answer",
                )
                self._release(record.local_id)
                continue
            live = self._live_from(record)
            self._emit(live)
            self._spawn(self._drive_resumed(live, record.task_id))
            resumed.append(record.local_id)
        for record in self.history.missing_videos():
            if record.local_id in self._live or record.task_id is None or not record.video_url:
                continue
            if not self.history.claim(record.local_id):
                held_elsewhere += 1  # another kernel is downloading it
                continue
            live = self._live_from(record)
            self._spawn(self._download_only(live, record.video_url, record.task_id))
            resumed.append(record.local_id)
        self._held_elsewhere = held_elsewhere
        return resumed

    def _live_from(self, record: TaskRecord) -> Live:
        live = live_from_record(record)
        self._live[record.local_id] = live
        return live

    async def _drive_resumed(self, live: Live, task_id: str) -> None:
        try:
            async with self._slots:
                task = await self.client.get(task_id)
                self.history.update(live.local_id, task)
                self._apply(live, task)
                await self._follow(live, task)
        except Exception as exc:
            log.exception("resuming %s failed", task_id)
            live.error = {"code": type(exc).__name__, "message": str(exc)}
            self._emit(live)
        finally:
            live.done.set()
            self._release(live.local_id)

    async def _download_only(self, live: Live, url: str, task_id: str) -> None:
        try:
            await self._download(live, url, task_id)
        finally:
            live.done.set()
            self._release(live.local_id)

    # --- remix ------------------------------------------------------------------------------

    def request_from(self, local_id: str, **changes: Any) -> VideoRequest:
        """The request of a past task (pictures as the URLs it was sent with), with changes."""
        record = self.history.get(local_id)
        if record is None:
            raise InputError(f"no task {local_id!r} in the history", field="local_id")
        return request_from_record(record, **changes)


def request_from_record(record: TaskRecord, **changes: Any) -> VideoRequest:
    payload = dict(record.payload)
    fields: dict[str, Any] = {
        "prompt": payload.get("prompt", record.prompt),
        "image": payload.get("image_url"),
        "image_tail": payload.get("image_tail_url"),
        "resolution": payload.get("resolution"),
        "duration": payload.get("duration"),
        "generate_audio": payload.get("generate_audio"),
        "negative_prompt": payload.get("negative_prompt"),
        "voice_ids": payload.get("voice_ids"),
        "multi_prompt": [
            {"prompt": s["prompt"], "duration": s["duration"]}
            for s in payload.get("multi_prompt") or []
        ]
        or None,
        "model": payload.get("model", record.model),
    }
    fields.update(changes)
    return VideoRequest.build(**fields)


def _settings(resolution: str | None, duration: int | None, audio: bool | None) -> dict[str, Any]:
    return {"resolution": resolution, "duration": duration, "generate_audio": bool(audio)}


def _card_status(status: str) -> str:
    if status == "rejected":
        return "failed"
    if status == "cancelled":
        return "failed"
    return status


def _record_error(record: TaskRecord) -> dict[str, Any] | None:
    if record.status == "unknown":
        return {"code": "create_outcome_unknown", "message": record.unknown_reason or ""}
    if record.error_message or record.error_code:
        return {"code": record.error_code, "message": record.error_message or ""}
    if record.download_error:
        return {
            "code": "video_expired" if record.url_expired else "download_failed",
            "message": record.download_error,
        }
    return None


def _error_text(live: Live) -> str:
    return (live.error or {}).get("message") or "the task failed before it was sent"
