"""The history on real SQLite files and a real PostgreSQL server (the `history` fixture runs a
test on both): journal, status changes, filters, df, export, failures."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kling_studio.errors import HistoryError, InsufficientQuotaError, UnprocessableEntityError
from kling_studio.history._records import FRAME_DTYPES, STATUSES, TaskRecord
from kling_studio.history._store import SCHEMA_VERSION, History
from kling_studio.models import PreparedRequest, Task, VideoRequest

IMAGE = "https://cdn.example.com/first.png"
VIDEO = "https://cdn.example.com/out/video.mp4"


def prepared(prompt: str = "a cat surfing a wave", **fields: Any) -> PreparedRequest:
    request = VideoRequest.build(prompt=prompt, image=IMAGE, **fields)
    request.check()
    return PreparedRequest(request=request, payload=request.payload(IMAGE, None))


def api(task_id: str, status: str, **extra: Any) -> Task:
    """A task as FoxAPI's JSON would give it."""
    return Task.from_api(
        {"id": task_id, "object": "video.generation.task", "status": status, **extra}
    )


def completed(task_id: str, *, credits: float = 20.0, url: str = VIDEO) -> Task:
    return api(
        task_id,
        "completed",
        progress=100,
        results=[{"url": url}],
        usage={"credits_reserved": credits, "user_group": "default"},
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """The same behaviour on both backends: a SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        location: str | Path = tmp_path / "home" / "history.sqlite3"
    else:
        location = request.getfixturevalue("postgres_url")
    with History(location) as h:
        yield h


def raw_sql(history: History, statement: str, **params: Any) -> list[Any]:
    """Run SQL on the history's database over a connection of its own (to look underneath)."""
    import sqlalchemy as sa

    engine = sa.create_engine(history.location.sqlalchemy_url())  # type: ignore[call-overload]
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


# --- the life of a task -----------------------------------------------------------------------


def test_lifecycle_journal_created_processing_completed(history: History) -> None:
    prep = prepared(resolution="1080p", duration=10, generate_audio=True, negative_prompt="blur")
    local_id = history.journal_submit(prep, group_id="g1", variant={"resolution": "1080p"})

    rec = history.get(local_id)
    assert rec is not None
    assert rec.status == "submitting" and rec.task_id is None
    assert rec.payload == prep.payload and rec.request_hash == prep.hash
    assert rec.request == prep.request.describe()
    assert (rec.resolution, rec.duration, rec.generate_audio) == ("1080p", 10, True)
    assert rec.negative_prompt == "blur" and rec.group_id == "g1"
    assert rec.variant == {"resolution": "1080p"}
    assert rec.submitted_at.tzinfo is not None and not rec.done

    created = api("task-1", "pending", created=1757165031, task_info={"estimated_time": 45})
    history.mark_created(local_id, created)
    rec = history.get(local_id)
    assert rec is not None
    assert (rec.task_id, rec.status, rec.estimated_time) == ("task-1", "pending", 45.0)
    assert rec.created_at == datetime.fromtimestamp(1757165031, tz=UTC)
    assert history.by_task_id("task-1") == rec

    time.sleep(0.02)
    assert history.update(local_id, api("task-1", "processing", progress=40)) is True
    assert history.update(local_id, api("task-1", "processing", progress=70)) is False
    time.sleep(0.02)
    assert history.update(local_id, completed("task-1", credits=35)) is True

    rec = history.get(local_id)
    assert rec is not None
    assert rec.status == "completed" and rec.done and rec.progress == 100
    assert rec.credits_reserved == 35.0 and rec.video_url == VIDEO
    assert rec.estimated_time == 45.0  # kept from the create answer
    assert rec.started_at is not None and rec.finished_at is not None
    assert rec.submitted_at < rec.started_at < rec.finished_at
    assert rec.queue_seconds is not None and rec.queue_seconds >= 0.02
    assert rec.run_seconds is not None and rec.run_seconds >= 0.02
    assert rec.elapsed == pytest.approx(rec.queue_seconds + rec.run_seconds, abs=1e-3)
    assert rec.raw is not None and rec.raw["usage"]["credits_reserved"] == 35
    assert rec.url_expires_at == rec.finished_at + timedelta(hours=24)
    assert history.unfinished() == []
    assert [r.local_id for r in history.missing_videos()] == [local_id]


def test_failed_task_keeps_the_servers_error(history: History) -> None:
    local_id = history.journal_submit(prepared())
    history.mark_created(local_id, api("t-f", "pending"))
    err = {"code": "content_policy", "message": "the picture was refused", "type": "task_error"}
    assert history.update(local_id, api("t-f", "failed", error=err)) is True
    rec = history[local_id]
    assert rec.status == "failed" and rec.finished_at is not None
    assert (rec.error_code, rec.error_type) == ("content_policy", "task_error")
    assert rec.error_message == "the picture was refused"
    assert rec.started_at is None and rec.queue_seconds is None  # never seen processing


def test_terminal_never_regresses_and_live_never_moves_back(history: History) -> None:
    done = history.journal_submit(prepared())
    history.mark_created(done, api("t-done", "pending"))
    history.update(done, api("t-done", "completed", progress=0, results=[VIDEO]))
    assert history[done].progress == 100  # some servers leave progress at 0 when done
    finished_at = history[done].finished_at
    for stale in ("pending", "processing", "failed", "cancelled"):
        assert history.update(done, api("t-done", stale, progress=10)) is False
    history.mark_unknown(done, "late")
    history.mark_rejected(done, UnprocessableEntityError("late"))
    rec = history[done]
    assert rec.status == "completed" and rec.finished_at == finished_at
    assert rec.error_code is None and rec.unknown_reason is None

    created = history.journal_submit(prepared())
    history.mark_created(created, api("t-created", "pending"))
    history.mark_rejected(created, UnprocessableEntityError("not about this one"))
    assert history[created].status == "pending"

    live = history.journal_submit(prepared())
    history.mark_created(live, api("t-live", "pending"))
    history.update(live, api("t-live", "processing", progress=50))
    assert history.update(live, api("t-live", "pending", progress=0)) is False
    rec = history[live]
    assert (rec.status, rec.progress) == ("processing", 50)


def test_unknown_create_outcome(history: History) -> None:
    local_id = history.journal_submit(prepared())
    history.mark_unknown(local_id, "ReadTimeout after the request was sent")
    rec = history[local_id]
    assert rec.status == "unknown" and rec.task_id is None
    assert rec.unknown_reason == "ReadTimeout after the request was sent"
    assert not rec.done and rec.finished_at is None
    assert [r.local_id for r in history.unfinished()] == [local_id]
    # Its elapsed time stops at the moment it was lost, it does not grow forever.
    assert rec.elapsed == pytest.approx((rec.updated_at - rec.submitted_at).total_seconds())
    # Found again later (e.g. by the user): it becomes a normal task.
    history.mark_created(local_id, api("t-found", "processing", progress=5))
    assert history[local_id].status == "processing"
    assert history.by_task_id("t-found") is not None


def test_mark_unknown_after_the_answer_arrived_is_ignored(history: History) -> None:
    local_id = history.journal_submit(prepared())
    history.mark_created(local_id, api("t-1", "pending"))
    history.mark_unknown(local_id, "too late")
    assert history[local_id].status == "pending"


def test_rejected_create(history: History) -> None:
    local_id = history.journal_submit(prepared())
    error = InsufficientQuotaError(
        "balance too low", error_type="insufficient_quota", method="POST", path="/v1/videos"
    )
    history.mark_rejected(local_id, error)
    rec = history[local_id]
    assert rec.status == "rejected" and rec.done and rec.task_id is None
    assert rec.error_code == "insufficient_quota"
    assert rec.error_type == "InsufficientQuotaError"
    assert rec.error_message == str(error) and "402" in rec.error_message
    assert rec.finished_at is not None
    assert history.unfinished() == []

    other = history.journal_submit(prepared())
    history.mark_rejected(
        other, UnprocessableEntityError("no", code="unsupported_advanced_options")
    )
    assert history[other].error_code == "unsupported_advanced_options"


def test_unknown_local_id_raises_keyerror(history: History) -> None:
    with pytest.raises(KeyError):
        history.update("nope", api("t", "pending"))
    with pytest.raises(KeyError):
        history.set_video("nope", Path("x.mp4"))
    assert history.get("nope") is None
    local_id = history.journal_submit(prepared())
    with pytest.raises(ValueError, match="already"):
        history.journal_submit(prepared(), local_id=local_id)


# --- videos, ratings, reuse -------------------------------------------------------------------


def test_videos_missing_saved_and_expired(history: History) -> None:
    ids = []
    for n in range(3):
        local_id = history.journal_submit(prepared(f"clip {n}"))
        history.mark_created(local_id, api(f"t-{n}", "pending"))
        history.update(local_id, completed(f"t-{n}", url=f"https://cdn.example.com/{n}.mp4"))
        ids.append(local_id)
    assert {r.local_id for r in history.missing_videos()} == set(ids)

    video = history.cache.path_for("t-0")
    video.write_bytes(b"\0\0\0\x18ftypisom")
    history.set_download_error(ids[0], "connection reset")
    history.set_video(ids[0], video)
    history.set_download_error(ids[1], "HTTP 410: expired", expired=True)
    history.set_download_error(ids[2], "ReadTimeout")

    saved, dead, retry = (history[i] for i in ids)
    assert saved.video_path == video and saved.has_video and saved.download_error is None
    assert saved.download_attempts == 1
    assert dead.url_expired and dead.download_error == "HTTP 410: expired"
    assert not retry.url_expired and retry.download_attempts == 1
    assert [r.local_id for r in history.missing_videos()] == [ids[2]]  # a failed one is retried

    # A new URL for the expired one (e.g. re-signed by the server) makes it downloadable again.
    assert history.update(ids[1], completed("t-1", url="https://cdn.example.com/1b.mp4")) is False
    assert {r.local_id for r in history.missing_videos()} == {ids[1], ids[2]}
    assert history[ids[1]].download_error is None

    # The path is stored relative to the history's folder, so the folder can move.
    raw = raw_sql(history, "SELECT video_path FROM tasks WHERE local_id = :id", id=ids[0])
    assert raw[0][0] == "videos/t-0.mp4"


def test_ratings(history: History) -> None:
    a = history.journal_submit(prepared("a"), group_id="ab")
    b = history.journal_submit(prepared("b"), group_id="ab")
    history.set_rating(a, rating=4, winner=True, note="sharper")
    history.set_rating(b, rating=2)
    history.set_rating(b, winner=False)
    ra, rb = history[a], history[b]
    assert (ra.rating, ra.winner, ra.note) == (4, True, "sharper")
    assert (rb.rating, rb.winner, rb.note) == (2, False, None)
    history.clear_rating(a)
    assert (history[a].rating, history[a].winner, history[a].note) == (None, None, None)
    with pytest.raises(ValueError):
        history.set_rating(a, rating=True)


def test_find_completed_by_hash(history: History) -> None:
    prep = prepared("same request")
    assert history.find_completed_by_hash(prep.hash) is None
    failed = history.journal_submit(prep)
    history.update(failed, api("t-a", "failed"))
    assert history.find_completed_by_hash(prep.hash) is None
    first = history.journal_submit(prep)
    history.update(first, completed("t-b"))
    time.sleep(0.01)
    second = history.journal_submit(prep)
    history.update(second, completed("t-c"))
    history.journal_submit(prepared("another request"))
    found = history.find_completed_by_hash(prep.hash)
    assert found is not None and found.local_id == second


# --- filters ----------------------------------------------------------------------------------


def _fill(history: History) -> dict[str, str]:
    ids = {
        "old": history.journal_submit(prepared("An old lighthouse at dusk"), group_id="g1"),
        "cat": history.journal_submit(prepared("Ein Kätzchen im SCHNEE"), group_id="g1"),
        "cn": history.journal_submit(prepared("一只猫在海上冲浪"), group_id="g2"),
        "done": history.journal_submit(prepared("a dog, running")),
    }
    history.update(ids["done"], completed("t-done"))
    history.update(ids["cn"], api("t-cn", "processing", progress=3))
    # Backdate the first record by two days.
    old = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="microseconds")
    raw_sql(
        history, "UPDATE tasks SET submitted_at = :old WHERE local_id = :id", old=old, id=ids["old"]
    )
    return ids


