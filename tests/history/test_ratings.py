"""Ratings by several people (the `ratings` table, revision 0004): each user writes only their
own judgement, on SQLite and PostgreSQL; many processes rating at once lose nothing; an older
history's per-task ratings move into the table, attributed to their author."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kling_studio.history._schema import HEAD
from kling_studio.history._store import History

from ..postgres_server import PostgresServer
from .test_history_location import FIRST_SCHEMA
from .test_store import prepared


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite3")
    return str(request.getfixturevalue("postgres_url"))


def _judged(history: History, local_id: str) -> dict[str, tuple[Any, ...]]:
    return {j.user: (j.rating, j.winner, j.note) for j in history.judgements([local_id])[local_id]}


def test_two_users_rating_the_same_task_keep_both_judgements(location: str) -> None:
    with History(location, user="ada") as ada, History(location, user="bob") as bob:
        task = ada.journal_submit(prepared())
        ada.set_rating(task, rating=5, winner=True, note="sharp")
        bob.set_rating(task, rating=2, note="blurry")
        ada.set_rating(task, rating=4)  # ada changes her mind: bob's row is untouched
        assert (ada[task].rating, ada[task].winner, ada[task].note) == (4, True, "sharp")
        assert (bob[task].rating, bob[task].winner, bob[task].note) == (2, None, "blurry")
        assert _judged(ada, task) == {"ada": (4, True, "sharp"), "bob": (2, False, "blurry")}
        bob.clear_rating(task)
        assert _judged(ada, task) == {"ada": (4, True, "sharp")}
        assert (bob[task].rating, bob[task].winner, bob[task].note) == (None, None, None)
        ada.set_rating(task, clear_rating=True)  # the rating goes, the mark and note stay
        assert (ada[task].rating, ada[task].winner, ada[task].note) == (None, True, "sharp")
        with pytest.raises(KeyError):
            bob.set_rating("no-such-task", rating=3)


def test_a_comparison_plan_kept_in_the_history_is_read_by_everyone(location: str) -> None:
    with History(location, user="ada") as ada, History(location, user="bob") as bob:
        assert bob.comparison_plan("ab-1") is None and bob.latest_comparison() is None
        ada.save_comparison("ab-1", {"title": "first"})
        ada.save_comparison("ab-2", {"title": "second"})
        ada.save_comparison("ab-1", {"title": "first, renamed"})
        assert bob.comparison_plan("ab-1") == {"title": "first, renamed"}
        assert bob.latest_comparison() == "ab-2"


RATER = textwrap.dedent(
    """
    import sys
    from kling_studio.history._store import History

    location, user, column = sys.argv[1], sys.argv[2], sys.argv[3]
    ids = sys.argv[4:]
    with History(location, user=user, busy_timeout=60) as h:
        print("READY", flush=True)
        sys.stdin.readline()  # all start together
        for n, local_id in enumerate(ids):
            if column == "rating":
                h.set_rating(local_id, rating=1 + n % 5)
            else:
                h.set_rating(local_id, note=f"{user} on {local_id}")
    print("DONE", flush=True)
    """
)


def test_many_processes_rating_at_once_keep_every_rating(location: str) -> None:
    """Four processes rate the same 15 tasks at the same moment: three people, one of them
    from two kernels at once (one sets ratings, the other notes, into the same rows)."""
    with History(location, user="setup") as h:
        ids = [h.journal_submit(prepared(f"task {i}")) for i in range(15)]
    raters = [("ada", "rating"), ("bob", "rating"), ("cy", "rating"), ("cy", "note")]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RATER, location, user, column, *ids],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for user, column in raters
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "READY"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            out, _ = p.communicate(timeout=120)
            assert p.returncode == 0 and "DONE" in out
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    with History(location, user="ada") as h:
        everyone = h.judgements(ids)
        for n, local_id in enumerate(ids):
            rating = 1 + n % 5
            assert {j.user: (j.rating, j.note) for j in everyone[local_id]} == {
                "ada": (rating, ""),
                "bob": (rating, ""),
                "cy": (rating, f"cy on {local_id}"),
            }
            assert h[local_id].rating == rating


# --- upgrading an older history -------------------------------------------------------------

# Revision 0003's additions to the first schema (0002: authors and leases; 0003: video blobs).
SCHEMA_0003 = """
ALTER TABLE tasks ADD COLUMN author TEXT;
ALTER TABLE tasks ADD COLUMN lease_owner TEXT;
ALTER TABLE tasks ADD COLUMN lease_until TEXT;
ALTER TABLE tasks ADD COLUMN video_sha256 TEXT;
CREATE INDEX tasks_author ON tasks (author, submitted_at);
CREATE INDEX tasks_video ON tasks (video_path);
CREATE TABLE videos (sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, data BYTEA NOT NULL,
                     stored_at TEXT NOT NULL);
CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY);
INSERT INTO alembic_version VALUES ('0003');
"""

OLD_TASKS = """
INSERT INTO tasks (local_id, status, prompt, resolution, duration, generate_audio, model,
    request, payload, request_hash, submitted_at, updated_at, author, rating, winner, note)
VALUES
 ('by-bob', 'completed', 'p', '720p', 5, 0, 'kling-v3', '{}', '{}', 'h1',
  '2026-01-01T00:00:00.000000+00:00', '2026-01-02T00:00:00.000000+00:00', 'bob', 4, 1, 'best'),
 ('no-author', 'completed', 'p', '720p', 5, 0, 'kling-v3', '{}', '{}', 'h2',
  '2026-01-01T00:00:01.000000+00:00', '2026-01-02T00:00:00.000000+00:00', NULL, 2, 0, NULL),
 ('unrated', 'completed', 'p', '720p', 5, 0, 'kling-v3', '{}', '{}', 'h3',
  '2026-01-01T00:00:02.000000+00:00', '2026-01-02T00:00:00.000000+00:00', 'bob', NULL, 0, '');
"""


def _check_upgraded(location: str) -> None:
    with History(location, user="ada") as ada, History(location, user="bob") as bob:
        assert _judged(ada, "by-bob") == {"bob": (4, True, "best")}
        assert _judged(ada, "no-author") == {"ada": (2, False, "")}
        assert _judged(ada, "unrated") == {}
        assert (bob["by-bob"].rating, bob["by-bob"].winner) == (4, True)
        assert ada["by-bob"].rating is None and ada["no-author"].rating == 2
        assert [r.local_id for r in ada.records(user="bob")] == ["unrated", "by-bob"]


def test_an_sqlite_history_with_ratings_is_upgraded_and_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(FIRST_SCHEMA + SCHEMA_0003.replace("BYTEA", "BLOB") + OLD_TASKS)
        conn.execute("PRAGMA application_id = 1263291975")
        conn.execute("PRAGMA user_version = 3")
    conn.close()
    _check_upgraded(str(path))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
        columns = {row[1] for row in conn.execute("PRAGMA table_info(tasks)")}
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(tasks)")}
    conn.close()
    assert not columns & {"rating", "winner", "note"}  # dropped: one place per judgement
    assert {"tasks_author", "tasks_video", "tasks_group", "tasks_hash"} <= indexes


def test_a_postgresql_history_with_ratings_is_upgraded_and_keeps_them(
    postgres: object, postgres_url: str
) -> None:
    assert isinstance(postgres, PostgresServer)
    database = urlsplit(postgres_url).path.lstrip("/")
    postgres.sql(database, FIRST_SCHEMA + SCHEMA_0003 + OLD_TASKS)
    _check_upgraded(postgres_url)
    assert postgres.sql(database, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    columns = postgres.sql(
        database,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'tasks' "
        "AND column_name IN ('rating', 'winner', 'note')",
    )
    assert columns == []
