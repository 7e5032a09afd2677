"""Measures of saved videos, one row per task in `measures` (the numbers come from
media/_measures.py; runner/_measuring.py takes them). A mixin of `History`, which provides the
transactions (`_run`). A write replaces the task's row in one transaction; reads never compute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

from ._rows import iso, now

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.sql.elements import ColumnElement

    from ._records import TaskRecord

_T = TypeVar("_T")

# The stored measures, in the order tables show them (media.MEASURE_NAMES and the CLIP extra's).
MEASURE_COLUMNS: Final = (
    "first_frame_match",
    "last_frame_match",
    "motion",
    "flicker",
    "frozen_share",
    "cuts",
    "sharpness",
    "text_alignment",
    "aesthetic",
)
INTEGER_MEASURES: Final = frozenset({"cuts"})


class MeasureStore:
    def _run(self, work: Callable[[Connection], _T], *, write: bool) -> _T:
        raise NotImplementedError

    if TYPE_CHECKING:  # _reading.Reading's, mixed into History beside this class

        def _select(
            self,
            where: ColumnElement[bool],
            *,
            order: Sequence[Any] = (),
            limit: int | None = None,
            offset: int = 0,
        ) -> list[TaskRecord]: ...

    def set_measures(
        self,
        local_id: str,
        values: Mapping[str, float | int | None],
        *,
        version: int,
        frames: int | None = None,
        error: str | None = None,
    ) -> None:
        """Keep the measures of a task's video (names in MEASURE_COLUMNS; others refused), or
        `error`: why it could not be measured (so it is not tried again at this `version`)."""
        from sqlalchemy import delete, insert

        from ._schema import measures

        unknown = sorted(set(values) - set(MEASURE_COLUMNS))
        if unknown:
            raise ValueError(f"unknown measure(s) {', '.join(unknown)}; known: {MEASURE_COLUMNS}")
        row: dict[str, Any] = {
            "local_id": local_id,
            "version": int(version),
            "measured_at": iso(now()),
            "frames": frames,
            "error": error,
        }
        for name in MEASURE_COLUMNS:
            value = values.get(name)
            row[name] = (
                None
                if value is None
                else (int(value) if name in INTEGER_MEASURES else float(value))
            )

        def work(conn: Connection) -> None:
            conn.execute(delete(measures).where(measures.c.local_id == local_id))
            conn.execute(insert(measures).values(**row))

        self._run(work, write=True)

    def measures_of(self, local_ids: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """The stored measures by local id (every task's when `local_ids` is None): each a dict
        of MEASURE_COLUMNS plus `version`, `frames`, `error`, `measured_at`."""
        from sqlalchemy import select

        from ._schema import measures

        wanted = None if local_ids is None else sorted(set(local_ids))
        if wanted == []:
            return {}

        def work(conn: Connection) -> dict[str, dict[str, Any]]:
            found: dict[str, dict[str, Any]] = {}
            chunks = (
                [None]
                if wanted is None
                else [wanted[i : i + 500] for i in range(0, len(wanted), 500)]
            )
            for chunk in chunks:
                query = select(measures)
                if chunk is not None:
                    query = query.where(measures.c.local_id.in_(chunk))
                for row in conn.execute(query).mappings():
                    found[str(row["local_id"])] = {k: v for k, v in row.items() if k != "local_id"}
            return found

        return self._run(work, write=False)

    def unmeasured(self, version: int, local_ids: Iterable[str] | None = None) -> list[TaskRecord]:
        """Completed tasks with a saved video whose measures are missing or older than
        `version` (oldest first); among `local_ids` when given."""
        from sqlalchemy import and_, or_, select

        from ._schema import measures, tasks

        done = select(measures.c.local_id).where(measures.c.version >= version)
        where = and_(
            tasks.c.status == "completed",
            tasks.c.video_path.is_not(None),
            tasks.c.local_id.not_in(done),
        )
        if local_ids is not None:
            ids = sorted(set(local_ids))
            if not ids:
                return []
            where = and_(
                where,
                or_(*[tasks.c.local_id.in_(ids[i : i + 500]) for i in range(0, len(ids), 500)]),
            )
        return self._select(where, order=[tasks.c.finished_at])