def test_filters_and_counts(history: History) -> None:
    ids = _fill(history)
    order = [r.local_id for r in history.records()]
    assert order == [ids["done"], ids["cn"], ids["cat"], ids["old"]]  # newest first

    def local(**filters: Any) -> set[str]:
        found = {r.local_id for r in history.records(**filters)}
        assert history.count(**filters) == len(found)
        return found

    assert local(status="completed") == {ids["done"]}
    assert local(status=["submitting", "processing"]) == {ids["old"], ids["cat"], ids["cn"]}
    assert local(since=timedelta(days=1)) == {ids["cat"], ids["cn"], ids["done"]}
    assert local(since=datetime.now(UTC) - timedelta(days=3)) == set(ids.values())
    day_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert local(since=day_ago) == {ids["cat"], ids["cn"], ids["done"]}
    assert local(text="schnee") == {ids["cat"]}  # case-insensitive
    assert local(text="KÄTZCHEN") == {ids["cat"]}  # beyond ASCII too
    assert local(text="冲浪") == {ids["cn"]}
    assert local(text="nothing like this") == set()
    assert local(group_id="g1") == {ids["old"], ids["cat"]}
    assert local(group_id="g1", since=timedelta(days=1)) == {ids["cat"]}
    assert local(status="submitting", text="lighthouse", group_id="g1") == {ids["old"]}
    assert [r.local_id for r in history.records(limit=2)] == order[:2]
    assert [r.local_id for r in history.records(limit=2, offset=1)] == order[1:3]
    assert [r.local_id for r in history.records(offset=3)] == order[3:]
    assert len(history) == 4 and history.count() == 4
    with pytest.raises(ValueError, match="unknown status 'complete'"):
        history.records(status="complete")
    with pytest.raises(ValueError, match="since"):
        history.records(since="yesterday")


