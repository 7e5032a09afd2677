"""The history: a journal of every task, so that a kernel restart forgets nothing; one person's
SQLite file by default, or one PostgreSQL database shared by a class or a team.

`History(location)`: a path, `sqlite:///path`, or `postgresql://user:password@host:port/db`
(see `_url.py`: else `KLING_STUDIO_HISTORY`, else `<home>/history.sqlite3`). The same schema on
both, migrated by Alembic on connect (`_engine.py`, `_schema.py`).

- Every write is one short transaction (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: the row is
  read `FOR UPDATE`), so several threads and several processes journal into one history and a
  read-modify-write never loses another's change.
- Every task carries its author (`user`): `History(user=...)`, else `KLING_STUDIO_USER`, else
  `JUPYTERHUB_USER`, else the login name. That user is also the one whose judgements
  `set_rating` writes and a TaskRecord's `rating` / `winner` / `note` show (`_ratings.py`).
- The API key and the database password are never stored: nothing handed to the history
  contains them, and as a second guard every text written is scrubbed of both.
- A locked, corrupt, foreign or newer database raises `HistoryError` and is never recreated
  or overwritten. A write that may succeed later (a busy lock, a full disk) raises its
  subclass `HistoryBusy`, so a caller holding a paid task's outcome knows to keep it and retry.
- A SQLite file deleted or replaced while open is noticed before every write (`HistoryGone`):
  SQLite would go on writing into the unlinked file, and every later write would be lost
  without a word. It is not recreated in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from .. import config
from ..errors import HistoryError
from ..models import PreparedRequest, Task
from . import _url
from ._blobs import Kept, Videos, file_sha256
from ._budgets import Budgets, Reservation, reserve
from ._faults import HistoryBusy, HistoryGone, file_identity
from ._leases import Leases, lease_seconds_from, new_owner
from ._measures import MeasureStore
from ._owned import OwnedFiles
from ._ratings import Ratings
from ._reading import Reading
from ._records import (
    TERMINAL,
    next_status,
    server_status,
)
from ._rows import Scrubber, iso, now
from ._videos import VideoCache

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, RowMapping

__all__ = ["DB_NAME", "SCHEMA_VERSION", "History", "HistoryBusy", "HistoryGone"]

DB_NAME: Final = _url.DB_NAME
VIDEOS_DIR: Final = "videos"
SCHEMA_VERSION: Final = 9  # == _schema.SCHEMA_VERSION (kept here so importing is cheap)

_T = TypeVar("_T")


class History(Reading, Ratings, Leases, Videos, Budgets, OwnedFiles, MeasureStore):
    """The task journal and its reader. Usable from several threads and several processes.

    `location`: a path (a file, or an existing folder to hold `history.sqlite3`), a
    `sqlite:///` URL or a `postgresql://` URL; None means `KLING_STUDIO_HISTORY`, else
    `config.default_home() / "history.sqlite3"`. `user`: the author of the tasks journalled
    here (default: `config.resolve_user()`). `busy_timeout`: how long a write waits for another
    process's lock before giving up with `HistoryBusy`. `lease_seconds`: how long a kernel that
    stopped answering keeps its unfinished tasks before another kernel adopts them.
    `videos`: where videos and posters are kept, a folder or `s3://bucket/prefix` (credentials
    and endpoint from the AWS environment); None means `KLING_STUDIO_VIDEOS`, else the
    `videos/` folder beside the history (for a shared history: this machine's, so give a
    shared store for everyone to play everyone's videos).
    """

    def __init__(
        self,
        location: str | os.PathLike[str] | None = None,
        *,
        user: str | None = None,
        busy_timeout: float = 10.0,
        lease_seconds: float | None = None,
        videos: str | os.PathLike[str] | None = None,
    ):
        from ..store import open_store, parse_location

        self.location = _url.resolve(location)
        self.user: str = config.resolve_user(user)
        # Which kernel follows which task (see _leases.py): this History's id, and how long a
        # silent kernel keeps its tasks (KLING_STUDIO_LEASE_SECONDS, else two minutes).
        self.owner = new_owner()
        self.started_at = now()  # a per-session budget counts from here (or from its Runner's)
        self.lease_seconds = lease_seconds_from(lease_seconds)
        self.busy_timeout = float(busy_timeout)
        self.shared = self.location.shared
        if self.location.path is not None:
            self.path: Path = self.location.path
            self.home: Path = self.path.parent
        else:  # a shared history's local side: this machine's video cache and plan files
            digest = hashlib.sha256(self.location.display.encode()).hexdigest()[:12]
            self.home = config.default_home() / "shared" / f"{self.location.database}-{digest}"
            self.path = self.home / "history"  # never opened: names the side files
        self.videos_dir: Path = self.home / VIDEOS_DIR
        store_location = parse_location(videos, self.videos_dir)  # refused before connecting
        self._scrub = Scrubber(self.location.secrets)
        self._lock = threading.RLock()
        self._engine: Engine | None = None
        self._identity: tuple[int, int] | None = None  # the open SQLite file's (device, inode)
        self._pid = os.getpid()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"cannot create the history folder {self.home}: {exc}") from exc
        self._open()
        try:  # only once the database is known to be ours
            self.videos_dir.mkdir(exist_ok=True)
        except OSError as exc:
            self.close()
            raise HistoryError(f"cannot create the video folder {self.videos_dir}: {exc}") from exc
        try:
            self.store = open_store(store_location)
        except Exception:
            self.close()
            raise

    # --- connection and schema ---------------------------------------------------------------

    def _open(self) -> Engine:
        from . import _engine

        loc = self.location
        existed = loc.path is not None and loc.path.exists() and loc.path.stat().st_size > 0
        try:
            engine = _engine.create_engine(loc, self.busy_timeout)
        except ImportError as exc:
            raise _engine.missing_driver(loc, exc) from None
        try:
            if loc.kind == "sqlite":
                with engine.connect() as conn:
                    _engine.check_sqlite_identity(conn, loc, existed)
                    raw: Any = conn.connection.driver_connection  # outside any transaction
                    if raw.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                        raw.execute("PRAGMA journal_mode=WAL")
            _engine.migrate(engine, loc, self.user)
        except HistoryError:
            engine.dispose()
            raise
        except ImportError as exc:
            engine.dispose()
            raise _engine.missing_driver(loc, exc) from None
        except Exception as exc:
            engine.dispose()
            raise self._error(exc) from None
        self._engine = engine
        self._pid = os.getpid()
        if loc.path is not None:
            self._identity = file_identity(loc.path)
        return engine

    def _error(self, exc: BaseException) -> HistoryError:
        from ._engine import history_error

        return history_error(exc, self.location, self.busy_timeout)

    def _current_engine(self) -> Engine:
        if self._engine is None:
            raise HistoryError(f"The history {self.location.display} is closed")
        if self._pid != os.getpid():
            # A forked child must not use (nor close) the parent's connections.
            self._engine.dispose(close=False)
            self._pid = os.getpid()
        return self._engine

    def _check_still_there(self) -> None:
        """Raise HistoryGone when the file at `self.path` is no longer the one open here."""
        if self.location.path is None:
            return
        if file_identity(self.location.path) != self._identity:
            raise HistoryGone(
                f"The history file {self.path} was deleted or replaced while this program had "
                "it open, so nothing more can be saved in it (SQLite would keep writing into "
                "the deleted file). Tasks in flight are still followed in this session; restart "
                "it to open a new history (`kling-studio resume` finds tasks by id again)."
            )

    def _run(self, work: Callable[[Connection], _T], *, write: bool) -> _T:
        """Run `work` in one transaction (SQLite: IMMEDIATE for writes, so the lock is taken up
        front and a read-modify-write never races another process)."""
        from sqlalchemy.exc import SQLAlchemyError

        with self._lock:
            engine = self._current_engine()
            try:
                with engine.connect() as conn, conn.execution_options(kls_write=write).begin():
                    if write:  # a stat per write: cheap next to the fsync of the commit
                        self._check_still_there()
                    return work(conn)
            except SQLAlchemyError as exc:
                raise self._error(exc) from None

    def close(self) -> None:
        """Hand back this kernel's leases (a closed history follows nothing), then disconnect."""
        if self._engine is not None and self._pid == os.getpid():
            with contextlib.suppress(HistoryError):  # closing must not fail: they run out anyway
                self.release()
        with self._lock:
            if self._engine is not None:
                if self._pid == os.getpid():
                    self._engine.dispose()
                self._engine = None

    def __enter__(self) -> History:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"History({self.location.display!r})"

    @property
    def videos(self) -> str:
        """Where the videos are kept, as shown to a person (never a credential)."""
        return self.store.display

    @property
    def cache(self) -> VideoCache:
        """The video cache beside this history (this machine's, for a shared history)."""
        return VideoCache(self.videos_dir)

    # --- the journal ---------------------------------------------------------------------------

    def journal_submit(
        self,
        prepared: PreparedRequest,
        *,
        local_id: str | None = None,
        group_id: str | None = None,
        variant: dict[str, Any] | None = None,
        reservation: Reservation | None = None,
        author: str | None = None,
    ) -> str:
        """Record a task before its create is sent (status `submitting`); returns its local id.

        With a `reservation` (the runner always gives one), the task is held to its budgets and
        the teacher's in the same transaction as the insert: BudgetExceeded, nothing recorded.
        `author`: whose task it is, when not this history's user (the class gateway journals
        every student's tasks in one history).
        """
        from sqlalchemy.exc import IntegrityError

        from ._schema import tasks

        local_id = local_id or uuid.uuid4().hex
        author = author or self.user
        req = prepared.request
        stamp = iso(now())
        scrub = self._scrub
        row = {
            "local_id": local_id,
            "status": "submitting",
            "progress": 0,
            "prompt": scrub(req.prompt) if isinstance(req.prompt, str) else str(req.prompt),
            "negative_prompt": scrub(req.negative_prompt),
            "resolution": req.effective_resolution,
            "duration": req.effective_duration,
            "generate_audio": int(bool(req.generate_audio)),
            "model": req.model,
            "request": scrub.json(req.describe()),
            "payload": scrub.json(prepared.payload),
            "request_hash": prepared.hash,
            "submitted_at": stamp,
            "updated_at": stamp,
            "url_expired": 0,
            "download_attempts": 0,
            "group_id": group_id,
            "variant": scrub.json(variant),
            "author": author,
            # The kernel that sends the create follows the task: nobody else polls it.
            "lease_owner": self.owner,
            "lease_until": self._lease_until(),
            "credits_estimate": reservation.estimate if reservation is not None else None,
        }

        def work(conn: Connection) -> None:
            if reservation is not None:  # check and reserve in this one transaction
                reserve(conn, author, reservation)
            try:
                with conn.begin_nested():  # PostgreSQL: keep the transaction usable
                    conn.execute(tasks.insert().values(row))
            except IntegrityError as exc:
                raise ValueError(f"local id {local_id!r} is already in the history") from exc

        self._run(work, write=True)
        return local_id

    def mark_created(self, local_id: str, task: Task) -> None:
        """The create answered: the task exists at FoxAPI under `task.id`."""
        self._apply(local_id, task)

    def update(self, local_id: str, task: Task) -> bool:
        """Fold in a newer view of the task; True if its status changed.

        A final record keeps its status (a late or out-of-order answer never revives it), and a
        live one never moves backwards (processing is not followed by pending)."""
        return self._apply(local_id, task)

    def _apply(self, local_id: str, task: Task) -> bool:
        scrub = self._scrub

        def work(conn: Connection) -> bool:
            old = self._row(conn, local_id)
            reported = server_status(task.status, task.progress)
            status = next_status(old["status"], reported)
            if old["status"] in TERMINAL and reported != old["status"]:
                return False  # a stale answer about a finished task: ignore it whole
            if old["task_id"] and task.id and task.id != old["task_id"]:
                # Never fold one task's news (its video!) into another task's record.
                raise HistoryError(
                    f"The history's task {local_id} is FoxAPI task {old['task_id']}, not "
                    f"{task.id}: the answer was not recorded against it."
                )
            stamp = iso(now())
            changes: dict[str, Any] = {
                "task_id": old["task_id"] or task.id,
                "status": status,
                "progress": 100 if status == "completed" else max(old["progress"], task.progress),
                "updated_at": stamp,
                "raw": scrub.json(task.raw) if task.raw else old["raw"],
            }
            if task.created is not None and old["created_at"] is None:
                changes["created_at"] = iso(task.created)
            if task.estimated_time is not None:
                changes["estimated_time"] = task.estimated_time
            if task.credits_reserved is not None:
                changes["credits_reserved"] = task.credits_reserved
            if task.video_url and task.video_url != old["video_url"]:
                # A fresh URL (e.g. re-signed) revives a download that had found the old dead.
                changes.update(video_url=scrub(task.video_url), url_expired=0, download_error=None)
            if status == "processing" and old["started_at"] is None:
                changes["started_at"] = stamp
            if status in TERMINAL and old["finished_at"] is None:
                changes["finished_at"] = stamp
            if task.error is not None and status in ("failed", "cancelled"):
                changes["error_code"] = task.error.code
                changes["error_type"] = task.error.type
                changes["error_message"] = scrub(task.error.message)
            self._set(conn, local_id, changes)
            return bool(status != old["status"])

        return self._run(work, write=True)

    def mark_unknown(self, local_id: str, reason: str, *, task_id: str | None = None) -> None:
        """The create was sent but its answer was lost or unreadable: the task may exist and be
        billed. A `task_id` read from that answer is kept, so the task can still be followed."""

        def work(conn: Connection) -> None:
            old = self._row(conn, local_id)
            if old["status"] != "submitting":
                return  # the answer did arrive (a record past submitting knows more)
            changes = {
                "status": "unknown",
                "unknown_reason": self._scrub(reason),
                "updated_at": iso(now()),
            }
            if task_id and not old["task_id"]:
                changes["task_id"] = task_id
            self._set(conn, local_id, changes)

        self._run(work, write=True)

    def mark_rejected(self, local_id: str, error: BaseException) -> None:
        """FoxAPI refused the create (4xx): no task exists. Keeps the error's code and text."""
        code = getattr(error, "code", None) or getattr(error, "error_type", None)
        status_code = getattr(error, "status_code", None)
        if code is None and status_code:
            code = f"http_{status_code}"
        stamp = iso(now())
        changes = {
            "status": "rejected",
            "error_code": str(code) if code is not None else None,
            "error_type": type(error).__name__,
            "error_message": self._scrub(str(error)),
            "updated_at": stamp,
        }

        def work(conn: Connection) -> None:
            old = self._row(conn, local_id)
            if old["status"] not in ("submitting", "unknown") or old["task_id"]:
                return  # a task exists (or ended): a create refusal cannot be about it
            self._set(conn, local_id, changes | {"finished_at": stamp})

        self._run(work, write=True)

    def set_video(
        self, local_id: str, path: str | os.PathLike[str], *, kept: Kept | None = None
    ) -> None:
        """The video is saved at `path` (kept relative to the history's folder when inside it,
        so the folder can be moved) and put into the video store, unless `kept` says how that
        went already (the runner puts it off the event loop). A store that is away leaves the
        video here, the record saying why, until `upload_pending()`."""
        from sqlalchemy import and_, select

        from ._schema import tasks

        stored = self._store_path(Path(path))
        if kept is None and Path(path).is_file():
            kept = self.keep_video(path)
        try:
            sha256: str | None = kept.sha256 if kept is not None else file_sha256(Path(path))
        except OSError:
            sha256 = None  # a path that is not (yet) a readable file: kept as given

        def work(conn: Connection) -> None:
            own = self._row(conn, local_id)
            # A file is one task's video: never attach it to a record of another task (two
            # simulators once handed out one id, and a record showed the other's video).
            others = select(tasks.c.local_id, tasks.c.task_id, tasks.c.video_url).where(
                and_(tasks.c.video_path == stored, tasks.c.local_id != local_id)
            )
            for other in conn.execute(others):
                if other.task_id != own["task_id"] or other.video_url != own["video_url"]:
                    raise HistoryError(
                        f"The video file {path} already belongs to the history's task "
                        f"{other.local_id} (FoxAPI task {other.task_id}); it was not attached "
                        f"to task {local_id}."
                    )
            changes = {"video_path": stored, "download_error": None, "url_expired": 0}
            changes |= {"video_sha256": sha256, "updated_at": iso(now())}
            if kept is not None:
                changes["store_error"] = kept.error
                changes["video_stored_at"] = iso(now()) if kept.stored else None
            self._set(conn, local_id, changes)

        self._run(work, write=True)

    def set_download_error(self, local_id: str, message: str, *, expired: bool = False) -> None:
        """A download failed; `expired` means the URL is dead and retrying is pointless."""

        def work(conn: Connection) -> None:
            old = self._row(conn, local_id)
            changes = {
                "download_error": self._scrub(message),
                "url_expired": int(expired),
                "download_attempts": old["download_attempts"] + 1,
                "updated_at": iso(now()),
            }
            self._set(conn, local_id, changes)

        self._run(work, write=True)

    @staticmethod
    def _row(conn: Connection, local_id: str) -> RowMapping:
        """The row to change, locked against other writers until the transaction ends."""
        from sqlalchemy import select

        from ._schema import tasks

        query = select(tasks).where(tasks.c.local_id == local_id).with_for_update()
        row = conn.execute(query).mappings().first()
        if row is None:
            raise KeyError(f"no task {local_id!r} in the history")
        return row

    @staticmethod
    def _set(conn: Connection, local_id: str, changes: dict[str, Any]) -> None:
        from ._schema import tasks

        conn.execute(tasks.update().where(tasks.c.local_id == local_id).values(changes))

    def _store_path(self, path: Path) -> str:
        path = path.expanduser().absolute()
        try:
            return path.relative_to(self.home).as_posix()
        except ValueError:
            return str(path)

    def _load_path(self, stored: str | None) -> Path | None:
        if not stored:
            return None
        path = Path(stored)
        return path if path.is_absolute() else self.home / path
