"""One record looks the same everywhere: task card, history row, comparison cell and table, CLI
line, History.df. Each record below is brought to its state through the real history (SQLite)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kling_studio import compare as cmp
from kling_studio.cli import failure_line, history_line
from kling_studio.errors import UnprocessableEntityError
from kling_studio.history._records import TaskRecord
from kling_studio.history._store import History
from kling_studio.history._view import view
from kling_studio.models import PreparedRequest, Task, VideoRequest
from kling_studio.runner import card_from_record
from kling_studio.statuses import SHOWN, Status, shown
from kling_studio.studio._desk import comparison_value
from kling_studio.studio._shapes import history_row

IMAGE = "https://cdn.example.com/first.png"
VIDEO = "https://cdn.example.com/out/video.mp4"


def _prepared(prompt: str) -> PreparedRequest:
    request = VideoRequest.build(prompt=prompt, image=IMAGE)
    return PreparedRequest(request=request, payload=request.payload(IMAGE, None))


def _task(task_id: str, status: str, **extra: Any) -> Task:
    return Task.from_api({"id": task_id, "status": status, **extra})


def _completed(task_id: str) -> Task:
    return _task(task_id, "completed", progress=100, results=[{"url": VIDEO}])


# name -> (status, error code, video state) every view must show
EXPECTED: dict[str, tuple[str, str | None, str]] = {
    "saved": ("completed", None, "saved"),
    "link_expired": ("completed", "video_expired", "expired"),
    "download_broke": ("completed", "download_failed", "failed"),
    "not_downloaded": ("completed", None, "remote"),
    "failed": ("failed", "content_policy", "none"),
    "rejected": ("failed", "invalid_image", "none"),
    "lost": ("unknown", "create_outcome_unknown", "none"),
    "running": ("processing", None, "none"),
}


@pytest.fixture
def records(tmp_path: Path) -> Iterator[tuple[History, dict[str, TaskRecord]]]:
    with History(tmp_path / "history.sqlite3") as h:
        ids = {name: h.journal_submit(_prepared(f"prompt {name}")) for name in EXPECTED}
        for name in ("saved", "link_expired", "download_broke", "not_downloaded"):
            h.mark_created(ids[name], _task(f"t-{name}", "pending"))
            h.update(ids[name], _completed(f"t-{name}"))
        video = tmp_path / "saved.mp4"
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
        h.set_video(ids["saved"], video)
        h.set_download_error(ids["link_expired"], "the link has expired (HTTP 410)", expired=True)
        h.set_download_error(ids["download_broke"], "connection reset")
        h.mark_created(ids["failed"], _task("t-failed", "pending"))
        h.update(
            ids["failed"],
            _task("t-failed", "failed", error={"code": "content_policy", "message": "refused"}),
        )
        h.mark_rejected(
            ids["rejected"],
            UnprocessableEntityError("the picture is too small", code="invalid_image"),
        )
        h.mark_unknown(ids["lost"], "the connection dropped after the create was sent")
        h.mark_created(ids["running"], _task("t-running", "pending"))
        h.update(ids["running"], _task("t-running", "processing", progress=40))
        got = {name: h.get(local_id) for name, local_id in ids.items()}
        assert all(r is not None for r in got.values())
        yield h, {name: r for name, r in got.items() if r is not None}


def test_the_view_of_each_record(records: tuple[History, dict[str, TaskRecord]]) -> None:
    _, recs = records
    for name, (status, code, video) in EXPECTED.items():
        seen = view(recs[name])
        assert (seen.status, seen.error_code, seen.video) == (status, code, video), name
        assert seen.status in SHOWN
        assert (seen.error is None) == (code is None), name


def test_card_row_cell_table_cli_and_frame_agree(
    records: tuple[History, dict[str, TaskRecord]],
) -> None:
    history, recs = records
    names = list(EXPECTED)
    plan = cmp.Plan(
        group_id="g-view",
        title="views",
        created=time.time(),
        differing=["prompt"],
        entries=[
            cmp.Entry(label=name, params={"prompt": name}, hash=name, local_id=recs[name].local_id)
            for name in names
        ],
    )
    comparison = cmp.Comparison(history, plan)
    cells = {v["label"]: v for v in comparison_value(comparison)["variants"]}
    table = comparison.df().set_index("label")
    frame = history.df().set_index("local_id")

    for name, (status, code, video) in EXPECTED.items():
        record = recs[name]
        seen = view(record)
        card = card_from_record(record)
        row = history_row(record)
        cell = cells[name]
        frame_row = frame.loc[record.local_id]
        table_row = table.loc[name]
        # status
        assert card["status"] == row["status"] == cell["status"] == status, name
        assert frame_row["shown_status"] == table_row["status"] == status, name
        # error: the same code and message in each
        error = {"code": code, "message": seen.error_message} if code else None
        assert card["error"] == cell["error"] == error, name
        assert (row["error_code"], row["error_message"]) == (code, seen.error_message), name
        assert _na(frame_row["error_code"]) == _na(table_row["error_code"]) == code, name
        assert _na(frame_row["error_message"]) == seen.error_message, name
        # video
        saved = video == "saved"
        assert card["has_video"] == row["has_video"] == cell["has_video"] == saved, name
        assert frame_row["video"] == table_row["video"] == video, name
        # the CLI's lines
        assert f"  {status}" in history_line(record), name
        assert history_line(record).endswith(f"  {code}") == bool(code), name
        assert f" {status}" in failure_line(record), name
        if code:
            assert f"{status}: {code}" in failure_line(record), name


def test_a_variant_without_a_task_reads_queued_or_not_sent(tmp_path: Path) -> None:
    with History(tmp_path / "history.sqlite3") as history:
        plan = cmp.Plan(
            group_id="g-empty",
            title="",
            created=time.time(),
            differing=[],
            entries=[cmp.Entry(label="A", params={}, hash="h")],
        )
        value = comparison_value(cmp.Comparison(history, plan))
        assert value["variants"][0]["status"] == "not_sent"
        assert value["variants"][0]["error"] is None


def test_shown_words() -> None:
    assert shown("rejected") == shown("cancelled") == Status.FAILED
    assert shown("queued") == Status.QUEUED
    assert shown("a word from a newer FoxAPI") == Status.UNKNOWN
    assert {shown(s) for s in Status} == set(SHOWN)


def _na(value: Any) -> Any:
    import pandas as pd

    return None if value is pd.NA or value is None else value
