"""The request path's connections to the class history: a few History objects, each used by one
thread at a time. A History runs one transaction at a time (its lock), so one per replica would
queue every student's request behind the slowest (a create waiting on another replica's budget
lock); on PostgreSQL several run side by side, each student's budget still serialised by the
database (history/_budgets.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from ._ledger import Ledger
from ._students import Students

if TYPE_CHECKING:
    from ..history._store import History

_T = TypeVar("_T")


@dataclass(frozen=True)
class Connection:
    history: History
    ledger: Ledger
    students: Students


class Pool:
    def __init__(self, histories: list[History]) -> None:
        self.histories = histories
        self._free: asyncio.Queue[Connection] = asyncio.Queue()
        for history in histories:
            self._free.put_nowait(Connection(history, Ledger(history), Students(history)))

    async def run(self, work: Callable[[Connection], _T]) -> _T:
        """`work(connection)` in a thread, on a connection no other thread is using."""
        connection = await self._free.get()
        try:
            return await asyncio.to_thread(work, connection)
        finally:
            self._free.put_nowait(connection)

    def close(self) -> None:
        for history in self.histories:
            history.close()
