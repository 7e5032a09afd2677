"""Forwarding a student's create upstream and following it to a saved video, as the runner does
for a kernel: the same journal, budgets, leases, following and adoption (runner/), with the
student as each task's author and the gateway's one key upstream.

Money rules: the task is journalled (and its budget reserved) before its create leaves; only an
answer that proves no task exists records it `rejected`; a lost answer leaves it `unknown` with
any id it carried, and it is never sent again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from dataclasses import dataclass

from ..client._async import AsyncClient
from ..errors import CreateOutcomeUnknown
from ..history._store import History
from ..models import PreparedRequest
from ..runner._cards import Live, settings_of
from ..runner._outcomes import error_code, proves_no_task
from ..runner._runner import Runner
from ..tasks import Task

log = logging.getLogger("kling_studio.gateway")

UNLIMITED_SLOTS = 100_000  # the gateway caps each student (--max-in-flight), not itself


@dataclass(frozen=True)
class Sent:
    """What the upstream's answer to a create proved."""

    task: Task | None = None  # created: follow it
    unknown: str | None = None  # the answer was lost: why (the task may exist)
    task_id: str | None = None  # an id the lost answer carried, if any
    refused: BaseException | None = None  # the upstream refused it: no task exists


class Forwarder(Runner):
    """A runner whose tasks are every student's, sent with the gateway's key."""

    def __init__(self, client: AsyncClient, history: History, *, wait_timeout: float | None):
        super().__init__(client, history, max_in_flight=UNLIMITED_SLOTS, wait_timeout=wait_timeout)

    def begin(self, prepared: PreparedRequest) -> Live:
        """A task about to be journalled: known here first, so that this replica's adoption
        beat never takes its `submitting` row (leased to this replica) for a dead one's."""
        request = prepared.request
        live = Live(
            local_id=uuid.uuid4().hex,
            prompt=request.prompt,
            settings=settings_of(
                request.effective_resolution,
                request.effective_duration,
                bool(request.generate_audio),
            ),
        )
        self._live[live.local_id] = live
        return live

    def abandon(self, live: Live) -> None:
        """It was not journalled (refused, or the database is gone): nothing to follow."""
        self._live.pop(live.local_id, None)

    async def send(self, live: Live, prepared: PreparedRequest) -> Sent:
        """Send the create of a journalled task; follow it if it was (or may have been) made."""
        live.sent = True
        try:
            sent = await self._send(live, prepared)
        except BaseException:
            await self._finish(live)
            raise
        target: Task | str | None = sent.task or sent.task_id
        if target is None:
            await self._finish(live)
        else:
            self._spawn(self._follow_to_end(live, target))
        return sent

    async def _send(self, live: Live, prepared: PreparedRequest) -> Sent:
        try:
            task = await self.client.create(prepared)
        except CreateOutcomeUnknown as exc:
            self._create_unknown(live, exc.reason, exc)
            return Sent(unknown=exc.reason, task_id=live.task_id)
        except Exception as exc:
            if not proves_no_task(exc):
                reason = f"{type(exc).__name__}: {exc}"
                self._create_unknown(live, reason, exc)
                return Sent(unknown=reason, task_id=live.task_id)
            self._journal.write(
                live, "rejected", functools.partial(self.history.mark_rejected, live.local_id, exc)
            )
            live.status = "failed"
            live.error = {"code": error_code(exc), "message": getattr(exc, "message", str(exc))}
            live.finished = time.time()
            return Sent(refused=exc)
        self._journal.write(
            live, "created", functools.partial(self.history.mark_created, live.local_id, task)
        )
        self._apply(live, task)
        return Sent(task=task)

    async def _follow_to_end(self, live: Live, task: Task | str) -> None:
        try:
            await self._follow(live, task)
        except Exception as exc:  # never lose a paid task silently
            log.exception("following %s stopped unexpectedly", live.task_id)
            self._lost_track(live, exc)
        finally:
            await self._finish(live)

    async def _finish(self, live: Live) -> None:
        await self._journal.settle(live)
        live.done.set()
        self._release(live.local_id)

    async def keep_adopting(self) -> None:
        """Forever: follow every task of the class history whose follower is gone (a replica
        that died, a kernel that stopped), one replica per task by its lease."""
        self.cache.clean_partials(older_than=3600.0)
        while True:
            try:
                await self._adopt()
            except Exception:  # a busy or unreachable database: try again at the next beat
                log.warning("adopting unfollowed tasks failed", exc_info=True)
            await asyncio.sleep(self.history.lease_seconds / 3)
