"""One way to save a file whole or not at all (history exports, comparison plans and reports,
the CLI's --out copy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kling_studio._files import atomic_path
from kling_studio.history._store import History

from .test_store import prepared


def test_a_write_replaces_the_file_whole_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "report.txt"
    with atomic_path(target) as part:
        part.write_text("first")
        assert not target.exists()  # nobody sees it before it is whole
    with atomic_path(target) as part:
        part.write_text("second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["report.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as part:
        part.write_text("half of the ne")
        raise RuntimeError("killed half-way")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_a_failed_export_keeps_the_previous_export(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as history:
        history.journal_submit(prepared("exported"))
        out = history.export(tmp_path / "out" / "tasks.csv")
        before = out.read_bytes()
        with pytest.raises(ValueError, match="cannot export"):
            history.export(tmp_path / "out" / "tasks.xlsx")
        assert "exported" in out.read_text()
        assert out.read_bytes() == before
        assert [p.name for p in out.parent.iterdir()] == ["tasks.csv"]
