"""Answers at the edges of the contract: only the id is essential; everything else that does not
fit is left unset, and an answer without a usable id says exactly what is wrong with it."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from kling_studio import Task
from kling_studio.models import NotATask

BASE: dict[str, Any] = {
    "id": "task-unified-1757165031-uyujaw3d",
    "status": "processing",
    "progress": 40,
    "created": 1757165031,
}
WHEN = datetime(2025, 9, 6, 13, 23, 51, tzinfo=UTC)


@pytest.mark.parametrize(
    "created",
    [1757165031, 1757165031_000, 1757165031_000_000, 1757165031_000_000_000, "2025-09-06T13:23:51"],
)
def test_created_in_any_unit_is_read(created: object) -> None:
    task = Task.from_api({**BASE, "created": created})
    assert task.created is not None
    assert abs((task.created - WHEN).total_seconds()) < 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("created", 10**30),
        ("created", -5),
        ("created", "yesterday"),
        ("created", {"s": 1}),
        ("progress", math.nan),
        ("progress", "50%"),
        ("progress", math.inf),
        ("task_info", {"estimated_time": math.inf}),
        ("task_info", "45 s"),
        ("usage", {"credits_reserved": "ten"}),
        ("model", 42),
        ("status", {"state": "processing"}),
        ("results", "not a list"),
        ("error", 12),
    ],
)
def test_a_field_that_does_not_fit_never_loses_the_task(field: str, value: object) -> None:
    task = Task.from_api({**BASE, field: value})
    assert task.id == BASE["id"]
    assert 0 <= task.progress <= 100
    assert task.estimated_time is None or math.isfinite(task.estimated_time)


def test_a_numeric_id_is_kept_as_text() -> None:
    assert Task.from_api({**BASE, "id": 123456}).id == "123456"


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ([1, 2], "not a JSON object"),
        ({"status": "pending"}, "holds no task id"),
        ({**BASE, "id": ""}, "holds no task id"),
        ({**BASE, "id": {"value": "x"}}, "is a dict, not a task id"),
        ({"error": {"message": "No channel"}}, "an error instead of a task: No channel"),
    ],
)
def test_an_answer_without_an_id_says_what_is_wrong(answer: object, says: str) -> None:
    with pytest.raises(NotATask, match=says) as info:
        Task.from_api(answer)
    assert info.value.task_id is None


@pytest.mark.parametrize("bad_id", ["../../v1/files", "a\nb", "x?y=1", "t#1", "x" * 201])
def test_an_id_that_is_not_an_id_is_kept_for_the_record(bad_id: str) -> None:
    with pytest.raises(NotATask, match="not a usable task id") as info:
        Task.from_api({**BASE, "id": bad_id})
    assert info.value.task_id == bad_id


def test_completed_with_nothing_to_download_says_so() -> None:
    task = Task.from_api({**BASE, "status": "completed", "progress": 100})
    assert task.succeeded and task.video_url is None
    assert task.error is not None and task.error.code == "no_result"
    assert "holds no video URL" in task.error.message


def test_a_completed_voice_is_not_called_empty() -> None:
    task = Task.from_api({**BASE, "status": "completed", "results": [{"voice_id": "voice_1"}]})
    assert task.voice_id == "voice_1" and task.error is None
