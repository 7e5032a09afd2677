"""The one place that knows about concurrency: many tasks in flight on one event loop.

For each task the runner journals, submits, waits, and downloads the video, and tells whoever
listens (the widget, a progress bar, a callback) with a small `card` after every change. The
history is written before the create is sent, so a killed process loses nothing: `resume()`
picks unfinished tasks up by id.

Once a create has been sent the task may be paid for, so from then on:
- only an answer that proves no task exists (an HTTP refusal, or a connection that was never
  made) records it `rejected`; anything else is `unknown` or `created`, keeping any id;
- a history write that fails (another program holds the lock, the disk is full, the file was
  deleted) changes nothing about the task: the write is held and retried until it lands, the task
  is followed on in memory, and its card says the history is behind;
- a lookup that fails while following (a 404 just after the create, an outage) never makes it
  `failed`: the runner keeps asking until its deadline.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Callable, Collection
from typing import Any

from ..budget import Budget, BudgetExceeded, PriceTable
from ..client._async import AsyncClient
from ..errors import (
    CreateOutcomeUnknown,
    HistoryError,
    InputError,
    KlingStudioError,
)
from ..history._budgets import Reservation
from ..history._records import TaskRecord
from ..history._store import History
from ..history._videos import VideoCache
from ..models import PreparedRequest, VideoRequest
from ..tasks import Task
from ._budgeting import Budgeting
from ._cards import Live, card_from_record, error_text, settings_of
from ._journal import Journal
from ._outcomes import error_code, proves_no_task, task_id_in
from ._remix import request_from_record
from ._resuming import Resuming

log = logging.getLogger("kling_studio")

Listener = Callable[[dict[str, Any]], None]
SENT_WAIT_S = 10.0  # how long Generate waits for its create's answer before replying anyway


class Runner(Resuming):
    """Drives tasks from submit to a saved video, any number at once, on the current loop.

    Starting a task and sending its create is here; following it to a saved video is
    `Following` (_following.py), picking tasks up from the history is `Resuming`
    (_resuming.py)."""

    def __init__(
        self,
        client: AsyncClient,
        history: History,
        *,
        cache: VideoCache | None = None,
        max_in_flight: int = 8,
        download_videos: bool = True,
        wait_timeout: float | None = 3600.0,
        budget: Budget | None = None,
        prices: PriceTable | None = None,
        measure_videos: bool = True,
    ) -> None:
        self.client = client
        # Budgets (runner/_budgeting.py): refused in start(), reserved with the journal row.
        self.budgeting = Budgeting(history, budget, prices)
        self.history = history
        self.cache = cache or VideoCache(history.videos_dir)
        self.download_videos = download_videos
        # Measure each saved video once (runner/_measuring.py); off: on first need instead.
        # One at a time, on a thread of its own, off the tasks' path (_following._measure_soon).
        self.measure_videos = measure_videos
        self._measuring: set[asyncio.Task[None]] = set()
        self._measure_pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="kling-measure"
        )
        self._pictures: dict[str, tuple[object, object]] = {}  # local id -> local pictures
        self.wait_timeout = wait_timeout
        self._slots = asyncio.Semaphore(max_in_flight)
        self._live: dict[str, Live] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._uploader: asyncio.Task[None] | None = None  # videos waiting for the store
        self._waiting_upload: dict[str, Live] = {}
        self._listeners: list[Listener] = []
        self._journal = Journal(self._emit, self._tasks)
        # Leases (history/_leases.py): renewed while tasks are followed; after resume(), the
        # same beat adopts tasks whose kernel stopped renewing (it died).
        self._heartbeat: asyncio.Task[None] | None = None
        self._adopting = False
        self._held_elsewhere = 0  # tasks another kernel followed at the last look
        self._resumed: dict[str, asyncio.Task[None]] = {}  # local id -> its follower, on resume

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

    def check_budget(self, *requests: VideoRequest) -> None:
        """Raise BudgetExceeded if starting all of `requests` together would go over a budget."""
        self.budgeting.check(*requests)

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
        reservation = self.budgeting.before_start(request)  # BudgetExceeded: nothing sent
        local_id = uuid.uuid4().hex
        live = Live(
            local_id=local_id,
            prompt=request.prompt,
            settings=settings_of(
                request.effective_resolution,
                request.effective_duration,
                bool(request.generate_audio),
            ),
            group_id=group_id,
        )
        self._live[local_id] = live
        self._emit(live)
        self._spawn(self._drive_new(live, prepared or request, group_id, variant, reservation))
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
            if live.held.pending:  # the history could never take this task's last writes
                message = (live.held.error or {}).get("message", "")
                raise HistoryError(
                    f"task {live.task_id or local_id} ended {live.status}, but the history could "
                    f"not save it: {message}"
                )
        record = self.history.get(local_id)
        if record is None and local_id in self.budgeting.refused:
            raise self.budgeting.refused[local_id]
        if record is None:  # failed before it was journalled (e.g. a picture was refused)
            raise KlingStudioError(error_text(live) if live else f"no task {local_id}")
        return record

    def in_groups(self, group_ids: Collection[str]) -> set[str]:
        """The local ids of the tasks this runner drives for these comparisons (known from
        their first card, before the comparison has their ids)."""
        return {x.local_id for x in list(self._live.values()) if x.group_id in group_ids}

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

    def live_ids(self) -> frozenset[str]:
        """The tasks this session drives or drove (their cards carry their own posters)."""
        return frozenset(self._live)

    def unsaved(self, local_id: str) -> bool:
        """Whether the history still lacks some of what this session knows of the task."""
        live = self._live.get(local_id)
        return bool(live is not None and live.held.pending)

    def problem(self, local_id: str) -> str | None:
        """What went wrong with a task this session drove, as its card says it (or None)."""
        live = self._live.get(local_id)
        error = (live.error or live.held.error) if live is not None else None
        return str(error.get("message") or error.get("code")) if error else None

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
        # A task runs on the loop that started it (the studio's engine, or this one): one on
        # another loop is cancelled there and not awaited here (its future is not ours).
        here = asyncio.get_running_loop()
        for t in list(self._tasks):
            if t.get_loop() is here:
                t.cancel()
            else:
                t.get_loop().call_soon_threadsafe(t.cancel)
        await asyncio.gather(
            *[t for t in self._tasks if t.get_loop() is here], return_exceptions=True
        )
        for job in list(self._measuring):  # a video not measured now is measured on first need
            if job.get_loop() is here:
                job.cancel()
            else:
                job.get_loop().call_soon_threadsafe(job.cancel)
        self._measure_pool.shutdown(wait=False, cancel_futures=True)
        uploader, self._uploader = self._uploader, None
        if uploader is not None and uploader.get_loop() is here:
            uploader.cancel()  # the videos stay on this machine: the next resume uploads them
            await asyncio.gather(uploader, return_exceptions=True)
        for live in self._live.values():
            if live.held.pending:
                log.error(
                    "closing with task %s (FoxAPI id %s, %s) not saved in the history",
                    live.local_id,
                    live.task_id,
                    live.status,
                )

    def _spawn(self, coro: Any, resumed: str | None = None) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_ended)
        if resumed is not None:  # a lease lost at a renewal stops it (_let_go)
            self._resumed[resumed] = task
            task.add_done_callback(lambda _: self._resumed.pop(resumed, None))
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
                held = self.history.renew(followed)
                for local_id in set(followed) - held:
                    self._let_go(local_id)
                if self._adopting:  # one claim a beat: the next renewal must come on time
                    await self._adopt(within=0.0)
            except Exception:  # a busy or unreachable history: try again at the next beat
                log.warning("renewing task leases failed", exc_info=True)

    def _let_go(self, local_id: str) -> None:
        """This kernel's lease on a resumed task ran out and another kernel took it: stop
        following it (two followers would poll it twice and download its video twice)."""
        follower = self._resumed.get(local_id)
        if follower is None:
            return  # a task this runner created: its create must never be cut short
        live = self._live[local_id]
        live.error = {
            "code": "followed_elsewhere",
            "message": "another kernel follows this task now (this kernel's lease on it ran out)",
        }
        self._emit(live)
        follower.cancel()

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
        reservation: Reservation | None = None,
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
                if self.measure_videos:  # the measures compare the video with them
                    self._pictures[live.local_id] = (
                        prepared.request.image,
                        prepared.request.image_tail,
                    )
                try:
                    self.history.journal_submit(
                        prepared,
                        local_id=live.local_id,
                        group_id=group_id,
                        variant=variant,
                        reservation=reservation,
                    )
                except BudgetExceeded as exc:  # another kernel reserved it first: not sent
                    self.budgeting.refused[live.local_id] = exc
                    self._fail_local(live, "budget_exceeded", str(exc))
                    return
                except HistoryError as exc:  # not journalled, so not sent: nothing is paid
                    self._fail_local(live, "history_unavailable", f"{exc} The task was not sent.")
                    return
                task = await self._create(live, prepared)
                live.answered.set()
                if task is not None:
                    await self._follow(live, task)
        except Exception as exc:  # never lose a task silently
            log.exception("task %s stopped unexpectedly", live.local_id)
            if live.sent:
                self._lost_track(live, exc)
            else:
                self._fail_local(live, type(exc).__name__, str(exc))
        finally:
            live.answered.set()
            self._pictures.pop(live.local_id, None)
            await self._journal.settle(live)
            live.done.set()
            self._release(live.local_id)

    async def sent(self, local_id: str, timeout: float = SENT_WAIT_S) -> None:
        """Wait (up to `timeout` s) for the outcome of the task's create; raise BudgetExceeded
        if a budget refused it after `start()` returned: another kernel's reservation came
        first, or the class gateway's budget (a 402 `budget_exceeded`). So a Generate refused
        by any budget is answered beside the button."""
        live = self._live.get(local_id)
        if live is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(live.answered.wait()), timeout)
        refused = self.budgeting.refused.get(local_id)
        if refused is not None:
            raise refused

    async def _create(self, live: Live, prepared: PreparedRequest) -> Task | str | None:
        """Send the create; the task (or, when only its id could be read, the id) to follow."""
        live.sent = True
        try:
            task = await self.client.create(prepared)
        except CreateOutcomeUnknown as exc:
            return self._create_unknown(live, exc.reason, exc)
        except Exception as exc:
            if not proves_no_task(exc):  # e.g. a 200 whose body could not be read as a task
                return self._create_unknown(live, f"{type(exc).__name__}: {exc}", exc)
            if isinstance(exc, BudgetExceeded):  # the class gateway's budget: nothing was sent
                self.budgeting.refused[live.local_id] = exc
            self._journal.write(
                live, "rejected", functools.partial(self.history.mark_rejected, live.local_id, exc)
            )
            live.status = "failed"
            live.error = {"code": error_code(exc), "message": getattr(exc, "message", str(exc))}
            live.finished = time.time()
            self._emit(live)
            return None
        self._journal.write(
            live, "created", functools.partial(self.history.mark_created, live.local_id, task)
        )
        self._apply(live, task)
        return task

    def _create_unknown(self, live: Live, reason: str, exc: BaseException) -> str | None:
        """The create may have made a (paid) task: `unknown`, keeping any id its answer had;
        with an id, the task is followed."""
        task_id = task_id_in(exc)
        self._journal.write(
            live,
            "unknown",
            functools.partial(self.history.mark_unknown, live.local_id, reason, task_id=task_id),
        )
        live.task_id = task_id
        live.status = "unknown"
        live.error = {"code": "create_outcome_unknown", "message": str(exc)}
        if task_id is None:
            live.finished = time.time()
        self._emit(live)
        return task_id

    def _fail_local(self, live: Live, code: str, message: str) -> None:
        """The task ended before its create was sent: nothing exists at FoxAPI."""
        live.status = "failed"
        live.error = {"code": code, "message": message}
        live.finished = time.time()
        try:
            record = self.history.get(live.local_id)
        except HistoryError:
            record = None
        if record is not None and not record.done:
            reject = functools.partial(
                self.history.mark_rejected, live.local_id, KlingStudioError(message)
            )
            self._journal.write(live, "rejected", reject)
        self._emit(live)

    # --- remix ------------------------------------------------------------------------------

    def request_from(self, local_id: str, **changes: Any) -> VideoRequest:
        """The request of a past task (pictures as the URLs it was sent with), with changes."""
        record = self.history.get(local_id)
        if record is None:
            raise InputError(f"no task {local_id!r} in the history", field="local_id")
        return request_from_record(record, **changes)
