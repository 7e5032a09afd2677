"""The history's file changing under an open History: deleted, replaced, locked, and a create
answer with only an id. Behaviour through the public History API only (it carries over to
another database backend)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from kling_studio.errors import HistoryError, UnprocessableEntityError
from kling_studio.history._store import History, HistoryBusy, HistoryGone
from kling_studio.models import Task

from .lock_holder import hold_write_lock
from .test_store import api, prepared


@pytest.fixture
def history(tmp_path: Path) -> Any:
    with History(tmp_path / "history.sqlite3", busy_timeout=0.1) as h:
        yield h


def test_a_deleted_history_file_is_noticed_at_the_next_write(history: History) -> None:
    local_id = history.journal_submit(prepared("before"))
    history.path.unlink()
    with pytest.raises(HistoryGone, match="was deleted or replaced"):
        history.mark_created(local_id, api("task-1", "pending"))
    with pytest.raises(HistoryGone):
        history.journal_submit(prepared("after"))
    # Nothing went into the deleted file pretending to be saved; a new process starts afresh.
    with History(history.path) as fresh:
        assert len(fresh) == 0


def test_a_replaced_history_file_is_noticed_and_left_alone(
    history: History, tmp_path: Path
) -> None:
    local_id = history.journal_submit(prepared("mine"))
    with History(tmp_path / "other.sqlite3") as other:
        other.journal_submit(prepared("theirs"))
    backup = tmp_path / "restored.sqlite3"
    shutil.copyfile(tmp_path / "other.sqlite3", backup)
    os.replace(backup, history.path)  # e.g. a backup restored over it
    before = history.path.read_bytes()
    with pytest.raises(HistoryGone):
        history.update(local_id, api("task-1", "processing", progress=5))
    assert history.path.read_bytes() == before  # untouched


def test_a_busy_lock_is_a_write_to_retry(history: History) -> None:
    local_id = history.journal_submit(prepared())
    with hold_write_lock(history.path):
        with pytest.raises(HistoryBusy, match="is locked"):
            history.mark_created(local_id, api("task-1", "pending"))
        assert history[local_id].status == "submitting"  # reads still work
    history.mark_created(local_id, api("task-1", "pending"))
    assert history[local_id].status == "pending"
    assert issubclass(HistoryBusy, HistoryError)


def test_an_unknown_create_keeps_the_id_its_answer_had(history: History) -> None:
    local_id = history.journal_submit(prepared())
    history.mark_unknown(local_id, "the answer had an id but no status", task_id="task-77")
    record = history[local_id]
    assert record.status == "unknown" and record.task_id == "task-77"
    assert [r.local_id for r in history.unfinished()] == [local_id]  # resume follows it
    # A refusal can never be about a task whose id is known.
    history.mark_rejected(local_id, UnprocessableEntityError("late"))
    assert history[local_id].status == "unknown"
    history.update(local_id, Task.from_api({"id": "task-77", "status": "processing"}))
    assert history[local_id].status == "processing"