# --- the DataFrame and its exports ------------------------------------------------------------

EXPECTED_DTYPES = {
    "local_id": "string",
    "task_id": "string",
    "user": "string",
    "status": "category",
    "shown_status": "string",
    "progress": "Int64",
    "model": "string",
    "prompt": "string",
    "negative_prompt": "string",
    "resolution": "string",
    "duration": "Int64",
    "generate_audio": "bool",
    "image": "string",
    "image_tail": "string",
    "submitted_at": "datetime64[us, UTC]",
    "created_at": "datetime64[us, UTC]",
    "started_at": "datetime64[us, UTC]",
    "finished_at": "datetime64[us, UTC]",
    "updated_at": "datetime64[us, UTC]",
    "elapsed": "float64",
    "queue_seconds": "float64",
    "run_seconds": "float64",
    "estimated_time": "float64",
    "credits_reserved": "float64",
    "video_url": "string",
    "video_path": "string",
    "download_error": "string",
    "url_expired": "bool",
    "video": "string",
    "error_code": "string",
    "error_message": "string",
    "unknown_reason": "string",
    "request_hash": "string",
    "group_id": "string",
    "variant": "string",
    "rating": "Int64",
    "winner": "boolean",
    "note": "string",
    "first_frame_match": "float64",
    "last_frame_match": "float64",
    "motion": "float64",
    "flicker": "float64",
    "frozen_share": "float64",
    "cuts": "Int64",
    "sharpness": "float64",
    "text_alignment": "float64",
    "aesthetic": "float64",
}


