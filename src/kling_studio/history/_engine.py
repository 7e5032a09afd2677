"""Connecting to a history: the SQLAlchemy engine for SQLite or PostgreSQL, the check that the
database is ours, the migrations run on connect, and every driver error as one `HistoryError`.

SQLite: one file in WAL mode (readers never wait for a writer); every write transaction starts
with `BEGIN IMMEDIATE`, so a read-modify-write never races another process. A file that is not
SQLite, another program's database or a newer schema is refused untouched.

PostgreSQL (psycopg 3): a small pool with pre-ping (a server restart costs one reconnect, not
an error); migrations run under an advisory lock, so many kernels opening a new database at
once migrate it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..errors import HistoryError
from ._faults import HistoryBusy, HistoryUnreachable
from ._schema import APP_ID, HEAD, REVISIONS, SCHEMA_VERSION
from ._url import Location

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

MIGRATION_LOCK: Final = 0x4B4C4E47  # pg_advisory_xact_lock key held while migrating


def contains(haystack: str | None, needle: str) -> bool:
    # SQLite's LIKE and lower() only fold ASCII; prompts are often Chinese or accented.
    return haystack is not None and needle in haystack.casefold()


def create_engine(location: Location, busy_timeout: float) -> Engine:
    import sqlalchemy as sa
    from sqlalchemy import event

    url: Any = location.sqlalchemy_url()
    if location.kind == "sqlite":
        engine = sa.create_engine(
            url,
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
            poolclass=sa.pool.QueuePool,
            pool_size=1,
            max_overflow=4,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN/COMMIT ourselves (below)
            dbapi_conn.create_function("kls_contains", 2, contains, deterministic=True)
            dbapi_conn.execute("PRAGMA synchronous=FULL")  # a journalled paid task survives

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("kls_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    timeout = max(1, round(busy_timeout))
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        pool_size=2,
        max_overflow=4,
        connect_args={
            "connect_timeout": timeout,
            "application_name": "kling-studio",
            # A write waits this long for another kernel's row lock, as SQLite's busy timeout.
            "options": f"-c lock_timeout={int(busy_timeout * 1000)}",
            **location.connect_secrets(),  # sslpassword, passfile: kept out of the URL's text
        },
    )


# --- identity and migrations --------------------------------------------------------------


def check_sqlite_identity(conn: Connection, location: Location, existed: bool) -> None:
    """Refuse, untouched, a file that is not SQLite, another program's database, or newer."""
    # One read transaction, so all three come from the same snapshot: another process may be
    # creating this very file, and its schema and id arrive in one commit. The first read
    # parses the header: random bytes fail here with "not a database".
    with conn.begin():
        app_id = conn.exec_driver_sql("PRAGMA application_id").scalar_one()
        version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
        tables = conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one()
    if app_id == APP_ID:
        if version > SCHEMA_VERSION:
            raise _newer(location, str(version))
        return
    if existed and (app_id != 0 or tables):
        raise HistoryError(
            f"{location.display} is a SQLite database but not a kling-studio history; it was "
            "left untouched. Pass another path to History(), or move that file away."
        )


def _newer(location: Location, found: str) -> HistoryError:
    return HistoryError(
        f"The history {location.display} was written by a newer kling-studio (schema {found}, "
        f"this one knows up to {SCHEMA_VERSION}). Upgrade kling-studio; the history was left "
        "untouched."
    )


def _current_revision(conn: Connection) -> str | None:
    from sqlalchemy import inspect

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def migrate(engine: Engine, location: Location, user: str | None = None) -> None:
    """Bring the schema to HEAD with Alembic, once, even when many processes open at once.
    `user`: who opens it (0004 gives an authorless task's old rating to them)."""
    with engine.connect() as conn:
        if location.kind == "sqlite":
            with conn.begin():
                version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
            if version >= SCHEMA_VERSION:
                return  # the common case: no write lock taken at open
        else:
            with conn.begin():
                current = _current_revision(conn)
            if current == HEAD:
                return
            if current is not None and current not in REVISIONS:
                raise _newer(location, current)
        with conn.execution_options(kls_write=True).begin():
            if location.kind == "sqlite":
                _migrate_sqlite(conn, location, user)
            else:
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
                current = _current_revision(conn)  # another kernel may have migrated meanwhile
                if current is not None and current not in REVISIONS:
                    raise _newer(location, current)
                if current is None and not _has_tasks(conn):
                    _create_fresh(conn)
                elif current != HEAD:
                    _alembic(conn, "upgrade", HEAD, user)


def _migrate_sqlite(conn: Connection, location: Location, user: str | None) -> None:
    version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
    if version >= SCHEMA_VERSION:
        return  # another process did it while we waited for the lock
    current = _current_revision(conn)
    if current is None and version == 0 and not _has_tasks(conn):
        _create_fresh(conn)
    else:
        if current is None and version >= 1:
            # A history from before Alembic: its tables are revision 0001's, already there.
            _alembic(conn, "stamp", REVISIONS[version - 1])
        _alembic(conn, "upgrade", HEAD, user)
    conn.exec_driver_sql(f"PRAGMA application_id={APP_ID}")
    conn.exec_driver_sql(f"PRAGMA user_version={SCHEMA_VERSION}")


