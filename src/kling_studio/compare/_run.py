"""Running a comparison: prepare every variant, reuse finished identical tasks, feed the rest
to the runner a few at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, KlingStudioError
from ..history._records import TaskRecord
from ..history._store import History
from ..models import PreparedRequest, VideoRequest
from ..pictures import PictureSource
from ..statuses import Status

if TYPE_CHECKING:
    import pandas as pd

    from ..client._async import AsyncClient
    from ..runner import Runner

from ._plan import DEFAULT_MAX_CONCURRENCY, Variant, differing_names
from ._planfile import Entry, Plan, _title, check_group_id, plans_dir, save_plan

log = logging.getLogger("kling_studio")

# --- running ----------------------------------------------------------------------------------


class Comparison:
    """A grid being run (or run before): its plan, its tasks, and a way to wait for them."""

    def __init__(
        self,
        history: History,
        plan: Plan,
        *,
        requests: Mapping[str, VideoRequest] | None = None,
        runner: Runner | None = None,
    ) -> None:
        self.history = history
        self.plan = plan
        self._requests = dict(requests or {})  # label -> request (local pictures: thumbnails)
        self._runner = runner
        self._feeder: asyncio.Task[None] | None = None
        self._cancelled = False
        self._errors: dict[str, str] = {}  # label -> why it stopped before being journalled
        self._listeners: list[Callable[[Comparison], None]] = []

    def __repr__(self) -> str:
        return (
            f"Comparison(group_id={self.group_id!r}, variants={len(self.entries)}, "
            f"reused={self.reused}, running={self.running})"
        )

    @property
    def group_id(self) -> str:
        return self.plan.group_id

    @property
    def title(self) -> str:
        return self.plan.title

    @property
    def differing(self) -> list[str]:
        return self.plan.differing

    @property
    def entries(self) -> list[Entry]:
        return self.plan.entries

    @property
    def reused(self) -> int:
        return sum(e.reused for e in self.entries)

    @property
    def running(self) -> bool:
        """True while some variants still wait for a slot of this grid."""
        return self._feeder is not None and not self._feeder.done()

    def on_change(self, listener: Callable[[Comparison], None]) -> None:
        """Call `listener(self)` when a variant is started (gets its local id)."""
        self._listeners.append(listener)

    def status(self, entry: Entry, record: TaskRecord | None = None) -> str:
        """The variant's status: the task's, or `queued` (waiting for a slot of this grid) /
        `not_sent` (the run stopped before it was started, e.g. the kernel restarted)."""
        if entry.local_id is None:
            if entry.label in self._errors:
                return Status.FAILED  # the runner refused to start it
            return Status.QUEUED if self.running else Status.NOT_SENT
        record = record or self.history.get(entry.local_id)
        if record is not None:
            return record.status
        if entry.label in self._errors:
            return Status.FAILED
        # Started by this process and not journalled yet (the runner journals inside its slot).
        return Status.SUBMITTING if self._feeder is not None else Status.NOT_SENT

    def error(self, entry: Entry) -> str | None:
        """Why a variant stopped before its task was journalled (this process only)."""
        return self._errors.get(entry.label)

    def records(self) -> dict[str, TaskRecord | None]:
        """label -> the history record showing that variant (None while not journalled)."""
        return {e.label: self.history.get(e.local_id) if e.local_id else None for e in self.entries}

    async def wait(self) -> list[TaskRecord | None]:
        """Wait until every variant has started and finished; their records in label order.

        After `cancel()`, waits for the variants already started."""
        if self._feeder is not None and not self._feeder.done():
            await asyncio.wait({self._feeder})
        if self._runner is not None:
            for entry in self.entries:
                if entry.local_id is not None and not entry.reused:
                    with contextlib.suppress(KlingStudioError):  # its status says why
                        await self._runner.finished(entry.local_id)
        records = self.records()
        return [records[e.label] for e in self.entries]

    def cancel(self) -> None:
        """Start no more variants (those already sent run to their end at FoxAPI)."""
        self._cancelled = True
        if self._feeder is not None and not self._feeder.done():
            self._feeder.cancel()

    def df(self, *, blind: bool = False) -> pd.DataFrame:
        from ._table import compare_df

        return compare_df(self.history, self.group_id, comparison=self, blind=blind)

    def export_csv(self, path: str | os.PathLike[str], *, blind: bool = False) -> Path:
        from ._table import export_csv

        return export_csv(self.history, self.group_id, path, comparison=self, blind=blind)

    def export_html(self, path: str | os.PathLike[str], *, blind: bool = False) -> Path:
        """The HTML report; `blind=True`: shuffled, neutral labels and no settings until the
        history's user has rated every variant (see `compare.render_html`)."""
        from ._report import export_html

        return export_html(self.history, self.group_id, path, comparison=self, blind=blind)

    def picture_for(self, label: str) -> PictureSource | None:
        request = self._requests.get(label)
        return request.image if request is not None else None

    # --- the feeder: at most max_concurrency variants of this grid in flight ---------------

    def _start(
        self, runner: Runner, jobs: list[tuple[Entry, PreparedRequest]], max_concurrency: int
    ) -> None:
        self._runner = runner
        if jobs:
            self._feeder = asyncio.get_running_loop().create_task(
                self._feed(runner, jobs, max_concurrency)
            )
            self._feeder.add_done_callback(_log_failure)

    async def _feed(
        self, runner: Runner, jobs: list[tuple[Entry, PreparedRequest]], max_concurrency: int
    ) -> None:
        slots = asyncio.Semaphore(max_concurrency)
        waiting: list[asyncio.Task[None]] = []

        async def follow(entry: Entry, local_id: str) -> None:
            try:
                await runner.finished(local_id)
            except KlingStudioError as exc:  # stopped before it was journalled
                self._errors[entry.label] = str(exc)
                self._changed()
            finally:
                slots.release()

        try:
            for entry, prepared in jobs:
                await slots.acquire()
                if self._cancelled:
                    slots.release()
                    break
                try:
                    entry.local_id = runner.start(
                        prepared,
                        group_id=self.group_id,
                        variant={"label": entry.label, "params": entry.params},
                    )
                except KlingStudioError as exc:  # refused before anything was sent
                    self._errors[entry.label] = str(exc)
                    slots.release()
                    self._changed()
                    continue
                save_plan(self.history, self.plan)
                self._changed()
                waiting.append(
                    asyncio.get_running_loop().create_task(follow(entry, entry.local_id))
                )
            await asyncio.gather(*waiting)
        finally:
            self._changed()  # `queued` becomes `not_sent` for what was never started

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # a broken listener must not stop the grid
                log.exception("a comparison listener failed")


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a comparison stopped starting its variants", exc_info=task.exception())