def _assert_dtypes(df: pd.DataFrame) -> None:
    assert list(df.columns) == list(EXPECTED_DTYPES) == list(FRAME_DTYPES)
    assert {c: str(t) for c, t in df.dtypes.items()} == EXPECTED_DTYPES
    assert isinstance(df["status"].dtype, pd.CategoricalDtype)
    assert list(df["status"].cat.categories) == list(STATUSES)
    assert df["status"].cat.ordered
    assert isinstance(df.index, pd.RangeIndex)


def test_df_dtypes(history: History) -> None:
    _assert_dtypes(history.df())  # empty: same columns and dtypes
    ids = _fill(history)
    history.update(ids["cat"], api("t-cat", "processing"))
    history.set_rating(ids["done"], rating=5, winner=True)
    history.journal_submit(prepared("x"), variant={"duration": 10, "label": "B"})
    df = history.df()
    _assert_dtypes(df)
    assert len(df) == 5
    row = df.set_index("local_id").loc[ids["done"]]
    assert row["status"] == "completed" and row["credits_reserved"] == 20.0
    assert row["rating"] == 5 and bool(row["winner"]) is True
    assert row["finished_at"].tzinfo is not None
    assert row["elapsed"] >= 0 and row["image"] == IMAGE
    assert json.loads(df["variant"].dropna().iloc[0]) == {"duration": 10, "label": "B"}
    assert df["status"].value_counts()["submitting"] == 2
    # filters are the same as records()
    assert list(history.df(status="completed")["local_id"]) == [ids["done"]]
    assert list(history.df(text="冲浪")["local_id"]) == [ids["cn"]]


