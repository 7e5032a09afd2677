"""Taking leases on a shared history (SQLite file and PostgreSQL): a kernel working from a list
of unfinished tasks read a moment ago never takes a task that another kernel has finished and let
go since (it would poll it again and download its video a second time), and takes every free
task that still needs following, however many, at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from kling_studio.history._store import History

from ..history.test_store import api, completed, prepared


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "team.sqlite3")
    return str(request.getfixturevalue("postgres_url"))


def _other_kernel(location: str) -> History:
    """A History as another machine's kernel has it (its own lease owner)."""
    history = History(location)
    history.owner = "another-machine/boot:4242:0badc0de"
    return history


def test_a_task_finished_since_the_list_was_read_is_not_taken(location: str) -> None:
    with History(location) as ada, _other_kernel(location) as bob:
        local_id = ada.journal_submit(prepared("a fox"))  # ada follows it (her lease)
        ada.mark_created(local_id, api("task-1", "pending"))
        listed = [r.local_id for r in bob.unfinished()]  # bob's resume reads the list...
        assert listed == [local_id]
        url = "http://127.0.0.1:9/task-1.mp4"
        ada.update(local_id, completed("task-1", url=url))  # ...ada's kernel finishes it,
        path = ada.cache.path_for("task-1")
        path.write_bytes(b"\0\0\0\x18ftypisom")
        ada.set_video(local_id, path)
        ada.release(local_id)  # ...and lets it go
        assert not bob.claim(local_id)  # nothing left to follow: not taken
        assert bob.claim_all(listed) == set()


def test_every_free_task_that_needs_following_is_taken_in_one_claim(location: str) -> None:
    with History(location) as ada, _other_kernel(location) as bob:
        live = [ada.journal_submit(prepared(f"live {n}")) for n in range(3)]
        for n, local_id in enumerate(live):
            ada.mark_created(local_id, api(f"task-{n}", "processing"))
        no_video = ada.journal_submit(prepared("completed, video not saved"))
        ada.update(no_video, completed("task-9", url="http://127.0.0.1:9/task-9.mp4"))
        failed = ada.journal_submit(prepared("failed"))
        ada.update(failed, api("task-8", "failed", error={"code": "x", "message": "no"}))
        assert bob.claim_all([*live, no_video, failed]) == set()  # ada's leases run
        ada.release()  # ada closes her kernel
        taken = bob.claim_all([*live, no_video, failed])
        assert taken == {*live, no_video}  # all but the one with nothing to do
        assert ada.claim_all(live) == set()  # bob holds them now


def test_a_claim_skips_a_task_another_kernel_is_writing_instead_of_waiting(
    postgres_url: str,
) -> None:
    """Sixteen kernels resuming one PostgreSQL history at once: while one kernel writes a task's
    row (journalling its progress, renewing its leases), another's claim must not wait for that
    row — the waits chain up into lock timeouts and deadlocks, and the waiting kernel's resume
    died with HistoryBusy (found by benchmarks/shared_resume.py). A row being written is another
    kernel's business: the claim skips it, and a later adopt beat takes it if it is still free."""
    import threading

    from sqlalchemy import create_engine, text

    with History(postgres_url) as ada, History(postgres_url, busy_timeout=1.0) as bob:
        ids = [ada.journal_submit(prepared(f"task {n}")) for n in range(3)]
        for n, local_id in enumerate(ids):
            ada.mark_created(local_id, api(f"task-{n}", "processing"))
        ada.release()  # every lease free
        engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
        locked, done = threading.Event(), threading.Event()

        def write_one_row() -> None:  # another kernel in the middle of writing ids[1]
            with engine.begin() as conn:
                conn.execute(
                    text("SELECT local_id FROM tasks WHERE local_id = :id FOR UPDATE"),
                    {"id": ids[1]},
                )
                locked.set()
                done.wait(10)

        writer = threading.Thread(target=write_one_row)
        writer.start()
        try:
            assert locked.wait(10)
            assert bob.claim_all(ids) == {ids[0], ids[2]}  # before the fix: HistoryBusy
        finally:
            done.set()
            writer.join()
            engine.dispose()
        assert bob.claim_all(ids) == set(ids)  # the row written, its task is free to take
