"""The gateway's reads and writes of the class history beyond the journal: which create an
idempotency key already started (`gateway_creates`), and a student's view of a task (theirs
only), answered from the journal while a live follower keeps it fresh."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ..history._records import TERMINAL
from ..history._rows import iso, now

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ..history._store import History

VIDEO: Final = "video"
VOICE: Final = "voice"


@dataclass(frozen=True)
class Claim:
    """An idempotency key: this request's to send (`mine`), or an earlier one's."""

    mine: bool
    kind: str
    local_id: str
    task_id: str | None = None


@dataclass(frozen=True)
class TaskState:
    """A student's task as the journal has it."""

    local_id: str
    status: str | None  # None: a voice creation (not journalled as a task)
    raw: dict[str, Any] | None
    fresh: bool  # final, or a live follower holds it: the journal is as fresh as upstream


class Ledger:
    def __init__(self, history: History) -> None:
        self.history = history

    def claim(self, user: str, key: str, kind: str, local_id: str) -> Claim:
        """Take `key` for a new create, or learn which earlier create of this student has it.
        A key whose earlier create was refused (no task exists) is taken over."""
        from sqlalchemy import and_, select
        from sqlalchemy.exc import IntegrityError

        from ..history._schema import gateway_creates, tasks

        mine = and_(gateway_creates.c.user == user, gateway_creates.c.key == key)

        def work(conn: Connection) -> Claim:
            row = conn.execute(select(gateway_creates).where(mine).with_for_update()).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            gateway_creates.insert().values(
                                user=user,
                                key=key,
                                kind=kind,
                                local_id=local_id,
                                created_at=iso(now()),
                            )
                        )
                except IntegrityError:  # another replica took it a moment ago
                    row = conn.execute(select(gateway_creates).where(mine)).first()
                    assert row is not None
                    return Claim(False, row.kind, row.local_id, row.task_id)
                return Claim(True, kind, local_id)
            status = conn.execute(
                select(tasks.c.status).where(tasks.c.local_id == row.local_id)
            ).scalar()
            if row.kind == VIDEO and status == "rejected":
                conn.execute(gateway_creates.update().where(mine).values(local_id=local_id))
                return Claim(True, kind, local_id)
            return Claim(False, row.kind, row.local_id, row.task_id)

        return self.history._run(work, write=True)

    def release(self, user: str, key: str, local_id: str) -> None:
        """The create under `key` was never journalled nor sent: the key is free again."""
        from sqlalchemy import and_

        from ..history._schema import gateway_creates

        c = gateway_creates.c

        def work(conn: Connection) -> None:
            conn.execute(
                gateway_creates.delete().where(
                    and_(c.user == user, c.key == key, c.local_id == local_id)
                )
            )

        self.history._run(work, write=True)

    def voice_created(self, user: str, key: str, task_id: str) -> None:
        from sqlalchemy import and_

        from ..history._schema import gateway_creates

        c = gateway_creates.c

        def work(conn: Connection) -> None:
            conn.execute(
                gateway_creates.update()
                .where(and_(c.user == user, c.key == key))
                .values(task_id=task_id)
            )

        self.history._run(work, write=True)

    def state(self, user: str, task_id: str) -> TaskState | None:
        """The student's task with this FoxAPI id; None if it is not theirs (or no task)."""
        from sqlalchemy import and_, select

        from ..history._schema import gateway_creates, tasks

        def work(conn: Connection) -> TaskState | None:
            row = conn.execute(
                select(tasks.c.local_id, tasks.c.status, tasks.c.raw, tasks.c.lease_until)
                .where(and_(tasks.c.task_id == task_id, tasks.c.author == user))
                .order_by(tasks.c.submitted_at.desc())
                .limit(1)
            ).first()
            if row is not None:
                raw = json.loads(row.raw) if row.raw else None
                followed = row.lease_until is not None and row.lease_until > (iso(now()) or "")
                fresh = row.status in TERMINAL or (followed and row.status != "unknown")
                return TaskState(row.local_id, row.status, raw, fresh and raw is not None)
            voice = conn.execute(
                select(gateway_creates.c.local_id).where(
                    and_(
                        gateway_creates.c.task_id == task_id,
                        gateway_creates.c.user == user,
                        gateway_creates.c.kind == VOICE,
                    )
                )
            ).first()
            return None if voice is None else TaskState(voice.local_id, None, None, False)

        return self.history._run(work, write=False)

    def journalled(self, local_id: str) -> tuple[str, str | None, dict[str, Any] | None] | None:
        """(status, task id, last answer) of a journalled task, None before its row exists."""
        from sqlalchemy import select

        from ..history._schema import tasks

        def work(conn: Connection) -> tuple[str, str | None, dict[str, Any] | None] | None:
            row = conn.execute(
                select(tasks.c.status, tasks.c.task_id, tasks.c.raw).where(
                    tasks.c.local_id == local_id
                )
            ).first()
            if row is None:
                return None
            return row.status, row.task_id, json.loads(row.raw) if row.raw else None

        return self.history._run(work, write=False)
