"""Choosing a history (path, sqlite:///, postgresql://, KLING_STUDIO_HISTORY), its schema and
migrations on both databases, and every way a PostgreSQL URL can be wrong: one clear
HistoryError naming the host and the database, never the password."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kling_studio.errors import HistoryError
from kling_studio.history._schema import HEAD
from kling_studio.history._store import SCHEMA_VERSION, History

from ..postgres_server import PostgresServer
from .test_store import api, prepared

# The tasks table exactly as the first kling-studio wrote it (SQLite user_version 1).
FIRST_SCHEMA = """
CREATE TABLE tasks (
    local_id TEXT PRIMARY KEY, task_id TEXT, status TEXT NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0, prompt TEXT NOT NULL, negative_prompt TEXT,
    resolution TEXT NOT NULL, duration INTEGER NOT NULL, generate_audio INTEGER NOT NULL,
    model TEXT NOT NULL, request TEXT NOT NULL, payload TEXT NOT NULL,
    request_hash TEXT NOT NULL, submitted_at TEXT NOT NULL, created_at TEXT, started_at TEXT,
    finished_at TEXT, updated_at TEXT NOT NULL, estimated_time REAL, credits_reserved REAL,
    video_url TEXT, video_path TEXT, download_error TEXT,
    url_expired INTEGER NOT NULL DEFAULT 0, download_attempts INTEGER NOT NULL DEFAULT 0,
    error_code TEXT, error_type TEXT, error_message TEXT, unknown_reason TEXT, group_id TEXT,
    variant TEXT, rating INTEGER, winner INTEGER, note TEXT, raw TEXT
);
CREATE INDEX tasks_submitted ON tasks (submitted_at);
CREATE INDEX tasks_task_id ON tasks (task_id);
CREATE INDEX tasks_status ON tasks (status);
CREATE INDEX tasks_hash ON tasks (request_hash, status);
CREATE INDEX tasks_group ON tasks (group_id);
"""


def _server(postgres: object) -> PostgresServer:
    assert isinstance(postgres, PostgresServer)
    return postgres


# --- choosing the history ------------------------------------------------------------------


def test_path_sqlite_url_and_environment_all_name_a_sqlite_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "team" / "history.sqlite3"
    target.parent.mkdir()
    with History(f"sqlite:///{target}") as h:
        local_id = h.journal_submit(prepared("by url"))
        assert h.path == target and not h.shared
    with History(target) as h:
        assert h[local_id].prompt == "by url"
    monkeypatch.setenv("KLING_STUDIO_HISTORY", str(target))
    with History() as h:
        assert h.path == target and h[local_id].prompt == "by url"


def test_the_environment_names_a_postgresql_history(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLING_STUDIO_HISTORY", postgres_url)
    with History(user="ada") as h:
        assert h.shared
        local_id = h.journal_submit(prepared("shared"))
    with History(postgres_url, user="bob") as other:
        record = other[local_id]
        assert record.prompt == "shared" and record.user == "ada"


def test_a_location_that_is_no_url_we_know_is_refused() -> None:
    with pytest.raises(HistoryError, match="neither a path nor") as info:
        History("mysql://root:hunter22@db/kls")
    assert "hunter22" not in str(info.value)
    with pytest.raises(HistoryError, match="names no file"):
        History("sqlite:///:memory:")
    with pytest.raises(HistoryError, match="must name a host and one database"):
        History("postgresql://u:hunter22@db.example.org/")
    with pytest.raises(HistoryError, match="not a valid PostgreSQL URL") as info:
        History("postgresql://u:hunter22@db.example.org:port/kls")
    assert "hunter22" not in str(info.value)


def test_importing_the_package_loads_no_database_library() -> None:
    import subprocess

    code = (
        "import sys, kling_studio, kling_studio.history; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'psycopg') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- schema and migrations ------------------------------------------------------------------


def test_a_first_version_sqlite_history_is_migrated_and_keeps_its_tasks(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(FIRST_SCHEMA)
        conn.execute(
            "INSERT INTO tasks (local_id, task_id, status, prompt, resolution, duration, "
            "generate_audio, model, request, payload, request_hash, submitted_at, updated_at) "
            "VALUES ('old-1', 't-1', 'completed', 'from before', '720p', 5, 0, 'kling-v3', "
            "'{}', '{}', 'h', '2026-01-01T00:00:00.000000+00:00', "
            "'2026-01-01T00:00:00.000000+00:00')"
        )
        conn.execute("PRAGMA application_id = 1263291975")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    with History(path, user="ada") as h:
        old = h["old-1"]
        assert old.prompt == "from before" and old.user is None
        new = h.journal_submit(prepared("after"))
        assert h[new].user == "ada"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
    conn.close()


def _columns(url: Any) -> dict[str, list[str]]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            table: sorted(c["name"] for c in inspector.get_columns(table))
            + sorted(str(i["name"]) for i in inspector.get_indexes(table))
            for table in sorted(inspector.get_table_names())
        }
    finally:
        engine.dispose()


def test_a_new_history_has_the_schema_the_migrations_make(tmp_path: Path) -> None:
    """A new database is made in one go; it must equal the migrations run one by one."""
    old = tmp_path / "migrated.sqlite3"
    with sqlite3.connect(old) as conn:
        conn.executescript(FIRST_SCHEMA)
        conn.execute("PRAGMA application_id = 1263291975")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    with History(old) as migrated, History(tmp_path / "fresh.sqlite3") as fresh:
        assert _columns(migrated.location.sqlalchemy_url()) == _columns(
            fresh.location.sqlalchemy_url()
        )


def test_a_postgresql_history_from_an_older_revision_is_migrated(
    postgres: object, postgres_url: str
) -> None:
    server = _server(postgres)
    database = urlsplit(postgres_url).path.lstrip("/")
    server.sql(database, FIRST_SCHEMA)
    server.sql(database, "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
    server.sql(database, "INSERT INTO alembic_version VALUES ('0001')")
    with History(postgres_url, user="ada") as h:
        assert h[h.journal_submit(prepared())].user == "ada"
    assert server.sql(database, "SELECT version_num FROM alembic_version") == [(HEAD,)]


def test_a_newer_postgresql_schema_is_refused_with_nothing_changed(
    postgres: object, postgres_url: str
) -> None:
    server = _server(postgres)
    database = urlsplit(postgres_url).path.lstrip("/")
    with History(postgres_url) as h:
        local_id = h.journal_submit(prepared("kept"))
    server.sql(database, "UPDATE alembic_version SET version_num = '9999'")
    before = server.sql(database, "SELECT * FROM tasks")
    with pytest.raises(HistoryError, match="newer kling-studio") as info:
        History(postgres_url)
    assert "untouched" in str(info.value)
    assert server.sql(database, "SELECT * FROM tasks") == before
    assert server.sql(database, "SELECT version_num FROM alembic_version") == [("9999",)]
    assert before and before[0][0] == local_id


def test_many_processes_opening_a_new_postgresql_database_migrate_it_once(
    postgres_url: str,
) -> None:
    import subprocess

    code = (
        "import sys; from kling_studio.history._store import History; "
        "h = History(sys.argv[1]); print(h.count())"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, postgres_url], stdout=subprocess.PIPE)
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4
    assert [o.strip() for o in outs] == [b"0"] * 4


# --- bad input: one clear error, never the password -----------------------------------------

PASSWORD = "s3cret-Pa55word"


def _refused(url: str, *must: str) -> str:
    with pytest.raises(HistoryError) as info:
        History(url, busy_timeout=2)
    text = str(info.value)
    assert PASSWORD not in text and PASSWORD not in repr(info.value)
    chained = info.value.__cause__ or info.value.__context__
    assert chained is None or PASSWORD not in str(chained)
    for word in must:
        assert word in text, text
    return text


def test_a_wrong_password_names_host_and_database_not_the_password(postgres: object) -> None:
    server = _server(postgres)
    url = server.url("postgres", password=PASSWORD)
    text = _refused(url, server.host, "postgres", "password")
    assert "Check the user and password" in text


def test_a_missing_database_says_to_create_it(postgres: object) -> None:
    server = _server(postgres)
    url = server.url("no_such_db", password=server.password)
    _refused(url, server.host, "no_such_db", "does not exist", "createdb")


def test_an_unreachable_server_says_where_it_looked(postgres: object) -> None:
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://kls:{PASSWORD}@127.0.0.1:{port}/classroom"
    _refused(url, "127.0.0.1", "classroom", f"127.0.0.1:{port}", "Check that the server")


def test_a_missing_driver_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError
    _refused(
        f"postgresql://kls:{PASSWORD}@db.example.org:5432/classroom",
        "db.example.org",
        "classroom",
        "psycopg[binary]",
    )


def test_the_password_is_in_no_repr_and_never_stored(postgres: object, postgres_url: str) -> None:
    server = _server(postgres)
    with History(postgres_url) as h:
        assert server.password not in repr(h) and server.password not in repr(h.location)
        local_id = h.journal_submit(prepared(f"a prompt that quotes {server.password}"))
        h.mark_rejected(local_id, RuntimeError(f"echo {server.password}"))
        h.update(h.journal_submit(prepared()), api("t-1", "processing", progress=3))
        rows = repr([r.to_row() for r in h.records()])
        assert server.password not in rows
    database = urlsplit(postgres_url).path.lstrip("/")
    dump = repr(server.sql(database, "SELECT * FROM tasks"))
    assert server.password not in dump and "<password>" in dump