async def run_grid(
    runner: Runner,
    client: AsyncClient,
    plan: Sequence[Variant],
    *,
    group_id: str | None = None,
    reuse: bool = True,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    title: str | None = None,
) -> Comparison:
    """Start a grid; returns as soon as every variant is prepared or reused.

    Each variant is prepared first (rules, remote pictures, uploads: once per picture thanks to
    the client's cache), so a problem stops the grid before any task is paid for. A variant
    whose request hash matches a completed task of the history with a video still available is
    reused (no create is sent) unless `reuse=False`. The others are started through the runner,
    at most `max_concurrency` of this grid in flight; `await comparison.wait()` for their end.
    """
    if not plan:
        raise InputError("the grid is empty", "variants")
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
        raise InputError("max_concurrency must be a whole number", "max_concurrency")
    if max_concurrency < 1:
        raise InputError("max_concurrency must be at least 1", "max_concurrency")
    history = runner.history
    group_id = check_group_id(group_id) if group_id else new_group_id()
    if (plans_dir(history) / f"{group_id}.json").exists() or history.comparison_plan(group_id):
        raise InputError(f"a comparison {group_id!r} exists already; pick another id", "group_id")

    # Over budget, the grid is refused whole before its first upload (runner/_budgeting.py);
    # each task is still held to the budget when it is journalled.
    runner.check_budget(*[v.request for v in plan if not (reuse and reusable(history, v.hash))])
    entries: list[Entry] = []
    jobs: list[tuple[Entry, PreparedRequest]] = []
    for variant in plan:
        entry = Entry(variant.label, variant.params, variant.hash)
        old = reusable(history, variant.hash) if reuse else None
        if old is None:
            prepared = await client.prepare(variant.request)
            entry.hash = prepared.hash
            old = reusable(history, prepared.hash) if reuse else None
            if old is None:
                jobs.append((entry, prepared))
        if old is not None:
            entry.local_id, entry.reused = old.local_id, True
        entries.append(entry)

    differing = differing_names([v.keys for v in plan])
    saved = Plan(
        group_id, title or _title(differing, len(entries)), time.time(), differing, entries
    )
    save_plan(history, saved)
    requests = {v.label: v.request for v in plan}
    comparison = Comparison(history, saved, requests=requests, runner=runner)
    comparison._start(runner, jobs, max_concurrency)
    return comparison


def new_group_id() -> str:
    return f"ab-{datetime.now(tz=UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def reusable(history: History, request_hash: str) -> TaskRecord | None:
    """A completed task that sent this exact request and whose video can still be shown."""
    record = history.find_completed_by_hash(request_hash)
    if record is None:
        return None
    if record.has_video:
        return record
    expires = record.url_expires_at
    if record.video_url and not record.url_expired and expires and expires > datetime.now(UTC):
        return record
    return None  # its video is gone: paying again is the only way to see it


def count_reusable(history: History, plan: Iterable[Variant]) -> int:
    """How many variants of a plan would be reused (no request is sent to find out)."""
    return sum(reusable(history, v.hash) is not None for v in plan)


def confirm_problem(count: int, reused: int) -> str:
    """The sentence refusing an unconfirmed big grid."""
    paid = count - reused
    extra = f", {reused} reused from the history" if reused else ""
    return f"this grid makes {count} tasks ({paid} paid requests{extra})"
