"""A paid task's history writes are never lost: made at once, or held in order and retried until
the history takes them, while the task goes on.

Another program holding the write lock, a full disk or a database server that cannot be reached
for a while (`HistoryBusy` and its `HistoryUnreachable`) only delays a write; the task's card
says the history is behind until it lands. A history whose file was deleted or
replaced can never take it: that is said once, and the task is followed in memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import HistoryError
from ..history._store import HistoryBusy

log = logging.getLogger("kling_studio")

RETRY_FIRST = 0.05  # seconds before the first retry of a held write, doubled each time
RETRY_MAX = 5.0


@dataclass
class HeldWrites:
    """One task's writes the history has not taken yet, oldest first."""

    pending: list[tuple[str, Callable[[], object]]] = field(default_factory=list)
    error: dict[str, Any] | None = None  # what the task's card says about them
    gone: bool = False  # the history can never take them
    flusher: asyncio.Task[None] | None = None


class Journalled(Protocol):
    local_id: str
    task_id: str | None
    status: str
    held: HeldWrites


class Journal:
    """Writes for the tasks of one runner. `emit(task)` tells listeners the card changed;
    retries run as tasks added to `tasks` (so that waiting for those waits for them too)."""

    def __init__(self, emit: Callable[[Any], None], tasks: set[asyncio.Task[None]]) -> None:
        self._emit = emit
        self._tasks = tasks
        # Set while a held write waits for the lock or the server: other tasks' writes are then
        # held at once rather than each blocking the loop for the history's busy timeout.
        self._busy: HistoryBusy | None = None

    def write(self, task: Journalled, kind: str, write: Callable[[], object]) -> None:
        """Make a history write now or, when the history cannot take it, hold it (after the
        task's earlier held writes) and retry until it lands."""
        held = task.held
        if not held.pending and not self._busy:
            try:
                write()
                return
            except HistoryError as exc:
                self._busy = exc if isinstance(exc, HistoryBusy) else None
                self._say(task, exc, final=self._busy is None)
        elif not held.pending:
            self._say(task, self._busy or HistoryBusy("the history is busy."), final=False)
        if kind == "update" and held.pending and held.pending[-1][0] == "update":
            held.pending[-1] = (kind, write)  # a newer view of the task replaces an older one
        else:
            held.pending.append((kind, write))
        if held.gone:
            return  # said once; the task goes on in memory
        if held.flusher is None or held.flusher.done():
            held.flusher = asyncio.get_running_loop().create_task(self._flush(task))
            self._tasks.add(held.flusher)
            held.flusher.add_done_callback(self._tasks.discard)

    async def settle(self, task: Journalled) -> None:
        """Wait until the task's held writes have landed (or can never land)."""
        flusher = task.held.flusher
        if flusher is not None and not flusher.done():
            await asyncio.wait({flusher})

    async def _flush(self, task: Journalled) -> None:
        held = task.held
        delay = RETRY_FIRST
        while held.pending:
            await asyncio.sleep(delay)
            try:
                # A busy lock makes SQLite wait (busy_timeout): not on the loop.
                await asyncio.to_thread(held.pending[0][1])
            except HistoryBusy as exc:  # a lock, a full disk, a server out of reach: it passes
                self._busy = exc
                self._say(task, exc, final=False)
                delay = min(RETRY_MAX, delay * 2)
                continue
            except Exception as exc:  # the file is gone or replaced: it can never land
                held.gone = True
                self._say(task, exc, final=True)
                log.error(
                    "the history could not save task %s (FoxAPI id %s, %s): %s",
                    task.local_id,
                    task.task_id,
                    task.status,
                    exc,
                )
                return
            held.pending.pop(0)
            self._busy = None
        if held.error is not None:
            held.error = None
            self._emit(task)

    def _say(self, task: Journalled, exc: BaseException, *, final: bool) -> None:
        if final:
            tail = (
                "This task is followed in memory only: note its FoxAPI id "
                f"{task.task_id or '(not known yet)'} to find it again."
            )
        else:
            tail = "kling-studio keeps following the task and saves it as soon as it can."
        error = {"code": "history_unsaved", "message": f"{exc} {tail}"}
        if error != task.held.error:
            task.held.error = error
            self._emit(task)
