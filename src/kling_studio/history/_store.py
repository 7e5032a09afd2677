"""The history: a SQLite journal of every task, so that a kernel restart forgets nothing.

One file, `<home>/history.sqlite3` (home: `KLING_STUDIO_HOME`, else the platform's user data
folder), in WAL mode so that readers never wait for a writer. Videos live in `<home>/videos`.

- Every write is one short `BEGIN IMMEDIATE` transaction, so several threads (one connection
  behind a lock) and several processes (SQLite's file locks) can journal into the same file.
- Times are stored as ISO 8601 UTC text with microseconds (`2026-05-09T07:35:25.123456+00:00`):
  readable with any SQLite tool, and fixed-width, so text order is time order.
- JSON columns (`request`, `payload`, `variant`, `raw`) are compact JSON text.
- The API key is never stored: nothing handed to the history contains it, and as a second guard
  every text written is scrubbed of the key found in `FOXAPI_API_KEY`.
- A locked, corrupt or foreign file raises `HistoryError`; the file is never recreated or
  overwritten. A write that may succeed later (the lock is busy, the disk is full) raises its
  subclass `HistoryBusy`, so a caller holding a paid task's outcome knows to keep it and retry.
- A file deleted or replaced while open is noticed before every write (`HistoryGone`): SQLite
  would go on writing into the unlinked file, and every later write would be lost without a
  word. It is not recreated in place: the open connection's `-wal`/`-shm` files still belong to
  the old file, and a new database beside them would be corrupted.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from .. import config
from .._secrets import scrub
from ..errors import HistoryError
from ..models import PreparedRequest, Task
from ._records import (
    ACTIVE,
    TERMINAL,
    TaskRecord,
    check_statuses,
    frame,
    next_status,
    server_status,
    write_frame,
)
from ._videos import VideoCache

if TYPE_CHECKING:
    import pandas as pd

DB_NAME: Final = "history.sqlite3"
VIDEOS_DIR: Final = "videos"
APP_ID: Final = 0x4B4C4E47  # "KLNG" in PRAGMA application_id: marks the file as ours
SCHEMA_VERSION: Final = 1

# MIGRATIONS[n] takes a database from user_version n to n + 1. Append, never edit.
MIGRATIONS: Final[tuple[str, ...]] = (
    """
    CREATE TABLE tasks (
        local_id          TEXT PRIMARY KEY,
        task_id           TEXT,
        status            TEXT NOT NULL,
        progress          INTEGER NOT NULL DEFAULT 0,
        prompt            TEXT NOT NULL,
        negative_prompt   TEXT,
        resolution        TEXT NOT NULL,
        duration          INTEGER NOT NULL,
        generate_audio    INTEGER NOT NULL,
        model             TEXT NOT NULL,
        request           TEXT NOT NULL,
        payload           TEXT NOT NULL,
        request_hash      TEXT NOT NULL,
        submitted_at      TEXT NOT NULL,
        created_at        TEXT,
        started_at        TEXT,
        finished_at       TEXT,
        updated_at        TEXT NOT NULL,
        estimated_time    REAL,
        credits_reserved  REAL,
        video_url         TEXT,
        video_path        TEXT,
        download_error    TEXT,
        url_expired       INTEGER NOT NULL DEFAULT 0,
        download_attempts INTEGER NOT NULL DEFAULT 0,
        error_code        TEXT,
        error_type        TEXT,
        error_message     TEXT,
        unknown_reason    TEXT,
        group_id          TEXT,
        variant           TEXT,
        rating            INTEGER,
        winner            INTEGER,
        note              TEXT,
        raw               TEXT
    );
    CREATE INDEX tasks_submitted ON tasks (submitted_at);
    CREATE INDEX tasks_task_id ON tasks (task_id);
    CREATE INDEX tasks_status ON tasks (status);
    CREATE INDEX tasks_hash ON tasks (request_hash, status);
    CREATE INDEX tasks_group ON tasks (group_id);
    """,
)

_T = TypeVar("_T")


class HistoryBusy(HistoryError):
    """A write could not be made now (another program holds the write lock, or the disk is
    full); the same write may succeed later. Nothing was written."""


class HistoryGone(HistoryError):
    """The history file was deleted or replaced while this program had it open: nothing more
    can be saved into it."""


def now() -> datetime:
    return datetime.now(tz=UTC)


def iso(value: datetime | None) -> str | None:
    """UTC ISO text with microseconds; naive datetimes are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _since(value: datetime | timedelta | str) -> str:
    """A `since` filter as stored text. Naive datetimes and strings are local time."""
    if isinstance(value, timedelta):
        return iso(now() - value) or ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"since: not an ISO date or time: {value!r}") from exc
    if value.tzinfo is None:
        value = value.astimezone()  # the user's wall clock
    return iso(value) or ""


