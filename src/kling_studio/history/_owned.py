"""The files a history owns, which nothing the package writes at a user's path may replace:
its database (and SQLite's side files), its video folder (saved videos, posters, downloads in
progress), its comparison plans, and every task's saved video and poster wherever they are.

Every writer of a path a user gives (a stitch's copy, `generate --out`, the exports) asks
`History.refuse_owned_path` before doing any work: writing over a paid task's video would
destroy it and leave its stored hash wrong.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..errors import InputError
from ..media._posters import poster_path_for

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ._url import Location

_T = TypeVar("_T")
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


class OwnedFiles:
    """The history's side of "never write over what the history owns" (a mixin of History)."""

    location: Location
    path: Path
    home: Path
    videos_dir: Path

    def _run(self, work: Callable[[Connection], _T], *, write: bool) -> _T:
        raise NotImplementedError

    def _load_path(self, stored: str | None) -> Path | None:
        raise NotImplementedError

    def refuse_owned_path(
        self, path: str | os.PathLike[str], what: str, field: str = "path"
    ) -> Path:
        """`path` (user expanded) if writing `what` there destroys nothing of this history;
        else an InputError that says whose file it is and what to do. Symbolic links are
        followed: a link to a saved video is that video."""
        target = Path(path).expanduser()
        real = Path(os.path.realpath(target))
        owner = self._owner_of(real)
        if owner is not None:
            raise InputError(
                f"{str(target)!r} is {owner}, and the {what} is never written over a file the "
                "history owns. Choose another file name; nothing was written.",
                field,
            )
        return target

    def _owner_of(self, real: Path) -> str | None:
        from sqlalchemy import select

        from ._schema import tasks

        if self.location.path is not None:
            database = Path(os.path.realpath(self.location.path))
            side_files = {database.with_name(database.name + s) for s in SQLITE_SIDE_FILES}
            if real == database or real in side_files:
                return f"the history's database ({self.location.display})"

        def work(conn: Connection) -> list[tuple[str, str]]:
            query = select(tasks.c.local_id, tasks.c.video_path).where(
                tasks.c.video_path.is_not(None)
            )
            return [(r.local_id, r.video_path) for r in conn.execute(query)]

        for local_id, stored in self._run(work, write=False):
            video = self._load_path(stored)
            if video is None:
                continue
            video = Path(os.path.realpath(video))
            if real == video:
                return f"the saved video of the history's task {local_id}"
            if real == poster_path_for(video):
                return f"the poster of the history's task {local_id}"
        plans = self.path.with_name(f"{self.path.stem}.comparisons")
        for folder, whose in (
            (self.videos_dir, "in the history's video folder, whose files only the history writes"),
            (plans, "in the history's comparison plans folder"),
        ):
            if real.is_relative_to(Path(os.path.realpath(folder))):
                return whose
        return None
