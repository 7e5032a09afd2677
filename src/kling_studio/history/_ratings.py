"""Judgements by several people: one row per (task, user) in `ratings`, and comparison plans in
`comparisons`. A mixin of `History`, which provides the transactions (`_run`) and the user.

Each write is one statement in one short transaction, an upsert of the writer's own row
(`INSERT ... ON CONFLICT (local_id, user) DO UPDATE`, on SQLite and PostgreSQL alike): nobody's
rating can overwrite another's, and two writers of the same person's row never lose a column
the other set (only the columns given are updated).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ._rows import Scrubber, iso, now

if TYPE_CHECKING:
    from sqlalchemy import Column, Connection, Executable, Table

    from ._url import Location

_T = TypeVar("_T")


@dataclass(frozen=True)
class Judgement:
    """One person's judgement of one task."""

    user: str
    rating: int | None
    winner: bool
    note: str
    rated_at: str


class Ratings:
    location: Location
    user: str
    _scrub: Scrubber

    def _run(self, work: Callable[[Connection], _T], *, write: bool) -> _T:
        raise NotImplementedError

    # --- writing: only this history's user's row ---------------------------------------------

    def set_rating(
        self,
        local_id: str,
        *,
        rating: int | None = None,
        winner: bool | None = None,
        note: str | None = None,
        clear_rating: bool = False,
    ) -> None:
        """Judge a task as this history's user (`History(user=...)`). Only the arguments given
        change; `clear_rating=True` removes the rating and keeps the mark and the note."""
        changes: dict[str, Any] = {}
        if rating is not None:
            if isinstance(rating, bool) or not isinstance(rating, int):
                raise ValueError(f"rating must be an integer; got {rating!r}")
            changes["rating"] = rating
        if clear_rating:
            changes["rating"] = None
        if winner is not None:
            changes["winner"] = int(bool(winner))
        if note is not None:
            changes["note"] = self._scrub(note)
        if changes:
            self._upsert(local_id, changes)

    def clear_rating(self, local_id: str) -> None:
        """Forget this user's judgement of a task (rating, mark and note); others' stay."""
        from sqlalchemy import and_, delete

        from ._schema import ratings

        def work(conn: Connection) -> None:
            _check_task(conn, local_id)
            conn.execute(
                delete(ratings).where(
                    and_(ratings.c.local_id == local_id, ratings.c.user == self.user)
                )
            )

        self._run(work, write=True)

    def _upsert(self, local_id: str, changes: dict[str, Any]) -> None:
        from ._schema import ratings

        stamp = iso(now())
        values = {"local_id": local_id, "user": self.user, "rated_at": stamp} | changes
        keys = [ratings.c.local_id, ratings.c.user]
        query = _upsert(self.location.kind, ratings, values, keys, changes | {"rated_at": stamp})

        def work(conn: Connection) -> None:
            _check_task(conn, local_id)
            conn.execute(query)

        self._run(work, write=True)

    # --- reading: everyone's ----------------------------------------------------------------

    def judgements(self, local_ids: Iterable[str]) -> dict[str, list[Judgement]]:
        """Every rater's judgement of these tasks, by task, each list sorted by user."""
        from sqlalchemy import select

        from ._schema import ratings

        wanted = sorted({i for i in local_ids if i})
        found: dict[str, list[Judgement]] = {i: [] for i in wanted}
        if not wanted:
            return found

        def work(conn: Connection) -> None:
            query = (
                select(ratings)
                .where(ratings.c.local_id.in_(wanted))
                .order_by(ratings.c.local_id, ratings.c.user)
            )
            for row in conn.execute(query).mappings():
                found[row["local_id"]].append(
                    Judgement(
                        user=row["user"],
                        rating=row["rating"],
                        winner=bool(row["winner"]),
                        note=row["note"] or "",
                        rated_at=row["rated_at"],
                    )
                )

        self._run(work, write=False)
        return found

    # --- comparison plans -------------------------------------------------------------------

    def save_comparison(self, group_id: str, plan: dict[str, Any]) -> None:
        """Keep a comparison's plan (JSON-able) in the history; a newer save replaces it."""
        from ._schema import comparisons

        text = self._scrub.json(plan)
        values = {"group_id": group_id, "author": self.user, "created_at": iso(now()), "plan": text}
        keys = [comparisons.c.group_id]
        query = _upsert(self.location.kind, comparisons, values, keys, {"plan": text})
        self._run(lambda conn: conn.execute(query), write=True)

    def comparison_plan(self, group_id: str) -> dict[str, Any] | None:
        """A comparison's plan as saved by `save_comparison`, or None."""
        from sqlalchemy import select

        from ._schema import comparisons

        query = select(comparisons.c.plan).where(comparisons.c.group_id == group_id)
        text = self._run(lambda conn: conn.execute(query).scalar(), write=False)
        if text is None:
            return None
        found = json.loads(text)
        return found if isinstance(found, dict) else None

    def latest_comparison(self) -> str | None:
        """The group id of the comparison saved last, or None."""
        from sqlalchemy import select

        from ._schema import comparisons

        query = (
            select(comparisons.c.group_id)
            .order_by(comparisons.c.created_at.desc(), comparisons.c.group_id.desc())
            .limit(1)
        )
        found = self._run(lambda conn: conn.execute(query).scalar(), write=False)
        return None if found is None else str(found)


def _check_task(conn: Connection, local_id: str) -> None:
    from sqlalchemy import select

    from ._schema import tasks

    if conn.execute(select(tasks.c.local_id).where(tasks.c.local_id == local_id)).first() is None:
        raise KeyError(f"no task {local_id!r} in the history")


def _upsert(
    kind: str,
    table: Table,
    values: dict[str, Any],
    keys: list[Column[Any]],
    changes: dict[str, Any],
) -> Executable:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET changes: one atomic statement on both."""
    if kind == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return (
            sqlite_insert(table)
            .values(values)
            .on_conflict_do_update(index_elements=keys, set_=changes)
        )
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    return (
        postgresql_insert(table)
        .values(values)
        .on_conflict_do_update(index_elements=keys, set_=changes)
    )