def _has_tasks(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(conn).has_table("tasks"))


def _create_fresh(conn: Connection) -> None:
    """A new, empty database: the newest schema in one go, stamped as Alembic's HEAD (as
    Optuna does). Running the revisions one by one costs ~0.15 s of Alembic loading per new
    history (measured), paid by every test and every fresh kernel; the result is the same
    (tests/history/test_schema.py compares both)."""
    from sqlalchemy import Column, MetaData, String, Table

    from ._schema import metadata

    metadata.create_all(conn)
    version = Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), primary_key=True, nullable=False),
    )
    version.create(conn)
    conn.execute(version.insert().values(version_num=HEAD))


def _alembic(conn: Connection, command_name: str, revision: str, user: str | None = None) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["connection"] = conn
    cfg.attributes["user"] = user
    getattr(command, command_name)(cfg, revision)


# --- errors -------------------------------------------------------------------------------


def history_error(exc: BaseException, location: Location, busy_timeout: float) -> HistoryError:
    """One clear HistoryError for a driver error: where, what happened, what to do. It never
    carries the password nor the SQL (SQLAlchemy's text has both statement and parameters)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    for secret in sorted(location.secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    low = text.lower()
    if location.kind == "sqlite":
        return _sqlite_error(text, low, location, busy_timeout)
    where = (
        f"the PostgreSQL history {location.display} "
        f"(host {location.host}, database {location.database})"
    )
    if "password authentication failed" in low or "no password supplied" in low:
        return HistoryError(
            f"Cannot open {where}: the server refused the user {location.username!r} and its "
            "password. Check the user and password in the URL (or ~/.pgpass)."
        )
    if "does not exist" in low and "database" in low:
        return HistoryError(
            f"Cannot open {where}: the database {location.database!r} does not exist on "
            f"{location.host}. Create it (createdb {location.database}) or fix the URL."
        )
    if "lock timeout" in low or "deadlock" in low or "could not obtain lock" in low:
        return HistoryBusy(
            f"{where[0].upper()}{where[1:]} is busy: another kernel held a lock for more than "
            f"{busy_timeout:g} s. Nothing was written; the write can be retried."
        )
    if _unreachable(exc, low):
        return HistoryUnreachable(
            f"Cannot reach {where}: {_first_line(text)}. Check that the server is running and "
            f"reachable at {location.host}:{location.port}, and the host and port in the URL."
        )
    return HistoryError(f"{where[0].upper()}{where[1:]} could not be used: {_first_line(text)}")


# What libpq and psycopg say when the server cannot be reached or the connection broke.
_UNREACHABLE: Final = (
    "connection refused",
    "could not connect",
    "timeout expired",
    "connection failed",
    "could not translate host name",
    "name or service not known",
    "server closed",
    "connection is closed",
    "connection is lost",
    "connection reset",
    "broken pipe",
    "ssl syscall",
    "eof detected",
    "could not receive data",
    "could not send data",
    "consuming input failed",
    "terminating connection",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
)


def _unreachable(exc: BaseException, low: str) -> bool:
    """A server that cannot be reached now, or a connection that broke: a blip to wait out,
    not a fault of the history. SQLAlchemy flags every error its dialect reads as a lost
    connection (`connection_invalidated`); the words catch the connect-time ones."""
    return bool(getattr(exc, "connection_invalidated", False)) or any(
        word in low for word in _UNREACHABLE
    )


def _sqlite_error(text: str, low: str, location: Location, busy_timeout: float) -> HistoryError:
    path = location.display
    if "locked" in low or "busy" in low:
        return HistoryBusy(
            f"The history {path} is locked: another process (another kernel, or a tool with the "
            f"file open) has held its write lock for more than {busy_timeout:g} s. Nothing was "
            "written. Finish or close that process, then retry; or use another history with "
            "History(path=...)."
        )
    if "disk is full" in low or "disk i/o" in low:
        return HistoryBusy(
            f"The history {path} could not be written ({text}). Nothing was written; free some "
            "space and the write can be retried."
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return HistoryError(
            f"{path} is not a valid kling-studio history (SQLite says: {text}). The file was left "
            "untouched. Move it away to start a new history, or restore a backup."
        )
    return HistoryError(f"The history {path} could not be used: {text}")


def _first_line(text: str) -> str:
    return text.splitlines()[0].rstrip(".") if text else "no details"


def missing_driver(location: Location, exc: ImportError) -> HistoryError:
    return HistoryError(
        f"Cannot open the PostgreSQL history {location.display}: its driver is not installed "
        f"({exc.name or exc}). Install it with: pip install 'psycopg[binary]'."
    )
