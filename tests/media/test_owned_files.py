"""Nothing the package writes at a user's path may replace a file the history owns: a stitch's
copy, `generate --out`, the history and comparison exports are refused, with a sentence and
before any work, at a part's video, a poster, the database, the video folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kling_studio import History
from kling_studio import compare as cmp
from kling_studio.errors import InputError
from kling_studio.history._blobs import file_sha256
from kling_studio.simulator import Simulator

from ..cli.test_cli import api_requests, run
from ..conftest import make_picture
from .conftest import BLUE, GREEN, RED, Pair, clip


def fingerprint(history: History) -> dict[str, tuple[str | None, str]]:
    """Every saved video's stored hash, and the hash of its bytes now."""
    from sqlalchemy import select

    from kling_studio.history._schema import tasks

    query = select(tasks.c.local_id, tasks.c.video_sha256).where(tasks.c.video_path.is_not(None))
    found: dict[str, tuple[str | None, str]] = {}
    for local_id, stored in history._run(lambda conn: list(conn.execute(query)), write=False):
        path = history[local_id].video_path
        assert path is not None
        found[local_id] = (stored, file_sha256(path))
    return found


async def test_stitch_refuses_to_write_its_copy_over_anything_the_history_owns(
    studio: Pair, tmp_path: Path
) -> None:
    s, _ = studio
    first, second = await clip(s, RED, BLUE), await clip(s, BLUE, GREEN)
    moved = await clip(s, GREEN)
    # A saved video kept outside the history's folder is the history's all the same.
    outside = tmp_path / "kept" / "mine.mp4"
    outside.parent.mkdir()
    s.history[moved].video_path.rename(outside)
    s.history.set_video(moved, outside)
    video = s.history[first].video_path
    assert s.history[second].poster_path is not None
    link = tmp_path / "link.mp4"
    link.symlink_to(video)
    database = s.history.path
    targets = {
        video: f"the saved video of the history's task {first}",
        s.history[second].poster_path: f"the poster of the history's task {second}",
        outside: f"the saved video of the history's task {moved}",
        link: f"the saved video of the history's task {first}",
        database: "the history's database",
        database.with_name(database.name + "-wal"): "the history's database",
        s.history.videos_dir / "new-name.mp4": "in the history's video folder",
    }
    before = fingerprint(s.history)
    assert all(stored == now for stored, now in before.values())
    names = set(s.history.videos_dir.iterdir())
    count = s.history.count()
    for target, whose in targets.items():
        with pytest.raises(InputError, match=rf"{whose}.*nothing was written") as caught:
            s.stitch([first, second], target)
        assert caught.value.field == "path"
    assert fingerprint(s.history) == before  # every video whole, its stored hash still true
    assert set(s.history.videos_dir.iterdir()) == names  # no stitch was even made
    assert s.history.count() == count
    assert not (s.history.videos_dir / "new-name.mp4").exists()
    # A path of its own is fine.
    assert s.stitch([first, second], tmp_path / "joined.mp4").has_video


async def test_exports_refuse_a_file_the_history_owns(studio: Pair, tmp_path: Path) -> None:
    s, _ = studio
    local_id = await clip(s, RED)
    video = s.history[local_id].video_path
    before = fingerprint(s.history)
    writers = {
        "export": lambda target: s.history.export(target, format="csv"),
        "comparison table": lambda target: cmp.export_csv(s.history, "no-such-group", target),
        "comparison report": lambda target: cmp.export_html(s.history, "no-such-group", target),
    }
    for what, write in writers.items():
        for target in (video, s.history.path):
            refusal = rf"the {what} is never written over a file the history owns"
            with pytest.raises(InputError, match=refusal):
                write(target)
    assert fingerprint(s.history) == before
    assert s.history.count() == 1  # the database is whole and readable


def test_generate_out_over_another_tasks_video_is_refused_before_sending(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.set_faults(None)
    frame = tmp_path / "first.png"
    frame.write_bytes(make_picture(640, 360))
    history = str(tmp_path / "h.sqlite3")
    task = ["generate", "--image", str(frame), "--prompt", "a field", "--history", history]
    done = run(*task, "--json", server=sim)
    assert done.returncode == 0, done.stderr
    video = Path(json.loads(done.stdout)["video_path"])
    sha = file_sha256(video)

    before = api_requests(sim)
    refused = run(*task, "--out", str(video), server=sim)
    assert refused.returncode == 2, refused.stderr
    assert "--out" in refused.stderr and "saved video of the history's task" in refused.stderr
    assert api_requests(sim) == before  # nothing uploaded, nothing created
    assert file_sha256(video) == sha
