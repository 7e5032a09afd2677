"""Leases: many kernels on one history, and every unfinished task followed by exactly one.

A kernel holds a task while `lease_owner` is its id and `lease_until` is in the future. It
takes the lease when it journals the task (or, on resume, when the lease is free or ran out),
renews it while it follows the task, and gives it back when the task ends. A kernel that dies
stops renewing; once its leases run out (`lease_seconds`, two minutes by default) another
kernel's resume adopts the tasks. Taking a lease is one conditional UPDATE, atomic on both
databases, so two kernels racing for a task never both win.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Final, TypeVar

from ..statuses import Status
from ._records import ACTIVE
from ._rows import iso, now

if TYPE_CHECKING:
    from sqlalchemy import Connection

DEFAULT_LEASE_SECONDS: Final = 120.0
LEASE_ENV: Final = "KLING_STUDIO_LEASE_SECONDS"
_T = TypeVar("_T")


_owner: tuple[int, str] | None = None


def _machine() -> str:
    """This machine, as this boot of it: the host name and the kernel's boot id (Linux)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()[:8]
    except OSError:
        boot = "-"
    return f"{socket.gethostname()[:40]}/{boot}"


def new_owner() -> str:
    """This process's id in the lease columns: machine, pid and a random tail. One per
    process (every History in it shares it, so a fresh History after a restart of the work in
    the same kernel is the same owner), a new one after a fork."""
    global _owner
    if _owner is None or _owner[0] != os.getpid():
        _owner = (os.getpid(), f"{_machine()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    return _owner[1]


def _dead_here(owner: str) -> bool:
    """True when `owner` is a process of this machine that no longer runs: its leases are
    free at once (a restarted kernel takes its tasks back without waiting for them to run out).
    A live process of that pid (even another one) keeps them: the safe way round."""
    machine, _, rest = owner.rpartition(":")[0].rpartition(":")
    if machine != _machine():
        return False
    try:
        os.kill(int(rest), 0)
    except ProcessLookupError:
        return True
    except (ValueError, OSError):
        return False
    return False


def _needs_following(
    status: str, video_url: str | None, video_path: str | None, url_expired: int | None
) -> bool:
    """A task some kernel must still follow: live or unknown (History.unfinished), or
    completed with a video to download (History.missing_videos)."""
    if status in ACTIVE or status == Status.UNKNOWN:
        return True
    return (
        status == Status.COMPLETED
        and video_url is not None
        and video_path is None
        and not url_expired
    )


def lease_seconds_from(value: float | None) -> float:
    from .. import config

    if value is None:
        configured = config.env(LEASE_ENV)
        value = float(configured) if configured else DEFAULT_LEASE_SECONDS
    if not value > 0:
        raise ValueError(f"lease_seconds must be positive; got {value!r}")
    return float(value)


class Leases:
    owner: str
    lease_seconds: float

    def _run(self, work: Callable[[Connection], _T], *, write: bool) -> _T:
        raise NotImplementedError

    def _lease_until(self) -> str | None:
        return iso(now() + timedelta(seconds=self.lease_seconds))

    def claim(self, local_id: str) -> bool:
        """Take (or keep) the lease of a task: True when this kernel now follows it, False
        when another kernel's lease on it is still running, or when the task no longer needs
        following (it ended, and its video is saved or cannot be)."""
        return local_id in self.claim_all([local_id])

    def claim_all(self, local_ids: Iterable[str], limit: int | None = None) -> set[str]:
        """Take the leases of those tasks that are free and still need following, all in one
        write transaction; returns the ids this kernel now follows. `limit`: take at most
        that many (the first free ones in the order given), leaving the rest to other kernels.

        One write per resume, not one per task: sixteen kernels resuming a hundred tasks at
        once would otherwise queue 1,600 writes on one SQLite lock (and a kernel gives up
        after `busy_timeout`). The task's state is read under the same lock as its lease: a
        kernel working from a list read a moment ago never takes a task another kernel has
        just finished and let go (it would poll it again and download its video twice)."""
        from sqlalchemy import select

        from ._schema import tasks

        wanted = list(dict.fromkeys(local_ids))
        if not wanted:
            return set()

        def work(conn: Connection) -> set[str]:
            # Read and take in one write transaction, the rows locked: two kernels racing for
            # a task see one another's claim, and only one wins. A row another kernel is writing
            # right now is skipped, not waited for (PostgreSQL; SQLite locks the whole file):
            # with sixteen kernels the waits chained into lock timeouts and deadlocks. It is
            # that kernel's task, or free again at the next adopt beat.
            query = (
                select(
                    tasks.c.local_id,
                    tasks.c.lease_owner,
                    tasks.c.lease_until,
                    tasks.c.status,
                    tasks.c.video_url,
                    tasks.c.video_path,
                    tasks.c.url_expired,
                )
                .where(tasks.c.local_id.in_(wanted))
                .with_for_update(skip_locked=True)
            )
            current = iso(now()) or ""
            free: list[str] = []
            for row in conn.execute(query):
                if not _needs_following(row.status, row.video_url, row.video_path, row.url_expired):
                    continue
                if (
                    row.lease_owner is None
                    or row.lease_owner == self.owner
                    or row.lease_until is None
                    or row.lease_until < current
                    or _dead_here(row.lease_owner)
                ):
                    free.append(row.local_id)
            order = {local_id: n for n, local_id in enumerate(wanted)}
            free.sort(key=order.__getitem__)
            if limit is not None:
                free = free[: max(0, limit)]
            taken = set(free)
            if taken:
                conn.execute(
                    tasks.update()
                    .where(tasks.c.local_id.in_(sorted(taken)))
                    .values(lease_owner=self.owner, lease_until=self._lease_until())
                )
            return taken

        return self._run(work, write=True)

    def renew(self, local_ids: Iterable[str]) -> set[str]:
        """Extend this kernel's leases on these tasks; returns the ids it still holds. A task
        missing from the answer is lost: its lease ran out (this kernel was too slow to renew)
        and another kernel took it, so this one must stop following it."""
        from sqlalchemy import select

        from ._schema import tasks

        wanted = list(local_ids)
        if not wanted:
            return set()
        mine = tasks.c.local_id.in_(wanted) & (tasks.c.lease_owner == self.owner)

        def work(conn: Connection) -> set[str]:
            conn.execute(tasks.update().where(mine).values(lease_until=self._lease_until()))
            return set(conn.execute(select(tasks.c.local_id).where(mine)).scalars())

        return self._run(work, write=True)

    def release(self, local_id: str | None = None) -> None:
        """Give a task's lease back (it ended, or this kernel stops following it); with no id,
        every lease this kernel holds (it closes its history: another may take them at once)."""
        from ._schema import tasks

        mine = tasks.c.lease_owner == self.owner
        where = mine if local_id is None else (tasks.c.local_id == local_id) & mine

        def work(conn: Connection) -> None:
            conn.execute(tasks.update().where(where).values(lease_owner=None, lease_until=None))

        self._run(work, write=True)
