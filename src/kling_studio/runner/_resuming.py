"""Picking tasks up from the history, a part of `Runner`: `resume()` follows every unfinished
task (and fetches every missing video) whose lease is free, and from then on the runner's
heartbeat adopts the tasks of kernels that stopped renewing their leases (they died)."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from ..history._records import TaskRecord
from ._cards import Live, live_from_record
from ._following import Following

log = logging.getLogger("kling_studio")

PARTIAL_MAX_AGE = 3600.0  # seconds untouched before a download's temporary file is a leftover
# Claims are spread over the kernels resuming at once: a kernel first takes at most CLAIM_FIRST
# free tasks, then, after CLAIM_PAUSE, at most as many as it already follows per claim while its
# last claim was capped. Kernels started together so take turns (each holds leases after its
# first claim) and end with shares within a claim of one another; a kernel alone doubles its
# share each pause (100 tasks in 5 pauses). There is no "alone, take the rest" shortcut: on a
# loaded machine the others' first claims come late, and the shortcut gave one kernel all.
CLAIM_FIRST = 4
CLAIM_PAUSE = 1.0  # seconds: time for the other kernels' first claims at the write lock


class Resuming(Following):
    """Resumes and adopts tasks of the history (mixed into `Runner`, which sets the state)."""

    _slots: asyncio.Semaphore
    _live: dict[str, Live]
    _heartbeat: asyncio.Task[None] | None
    _adopting: bool
    _held_elsewhere: int
    _beat: Callable[[], Coroutine[Any, Any, None]]
    _release: Callable[[str], None]

    def _spawn(self, coro: Coroutine[Any, Any, None], resumed: str | None = None) -> None:
        raise NotImplementedError  # Runner's: a task on its loop; `resumed`: let go if lost

    async def resume(self) -> list[str]:
        """Follow every unfinished task of the history to its end; fetch missing videos.

        A record still `submitting` was journalled but its create's answer never came back (the
        process died): it becomes `unknown`, since the task may exist. An `unknown` record whose
        answer had an id is followed by that id.

        Several kernels may resume one shared history: each task is taken by exactly one (its
        lease, history/_leases.py); a task another live kernel follows is left to it, and from
        now on this runner also adopts tasks whose kernel dies (once their lease runs out).

        Temporary files of downloads that a killed process left are removed first; only those
        untouched for an hour, since a live download (another kernel's) writes at least every
        read timeout (60 s).
        """
        self.cache.clean_partials(older_than=PARTIAL_MAX_AGE)
        # Videos saved here while the video store was away: into the store now, if it answers.
        await asyncio.to_thread(self.history.upload_pending)
        self._adopting = True
        resumed = await self._adopt()
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())
        return resumed

    async def _adopt(self, within: float | None = None) -> list[str]:
        """Start following every unfinished task (and missing video) whose lease is free, in
        claims that leave other kernels resuming at the same time their share. `within`:
        seconds this may take (the heartbeat's, which must renew leases in time); what is
        still free then is left to the next call."""
        started = time.monotonic()
        resumed: list[str] = []
        tried: set[str] = set()  # taken in an earlier claim of this adopt (e.g. then released)
        # Followers start once the claims are made: running meanwhile, their polls and journal
        # writes would hold up the pauses (and this call) on a busy machine by seconds.
        starts: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = []
        limit = max(CLAIM_FIRST, self._following())
        try:
            while True:
                capped = self._adopt_some(starts, tried, limit)
                if not capped:
                    break
                if within is not None and time.monotonic() + CLAIM_PAUSE > started + within:
                    break
                await asyncio.sleep(CLAIM_PAUSE)
                limit = max(CLAIM_FIRST, self._following())
        finally:  # every task claimed is followed, whatever stopped the claims
            for local_id, follow in starts:
                self._spawn(follow(), resumed=local_id)
                resumed.append(local_id)
        return resumed

    def _following(self) -> int:
        return sum(1 for x in self._live.values() if not x.done.is_set())

    def _adopt_some(
        self,
        starts: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]],
        tried: set[str],
        limit: int,
    ) -> bool:
        """One claim of at most `limit` free tasks not in `tried`: each is added to `tried`, and
        how to follow it to `starts`; True when the limit was reached (more may be free)."""
        # Only a person can tell whether an `unknown` task without an id exists: not followed.
        unfinished = [
            r
            for r in self.history.unfinished()
            if r.local_id not in self._live
            and r.local_id not in tried
            and not (r.status == "unknown" and r.task_id is None)
        ]
        missing = [
            r
            for r in self.history.missing_videos()
            if r.local_id not in self._live
            and r.local_id not in tried
            and r.task_id is not None
            and r.video_url
        ]
        # Every free lease in one write (many kernels resuming at once share one lock); a
        # task not taken is another kernel's, or ended since the lists were read.
        taken = self.history.claim_all((r.local_id for r in [*unfinished, *missing]), limit)
        held_elsewhere = len(unfinished) + len(missing) - len(taken)
        tried |= taken
        for record in unfinished:
            if record.local_id not in taken:
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
            starts.append(
                (record.local_id, functools.partial(self._drive_resumed, live, record.task_id))
            )
        for record in missing:
            if record.local_id not in taken or record.task_id is None or not record.video_url:
                continue
            live = self._live_from(record)
            follow = functools.partial(self._download_only, live, record.video_url, record.task_id)
            starts.append((record.local_id, follow))
        self._held_elsewhere = held_elsewhere
        return len(taken) >= limit

    def _live_from(self, record: TaskRecord) -> Live:
        live = live_from_record(record)
        live.sent = True  # a record past `submitting`: its create left long ago
        self._live[record.local_id] = live
        return live

    async def _drive_resumed(self, live: Live, task_id: str) -> None:
        try:
            async with self._slots:
                await self._follow(live, task_id)
        except Exception as exc:
            log.exception("resuming %s failed", task_id)
            self._lost_track(live, exc)
        finally:
            await self._journal.settle(live)
            live.done.set()
            self._release(live.local_id)

    async def _download_only(self, live: Live, url: str, task_id: str) -> None:
        try:
            await self._download(live, url, task_id)
        finally:
            await self._journal.settle(live)
            live.done.set()
            self._release(live.local_id)
