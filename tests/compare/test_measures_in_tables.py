"""Measures of saved videos: taken once when the runner saves a video, kept in the history (SQLite
and PostgreSQL), columns of History.df(), compare_df() and its CSV, a table in the HTML report;
videos saved before measures existed are measured on first need."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pandas as pd
import pytest

from kling_studio import AsyncClient, VideoRequest
from kling_studio import compare as cmp
from kling_studio.history._measures import MEASURE_COLUMNS
from kling_studio.history._store import History
from kling_studio.media import MEASURES_VERSION
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..media.synthetic_clips import textured
from .test_compare import FAST

MEASURED = ("first_frame_match", "motion", "flicker", "frozen_share", "cuts", "sharpness")


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    textured(seed, (640, 360)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(params=["sqlite", "postgresql"])
async def parts(
    request: pytest.FixtureRequest, sim: Simulator, tmp_path: Path
) -> AsyncIterator[tuple[Runner, History]]:
    sim.set_faults(None)
    if request.param == "sqlite":
        history = History(tmp_path / "h.sqlite3")
    else:
        history = History(request.getfixturevalue("postgres_url"))
    client = AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST)
    runner = Runner(client, history)
    yield runner, history
    await runner.aclose()
    await client.aclose()
    history.close()


async def _comparison(runner: Runner) -> cmp.Comparison:
    base = VideoRequest.build(prompt="a calm lake", image=_png(1))
    comparison = await cmp.run_grid(
        runner, runner.client, cmp.plan_grid(base, durations=[5, 10]), title="measured"
    )
    await asyncio.wait_for(comparison.wait(), 60)
    await asyncio.wait_for(runner.measured(), 60)  # measured just after each was saved
    return comparison


async def test_a_saved_video_is_measured_once_and_shown_in_every_table(
    parts: tuple[Runner, History], tmp_path: Path
) -> None:
    runner, history = parts
    comparison = await _comparison(runner)
    ids = [e.local_id or "" for e in comparison.entries]
    stored = history.measures_of(ids)
    assert set(stored) == set(ids)  # measured by the runner when saved, before anyone asked
    for values in stored.values():
        assert values["version"] == MEASURES_VERSION and values["error"] is None
        assert all(values[name] is not None for name in MEASURED)
        assert values["last_frame_match"] is None  # no image_tail was given
        # The simulator starts on the picture (under a caption band, then a slow push-in).
        assert values["first_frame_match"] > 0.5
        assert values["motion"] > 0 and values["cuts"] == 0
    when = {i: stored[i]["measured_at"] for i in ids}

    df = history.df()
    assert set(MEASURE_COLUMNS) <= set(df.columns)
    assert str(df["cuts"].dtype) == "Int64" and str(df["motion"].dtype) == "float64"
    by_id = df.set_index("local_id")
    for i in ids:
        assert by_id.loc[i, "flicker"] == pytest.approx(stored[i]["flicker"])

    table = cmp.compare_df(history, comparison.group_id)
    assert list(table["motion"]) == pytest.approx([stored[i]["motion"] for i in ids])
    csv = tmp_path / "c.csv"
    cmp.export_csv(history, comparison.group_id, csv)
    assert list(pd.read_csv(csv)["sharpness"]) == pytest.approx(
        [stored[i]["sharpness"] for i in ids]
    )
    report = cmp.render_html(history, comparison.group_id)
    assert "<h2>Measures</h2>" in report and "first frame match" in report
    # Reading never measures again.
    assert {i: v["measured_at"] for i, v in history.measures_of(ids).items()} == when


async def test_a_video_saved_before_measures_is_measured_on_first_need(
    parts: tuple[Runner, History],
) -> None:
    from kling_studio.history._schema import measures

    runner, history = parts
    comparison = await _comparison(runner)
    ids = [e.local_id or "" for e in comparison.entries]

    def forget(conn: object) -> None:
        conn.execute(measures.delete())  # type: ignore[attr-defined]

    history._run(forget, write=True)  # as if saved by a version without measures
    assert history.measures_of(ids) == {}
    assert history.df()["motion"].isna().all()  # History.df only reads
    table = cmp.compare_df(history, comparison.group_id)
    assert table["motion"].notna().all() and table["first_frame_match"].notna().all()
    assert set(history.measures_of(ids)) == set(ids)


def test_unknown_measure_names_are_refused(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as history, pytest.raises(ValueError, match="unknown"):
        history.set_measures("x", {"blurriness": 1.0}, version=1)