def test_export_round_trips(history: History, tmp_path: Path) -> None:
    ids = _fill(history)
    history.set_rating(ids["done"], rating=3, winner=False, note="ok, 'quoted', \"too\"")
    df = history.df()

    csv = history.export(tmp_path / "out" / "history.csv")
    back = pd.read_csv(csv)
    assert list(back.columns) == list(df.columns) and len(back) == len(df)
    assert list(back["prompt"]) == list(df["prompt"])
    parsed = pd.to_datetime(back["submitted_at"], utc=True)
    assert (parsed == df["submitted_at"]).all()

    parquet = history.export(tmp_path / "history.parquet")
    back = pd.read_parquet(parquet)
    assert {c: str(t) for c, t in back.dtypes.items()} == {c: str(t) for c, t in df.dtypes.items()}
    pd.testing.assert_frame_equal(back, df, check_exact=False, atol=1.0)

    js = history.export(tmp_path / "history.json")
    rows = json.loads(js.read_text(encoding="utf-8"))
    assert [r["local_id"] for r in rows] == list(df["local_id"])
    done = next(r for r in rows if r["local_id"] == ids["done"])
    assert done["status"] == "completed" and done["note"] == "ok, 'quoted', \"too\""
    assert done["submitted_at"].endswith("Z") or "+00:00" in done["submitted_at"]
    assert datetime.fromisoformat(done["finished_at"].replace("Z", "+00:00")).tzinfo is not None
    assert any(r["prompt"] == "一只猫在海上冲浪" for r in rows)  # not \u-escaped
    assert "一只猫" in js.read_text(encoding="utf-8")
    assert pd.read_json(js).shape == df.shape

    filtered = history.export(tmp_path / "done.data", format="csv", status="completed")
    assert list(pd.read_csv(filtered)["local_id"]) == [ids["done"]]
    with pytest.raises(ValueError, match="xlsx"):
        history.export(tmp_path / "history.xlsx")
    assert not list(tmp_path.glob(".*part"))  # no temporary files left


def test_to_row_is_json_safe(history: History) -> None:
    local_id = history.journal_submit(prepared(), variant={"a": 1})
    history.update(local_id, completed("t-1"))
    row = history[local_id].to_row()
    text = json.dumps(row)
    assert json.loads(text)["status"] == "completed"
    assert isinstance(row["elapsed"], float) and row["variant"] == {"a": 1}


# --- where the history lives, reopening, threads ---------------------------------------------


def test_default_home_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "data"))
    with History() as h:
        assert h.path == tmp_path / "data" / "history.sqlite3"
        assert h.videos_dir == tmp_path / "data" / "videos" and h.videos_dir.is_dir()
    with History(tmp_path / "data") as h:  # a folder means the history inside it
        assert h.path == tmp_path / "data" / "history.sqlite3"
    mode = sqlite3.connect(tmp_path / "data" / "history.sqlite3").execute("PRAGMA journal_mode")
    assert mode.fetchone()[0] == "wal"


def test_reopen_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with History(path) as h:
        local_id = h.journal_submit(prepared())
        h.mark_created(local_id, api("t-1", "processing", progress=10))
        before = h[local_id]
    with History(path) as h:  # "after a kernel restart"
        assert h[local_id] == before
        assert [r.local_id for r in h.unfinished()] == [local_id]
        version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
        assert version == SCHEMA_VERSION