def _scrub(text: str | None) -> str | None:
    """Second guard: the key never reaches the file, even inside an error message."""
    return scrub(text)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return _scrub(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


def _file_identity(path: Path) -> tuple[int, int] | None:
    """Which file `path` names now (device and inode), or None when there is none."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def _contains(haystack: str | None, needle: str) -> bool:
    # SQLite's LIKE and lower() only fold ASCII; prompts are often Chinese or accented.
    return haystack is not None and needle in haystack.casefold()


class History:
    """The task journal and its reader. Usable from several threads and several processes.

    `path` is the database file, or an existing folder to hold `history.sqlite3`; None means
    `config.default_home() / "history.sqlite3"`. `busy_timeout` is how long a write waits for
    another process's lock before giving up with a `HistoryError`.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, busy_timeout: float = 10.0):
        target = Path(path).expanduser() if path is not None else config.default_home() / DB_NAME
        if target.is_dir():
            target = target / DB_NAME
        self.path: Path = target.absolute()
        self.home: Path = self.path.parent
        self.videos_dir: Path = self.home / VIDEOS_DIR
        self.busy_timeout = float(busy_timeout)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._inherited: list[sqlite3.Connection] = []
        self._identity: tuple[int, int] | None = None  # the open file's (device, inode)
        self._pid = os.getpid()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"cannot create the history folder {self.home}: {exc}") from exc
        self._connect()
        try:  # only once the file is known to be ours
            self.videos_dir.mkdir(exist_ok=True)
        except OSError as exc:
            self.close()
            raise HistoryError(f"cannot create the video folder {self.videos_dir}: {exc}") from exc

    # --- connection and schema ---------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # guarded by self._lock
            )
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.create_function("kls_contains", 2, _contains, deterministic=True)
            self._check_identity(conn, existed)
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a journalled paid task survives power loss
            self._migrate(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise self._error(exc) from exc
        except HistoryError:
            conn.close()
            raise
        self._conn = conn
        self._pid = os.getpid()
        self._identity = _file_identity(self.path)
        return conn

    def _check_identity(self, conn: sqlite3.Connection, existed: bool) -> None:
        """Refuse, untouched, a file that is not SQLite or is another program's database."""
        # The first read parses the header: random bytes fail here with "not a database".
        # One read transaction, so all three come from the same snapshot: another process may
        # be creating this very file, and its schema and id arrive in one commit.
        conn.execute("BEGIN")
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.execute("COMMIT")
        if app_id == APP_ID:
            if version > SCHEMA_VERSION:
                raise HistoryError(
                    f"The history {self.path} was written by a newer kling-studio (schema "
                    f"{version}, this one knows {SCHEMA_VERSION}). Upgrade kling-studio; the "
                    "file was left untouched."
                )
            return
        if existed and (app_id != 0 or tables):
            raise HistoryError(
                f"{self.path} is a SQLite database but not a kling-studio history; it was left "
                "untouched. Pass another path to History(), or move that file away."
            )

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return  # the common case: no write lock taken at open
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process?
            for step in MIGRATIONS[version:SCHEMA_VERSION]:
                for statement in filter(str.strip, step.split(";")):
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id={APP_ID}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _error(self, exc: sqlite3.Error) -> HistoryError:
        text = str(exc)
        low = text.lower()
        if "locked" in low or "busy" in low:
            return HistoryBusy(
                f"The history {self.path} is locked: another process (another kernel, or a tool "
                f"with the file open) has held its write lock for more than "
                f"{self.busy_timeout:g} s. Nothing was written. Finish or close that process, "
                "then retry; or use another history with History(path=...)."
            )
        if "disk is full" in low or "disk i/o" in low:
            return HistoryBusy(
                f"The history {self.path} could not be written ({text}). Nothing was written; "
                "free some space and the write can be retried."
            )
        if "not a database" in low or "malformed" in low or "corrupt" in low:
            return HistoryError(
                f"{self.path} is not a valid kling-studio history (SQLite says: {text}). The file "
                "was left untouched. Move it away to start a new history, or restore a backup."
            )
        return HistoryError(f"The history {self.path} could not be used: {text}")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise HistoryError(f"The history {self.path} is closed")
        if self._pid != os.getpid():
            # A forked child must not use (nor close) the parent's connection: keep it unused.
            self._inherited.append(self._conn)
            return self._connect()
        return self._conn

    def _check_still_there(self) -> None:
        """Raise HistoryGone when the file at `self.path` is no longer the one open here."""
        if _file_identity(self.path) != self._identity:
            raise HistoryGone(
                f"The history file {self.path} was deleted or replaced while this program had "
                "it open, so nothing more can be saved in it (SQLite would keep writing into "
                "the deleted file). Tasks in flight are still followed in this session; restart "
                "it to open a new history (`kling-studio resume` finds tasks by id again)."
            )

    def _run(self, work: Callable[[sqlite3.Connection], _T], *, write: bool) -> _T:
        """Run `work` in one transaction (IMMEDIATE for writes: the lock is taken up front, so
        a read-modify-write never races another process)."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
            if write:
                try:  # a stat per write: cheap next to the fsync of the commit
                    self._check_still_there()
                except HistoryGone:
                    conn.execute("ROLLBACK")
                    raise
            try:
                result = work(conn)
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from exc
                raise
            return result

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

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
        return f"History({str(self.path)!r})"

    @property
    def cache(self) -> VideoCache:
        """The video cache beside this history."""
        return VideoCache(self.videos_dir)

    # --- the journal ---------------------------------------------------------------------------

    def journal_submit(
        self,
        prepared: PreparedRequest,
        *,
        local_id: str | None = None,
        group_id: str | None = None,
        variant: dict[str, Any] | None = None,
    ) -> str:
        """Record a task before its create is sent (status `submitting`); returns its local id."""
        local_id = local_id or uuid.uuid4().hex
        req = prepared.request
        stamp = iso(now())
        row = {
            "local_id": local_id,
            "status": "submitting",
            "prompt": _scrub(req.prompt) if isinstance(req.prompt, str) else str(req.prompt),
            "negative_prompt": _scrub(req.negative_prompt),
            "resolution": req.effective_resolution,
            "duration": req.effective_duration,
            "generate_audio": int(bool(req.generate_audio)),
            "model": req.model,
            "request": _json(req.describe()),
            "payload": _json(prepared.payload),
            "request_hash": prepared.hash,
            "submitted_at": stamp,
            "updated_at": stamp,
            "group_id": group_id,
            "variant": _json(variant),
        }
        names = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)

        def work(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(f"INSERT INTO tasks ({names}) VALUES ({marks})", row)
            except sqlite3.IntegrityError as exc:
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
        def work(conn: sqlite3.Connection) -> bool:
            old = self._row(conn, local_id)
            reported = server_status(task.status, task.progress)
            status = next_status(old["status"], reported)
            if old["status"] in TERMINAL and reported != old["status"]:
                return False  # a stale answer about a finished task: ignore it whole
            stamp = iso(now())
            changes: dict[str, Any] = {
                "task_id": old["task_id"] or task.id,
                "status": status,
                "progress": 100 if status == "completed" else max(old["progress"], task.progress),
                "updated_at": stamp,
                "raw": _json(task.raw) if task.raw else old["raw"],
            }
            if task.created is not None and old["created_at"] is None:
                changes["created_at"] = iso(task.created)
            if task.estimated_time is not None:
                changes["estimated_time"] = task.estimated_time
            if task.credits_reserved is not None:
                changes["credits_reserved"] = task.credits_reserved
            if task.video_url and task.video_url != old["video_url"]:
                # A fresh URL (e.g. re-signed) revives a download that had found the old dead.
                changes.update(video_url=_scrub(task.video_url), url_expired=0, download_error=None)
            if status == "processing" and old["started_at"] is None:
                changes["started_at"] = stamp
            if status in TERMINAL and old["finished_at"] is None:
                changes["finished_at"] = stamp
            if task.error is not None and status in ("failed", "cancelled"):
                changes["error_code"] = task.error.code
                changes["error_type"] = task.error.type
                changes["error_message"] = _scrub(task.error.message)
            self._set(conn, local_id, changes)
            return bool(status != old["status"])

        return self._run(work, write=True)

    def mark_unknown(self, local_id: str, reason: str, *, task_id: str | None = None) -> None:
        """The create was sent but its answer was lost or unreadable: the task may exist and be
        billed. A `task_id` read from that answer is kept, so the task can still be followed."""

        def work(conn: sqlite3.Connection) -> None:
            old = self._row(conn, local_id)
            if old["status"] != "submitting":
                return  # the answer did arrive (a record past submitting knows more)
            changes = {
                "status": "unknown",
                "unknown_reason": _scrub(reason),
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
            "error_message": _scrub(str(error)),
            "updated_at": stamp,
        }

        def work(conn: sqlite3.Connection) -> None:
            old = self._row(conn, local_id)
            if old["status"] not in ("submitting", "unknown") or old["task_id"]:
                return  # a task exists (or ended): a create refusal cannot be about it
            self._set(conn, local_id, changes | {"finished_at": stamp})

        self._run(work, write=True)

    def set_video(self, local_id: str, path: str | os.PathLike[str]) -> None:
        """The video is saved at `path` (kept relative to the history's folder when inside it,
        so the folder can be moved)."""
        stored = self._store_path(Path(path))
        self._change(
            local_id,
            {"video_path": stored, "download_error": None, "url_expired": 0},
        )

    def set_download_error(self, local_id: str, message: str, *, expired: bool = False) -> None:
        """A download failed; `expired` means the URL is dead and retrying is pointless."""

        def work(conn: sqlite3.Connection) -> None:
            old = self._row(conn, local_id)
            self._set(
                conn,
                local_id,
                {
                    "download_error": _scrub(message),
                    "url_expired": int(expired),
                    "download_attempts": old["download_attempts"] + 1,
                    "updated_at": iso(now()),
                },
            )

        self._run(work, write=True)

    def set_rating(
        self,
        local_id: str,
        *,
        rating: int | None = None,
        winner: bool | None = None,
        note: str | None = None,
    ) -> None:
        """Judge a result (A/B comparisons). Only the arguments given are changed."""
        changes: dict[str, Any] = {}
        if rating is not None:
            if isinstance(rating, bool) or not isinstance(rating, int):
                raise ValueError(f"rating must be an integer; got {rating!r}")
            changes["rating"] = rating
        if winner is not None:
            changes["winner"] = int(bool(winner))
        if note is not None:
            changes["note"] = _scrub(note)
        if changes:
            self._change(local_id, changes)

    def clear_rating(self, local_id: str) -> None:
        self._change(local_id, {"rating": None, "winner": None, "note": None})

    def _change(self, local_id: str, changes: dict[str, Any]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            self._row(conn, local_id)  # raises KeyError when unknown
            self._set(conn, local_id, changes | {"updated_at": iso(now())})

        self._run(work, write=True)

    @staticmethod
    def _row(conn: sqlite3.Connection, local_id: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM tasks WHERE local_id = ?", (local_id,)).fetchone()
        if row is None:
            raise KeyError(f"no task {local_id!r} in the history")
        return row  # type: ignore[no-any-return]

    @staticmethod
    def _set(conn: sqlite3.Connection, local_id: str, changes: dict[str, Any]) -> None:
        assignments = ", ".join(f"{name} = :{name}" for name in changes)  # names are ours
        conn.execute(
            f"UPDATE tasks SET {assignments} WHERE local_id = :local_id",
            changes | {"local_id": local_id},
        )

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

    # --- reading -------------------------------------------------------------------------------

    def get(self, local_id: str) -> TaskRecord | None:
        found = self._select("WHERE local_id = ?", (local_id,))
        return found[0] if found else None

    def __getitem__(self, local_id: str) -> TaskRecord:
        record = self.get(local_id)
        if record is None:
            raise KeyError(f"no task {local_id!r} in the history")
        return record

    def by_task_id(self, task_id: str) -> TaskRecord | None:
        found = self._select("WHERE task_id = ? ORDER BY submitted_at DESC LIMIT 1", (task_id,))
        return found[0] if found else None

    def find_completed_by_hash(self, request_hash: str) -> TaskRecord | None:
        """The newest completed task that sent exactly this request (to reuse, not re-pay)."""
        found = self._select(
            "WHERE request_hash = ? AND status = 'completed' "
            "ORDER BY finished_at DESC, submitted_at DESC LIMIT 1",
            (request_hash,),
        )
        return found[0] if found else None

    def unfinished(self) -> list[TaskRecord]:
        """Live records to resume (submitting/pending/processing) and `unknown` ones, oldest
        first."""
        statuses = sorted(ACTIVE | {"unknown"})
        marks = ", ".join("?" * len(statuses))
        return self._select(f"WHERE status IN ({marks}) ORDER BY submitted_at", statuses)

    def missing_videos(self) -> list[TaskRecord]:
        """Completed tasks with a result URL whose video is not saved (and not known dead)."""
        return self._select(
            "WHERE status = 'completed' AND video_url IS NOT NULL AND video_path IS NULL "
            "AND url_expired = 0 ORDER BY finished_at"
        )

    def records(
        self,
        *,
        status: str | list[str] | tuple[str, ...] | None = None,
        since: datetime | timedelta | str | None = None,
        text: str | None = None,
        group_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[TaskRecord]:
        """Records, newest first. `since`: submitted at or after (a datetime, ISO text, or a
        timedelta back from now; naive times are local). `text`: case-insensitive, in the prompt.
        """
        where, params = self._filters(status, since, text, group_id)
        tail = " ORDER BY submitted_at DESC, rowid DESC"
        if limit is not None or offset:
            tail += " LIMIT ? OFFSET ?"
            params += [-1 if limit is None else int(limit), int(offset)]
        return self._select(where + tail, params)

    def count(
        self,
        *,
        status: str | list[str] | tuple[str, ...] | None = None,
        since: datetime | timedelta | str | None = None,
        text: str | None = None,
        group_id: str | None = None,
    ) -> int:
        where, params = self._filters(status, since, text, group_id)

        def work(conn: sqlite3.Connection) -> int:
            row = conn.execute(f"SELECT count(*) FROM tasks {where}", params).fetchone()
            return int(row[0])

        return self._run(work, write=False)

    def df(
        self,
        *,
        status: str | list[str] | tuple[str, ...] | None = None,
        since: datetime | timedelta | str | None = None,
        text: str | None = None,
        group_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        """The history as a typed DataFrame, newest first, with `local_id` as a column and a
        plain RangeIndex (columns and dtypes: `records.FRAME_DTYPES`)."""
        return frame(
            self.records(
                status=status,
                since=since,
                text=text,
                group_id=group_id,
                limit=limit,
                offset=offset,
            )
        )

    def export(
        self, path: str | os.PathLike[str], *, format: str | None = None, **filters: Any
    ) -> Path:
        """Write `df(**filters)` to CSV, Parquet or JSON (records, ISO dates); `format` defaults
        to the extension. Written to a temporary file and renamed, so a failed export leaves
        any previous file whole."""
        target = Path(path).expanduser()
        return write_frame(self.df(**filters), target, format)

    @staticmethod
    def _filters(
        status: str | Sequence[str] | None,
        since: datetime | timedelta | str | None,
        text: str | None,
        group_id: str | None,
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if status is not None:
            wanted = check_statuses(status if isinstance(status, str) else tuple(status))
            clauses.append(f"status IN ({', '.join('?' * len(wanted))})")
            params += wanted
        if since is not None:
            clauses.append("submitted_at >= ?")
            params.append(_since(since))
        if text:
            clauses.append("kls_contains(prompt, ?)")
            params.append(text.casefold())
        if group_id is not None:
            clauses.append("group_id = ?")
            params.append(group_id)
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params

    def _select(self, tail: str, params: Sequence[Any] = ()) -> list[TaskRecord]:
        def work(conn: sqlite3.Connection) -> list[TaskRecord]:
            return [self._record(r) for r in conn.execute(f"SELECT * FROM tasks {tail}", params)]

        return self._run(work, write=False)

    def _record(self, row: sqlite3.Row) -> TaskRecord:
        def loads(name: str) -> Any:
            return json.loads(row[name]) if row[name] else None

        winner = row["winner"]
        return TaskRecord(
            local_id=row["local_id"],
            task_id=row["task_id"],
            status=row["status"],
            progress=row["progress"],
            prompt=row["prompt"],
            negative_prompt=row["negative_prompt"],
            resolution=row["resolution"],
            duration=row["duration"],
            generate_audio=bool(row["generate_audio"]),
            model=row["model"],
            request=loads("request") or {},
            payload=loads("payload") or {},
            request_hash=row["request_hash"],
            submitted_at=_parse_time(row["submitted_at"]) or now(),
            created_at=_parse_time(row["created_at"]),
            started_at=_parse_time(row["started_at"]),
            finished_at=_parse_time(row["finished_at"]),
            updated_at=_parse_time(row["updated_at"]) or now(),
            estimated_time=row["estimated_time"],
            credits_reserved=row["credits_reserved"],
            video_url=row["video_url"],
            video_path=self._load_path(row["video_path"]),
            download_error=row["download_error"],
            url_expired=bool(row["url_expired"]),
            download_attempts=row["download_attempts"],
            error_code=row["error_code"],
            error_type=row["error_type"],
            error_message=row["error_message"],
            unknown_reason=row["unknown_reason"],
            group_id=row["group_id"],
            variant=loads("variant"),
            rating=row["rating"],
            winner=None if winner is None else bool(winner),
            note=row["note"],
            raw=loads("raw"),
        )

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[TaskRecord]:
        return iter(self.records())
