"""Reading the history: one record, filtered pages (newest first), counts, authors, the
DataFrame and exports. A mixin of `History`, which provides the transactions (`_run`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ._records import ACTIVE, TaskRecord, check_statuses, frame, write_frame
from ._rows import since_text, to_record
from ._url import Location

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Connection
    from sqlalchemy.sql.elements import ColumnElement

_T = TypeVar("_T")
Status = str | list[str] | tuple[str, ...] | None


class Reading:
    location: Location
    user: str
    shared: bool

    def _run(self, work: Callable[[Connection], _T], *, write: bool) -> _T:
        raise NotImplementedError

    def _load_path(self, stored: str | None) -> Path | None:
        raise NotImplementedError

    if TYPE_CHECKING:  # History's, from _owned.OwnedFiles (a stub here would shadow it)

        def refuse_owned_path(
            self, path: str | os.PathLike[str], what: str, field: str = "path"
        ) -> Path: ...

    # --- reading -------------------------------------------------------------------------------

    def get(self, local_id: str) -> TaskRecord | None:
        from ._schema import tasks

        found = self._select(tasks.c.local_id == local_id)
        return found[0] if found else None

    def __getitem__(self, local_id: str) -> TaskRecord:
        record = self.get(local_id)
        if record is None:
            raise KeyError(f"no task {local_id!r} in the history")
        return record

    def by_task_id(self, task_id: str) -> TaskRecord | None:
        from ._schema import tasks

        found = self._select(
            tasks.c.task_id == task_id, order=[tasks.c.submitted_at.desc()], limit=1
        )
        return found[0] if found else None

    def find_completed_by_hash(self, request_hash: str) -> TaskRecord | None:
        """The newest completed task that sent exactly this request (to reuse, not re-pay)."""
        from sqlalchemy import and_

        from ._schema import tasks

        found = self._select(
            and_(tasks.c.request_hash == request_hash, tasks.c.status == "completed"),
            order=[tasks.c.finished_at.desc(), tasks.c.submitted_at.desc()],
            limit=1,
        )
        return found[0] if found else None

    def unfinished(self) -> list[TaskRecord]:
        """Live records to resume (submitting/pending/processing) and `unknown` ones, oldest
        first."""
        from ._schema import tasks

        statuses = sorted(ACTIVE | {"unknown"})
        return self._select(tasks.c.status.in_(statuses), order=[tasks.c.submitted_at])

    def missing_videos(self) -> list[TaskRecord]:
        """Completed tasks with a result URL whose video is not saved (and not known dead)."""
        from sqlalchemy import and_

        from ._schema import tasks

        return self._select(
            and_(
                tasks.c.status == "completed",
                tasks.c.video_url.is_not(None),
                tasks.c.video_path.is_(None),
                tasks.c.url_expired == 0,
            ),
            order=[tasks.c.finished_at],
        )

    def records(
        self,
        *,
        status: Status = None,
        since: datetime | timedelta | str | None = None,
        text: str | None = None,
        group_id: str | None = None,
        user: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        exclude: Collection[str] = (),
    ) -> list[TaskRecord]:
        """Records, newest first. `since`: submitted at or after (a datetime, ISO text, or a
        timedelta back from now; naive times are local). `text`: case-insensitive, in the prompt.
        `user`: only that author's tasks (`"me"`: this history's user; None: everyone's).
        `exclude`: local ids left out (e.g. a blind comparison's while it is judged).
        """
        from ._schema import tasks

        return self._select(
            self._filters(status, since, text, group_id, user, exclude),
            order=[tasks.c.submitted_at.desc(), tasks.c.local_id.desc()],
            limit=limit,
            offset=offset,
        )

    def count(
        self,
        *,
        status: Status = None,
        since: datetime | timedelta | str | None = None,
        text: str | None = None,
        group_id: str | None = None,
        user: str | None = None,
        exclude: Collection[str] = (),
    ) -> int:
        from sqlalchemy import func, select

        from ._schema import tasks

        where = self._filters(status, since, text, group_id, user, exclude)

        def work(conn: Connection) -> int:
            query = select(func.count()).select_from(tasks).where(where)
            return int(conn.execute(query).scalar_one())

        return self._run(work, write=False)

    def users(self) -> list[str]:
        """Everyone who has a task in this history, alphabetically."""
        from sqlalchemy import select

        from ._schema import tasks

        def work(conn: Connection) -> list[str]:
            query = select(tasks.c.author).where(tasks.c.author.is_not(None)).distinct()
            return sorted(str(name) for name in conn.execute(query).scalars())

        return self._run(work, write=False)

    def df(
        self,
        *,
        status: Status = None,
        since: datetime | timedelta | str | None = None,
        text: str | None = None,
        group_id: str | None = None,
        user: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        """The history as a typed DataFrame, newest first, with `local_id` and `user` (the
        author) as columns and a plain RangeIndex (columns and dtypes: `FRAME_DTYPES`), the
        measures of each video included (<NA> until measured)."""
        records = self.records(
            status=status,
            since=since,
            text=text,
            group_id=group_id,
            user=user,
            limit=limit,
            offset=offset,
        )
        return frame(records, self.measures_of(r.local_id for r in records))

    if TYPE_CHECKING:  # history/_measures.py, mixed into History beside this class

        def measures_of(self, local_ids: Any = None) -> dict[str, dict[str, Any]]: ...

    def export(
        self, path: str | os.PathLike[str], *, format: str | None = None, **filters: Any
    ) -> Path:
        """Write `df(**filters)` to CSV, Parquet or JSON (records, ISO dates); `format` defaults
        to the extension. Written to a temporary file and renamed, so a failed export leaves
        any previous file whole."""
        target = self.refuse_owned_path(path, "export")
        return write_frame(self.df(**filters), target, format)

    def _filters(
        self,
        status: Status,
        since: datetime | timedelta | str | None,
        text: str | None,
        group_id: str | None,
        user: str | None,
        exclude: Collection[str] = (),
    ) -> ColumnElement[bool]:
        from sqlalchemy import and_, func, or_, true

        from ._schema import tasks

        clauses: list[ColumnElement[bool]] = []
        if status is not None:
            wanted = check_statuses(status if isinstance(status, str) else tuple(status))
            clauses.append(tasks.c.status.in_(wanted))
        if since is not None:
            clauses.append(tasks.c.submitted_at >= since_text(since))
        if text:
            if self.location.kind == "sqlite":
                clauses.append(func.kls_contains(tasks.c.prompt, text.casefold()) == 1)
            else:  # PostgreSQL's lower() folds every alphabet (the database is UTF-8)
                clauses.append(func.strpos(func.lower(tasks.c.prompt), func.lower(text)) > 0)
        if group_id is not None:
            clauses.append(tasks.c.group_id == group_id)
        if user == "me" and not self.shared:
            # A task from before authors were kept, in one person's own file, is theirs.
            clauses.append(or_(tasks.c.author == self.user, tasks.c.author.is_(None)))
        elif user is not None:
            clauses.append(tasks.c.author == (self.user if user == "me" else user))
        if exclude:
            clauses.append(tasks.c.local_id.not_in(list(exclude)))
        return and_(true(), *clauses)

    def _select(
        self,
        where: ColumnElement[bool],
        *,
        order: Sequence[Any] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[TaskRecord]:
        from sqlalchemy import and_, select

        from ._blobs import video_stored
        from ._schema import ratings, tasks

        # A record carries this history's user's judgement (others': `judgements()`).
        mine = ratings.alias("mine")
        joined = tasks.outerjoin(
            mine, and_(mine.c.local_id == tasks.c.local_id, mine.c.user == self.user)
        )
        query = select(tasks, mine.c.rating, mine.c.winner, mine.c.note, video_stored())
        query = query.select_from(joined).where(where).order_by(*order)
        if limit is not None:
            query = query.limit(int(limit))
        if offset:
            query = query.offset(int(offset))

        def work(conn: Connection) -> list[TaskRecord]:
            rows = conn.execute(query).mappings()
            return [to_record(r, self._load_path) for r in rows]

        return self._run(work, write=False)

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[TaskRecord]:
        return iter(self.records())