def test_closed_history_refuses(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite3")
    h.close()
    with pytest.raises(HistoryError, match="closed"):
        h.records()


def test_threads_share_one_history(history: History) -> None:
    def work(n: int) -> None:
        for i in range(50):
            local_id = history.journal_submit(prepared(f"thread {n} task {i}"))
            history.update(local_id, api(f"t-{n}-{i}", "processing", progress=i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert history.count() == 400 and history.count(status="processing") == 400


# --- failures: locked, corrupt, foreign, newer -------------------------------------------------


def test_locked_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with History(path) as h:
        kept = h.journal_submit(prepared("kept"))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with History(path, busy_timeout=0.2) as h:  # opening needs no lock
            started = time.monotonic()
            with pytest.raises(HistoryError, match="another process") as info:
                h.journal_submit(prepared("blocked"))
            assert time.monotonic() - started < 3
            assert "Nothing was written" in str(info.value) and str(path) in str(info.value)
            assert h[kept].prompt == "kept"  # reading still works (WAL)
    finally:
        other.execute("ROLLBACK")
        other.close()
    with History(path) as h:
        assert [r.prompt for r in h.records()] == ["kept"]


def _assert_refused_untouched(path: Path, match: str) -> None:
    before = path.read_bytes()
    siblings = set(path.parent.iterdir())
    with pytest.raises(HistoryError, match=match) as info, History(path) as h:
        h.records()
    assert str(path) in str(info.value) and "untouched" in str(info.value)
    assert path.read_bytes() == before
    assert set(path.parent.iterdir()) == siblings


def test_random_bytes_are_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(os.urandom(8192))
    _assert_refused_untouched(path, "not a valid kling-studio history")


def test_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_text("these are my notes, not a database\n" * 20)
    _assert_refused_untouched(path, "not a valid")


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE accounts (name TEXT)")
        conn.execute("INSERT INTO accounts VALUES ('precious')")
    conn.close()
    _assert_refused_untouched(path, "not a kling-studio history")


def test_damaged_history_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with History(path) as h:
        for n in range(300):
            h.journal_submit(prepared(f"task {n} " + "x" * 500))
    data = path.read_bytes()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    path.write_bytes(data[: len(data) // 2])
    _assert_refused_untouched(path, "not a valid")


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    History(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    _assert_refused_untouched(path, "newer kling-studio")


def test_empty_file_becomes_a_history(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.touch()
    with History(path) as h:
        h.journal_submit(prepared())
        assert h.count() == 1


# --- the key never reaches the disk -----------------------------------------------------------

KEY = "sk-test-0123456789abcdefSECRET"


def _disk_bytes(history: History) -> bytes:
    files = [p for p in history.home.rglob("*") if p.is_file()]
    return b"".join(p.read_bytes() for p in files)


def test_a_full_run_never_stores_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOXAPI_API_KEY", KEY)
    with History(tmp_path / "home") as h:
        ok = h.journal_submit(prepared(voice_ids=None), group_id="g", variant={"v": 1})
        h.mark_created(ok, api("t-ok", "pending", task_info={"estimated_time": 30}))
        h.update(ok, api("t-ok", "processing", progress=50))
        h.update(ok, completed("t-ok"))
        h.set_download_error(ok, "ConnectError: refused")
        h.set_video(ok, h.cache.path_for("t-ok"))
        h.set_rating(ok, rating=5, winner=True, note="best")
        bad = h.journal_submit(prepared("b"))
        h.mark_rejected(bad, InsufficientQuotaError("balance too low", method="POST", path="/v1"))
        lost = h.journal_submit(prepared("c"))
        h.mark_unknown(lost, "ReadTimeout")
        failed = h.journal_submit(prepared("d"))
        h.update(failed, api("t-f", "failed", error={"code": "x", "message": "no"}))
        for ext in ("csv", "parquet", "json"):
            h.export(h.home / f"export.{ext}")
        rows = json.dumps([r.to_row() for r in h.records()])
        assert KEY not in rows and "sk-" not in rows
        assert KEY.encode() not in _disk_bytes(h)


def test_a_key_inside_an_error_message_is_scrubbed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOXAPI_API_KEY", KEY)
    with History(tmp_path / "home") as h:
        local_id = h.journal_submit(prepared())
        h.mark_rejected(local_id, RuntimeError(f"upstream echoed Bearer {KEY}"))
        h.set_download_error(local_id, f"token {KEY}")
        rec = h[local_id]
        assert rec.error_message == "upstream echoed Bearer <api key>"
        assert rec.download_error == "token <api key>"
        assert KEY.encode() not in _disk_bytes(h)


def test_record_type_is_frozen(history: History) -> None:
    local_id = history.journal_submit(prepared())
    rec = history[local_id]
    assert isinstance(rec, TaskRecord)
    with pytest.raises(AttributeError):
        rec.status = "completed"  # type: ignore[misc]
