"""Studio.batch and plan_batch: a DataFrame of rows, the form's values for empty cells, the
batch shown as a comparison, its summary, and the same table again paying nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from kling_studio import InputError, Studio
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from .test_widget_backend import Recorder


@pytest.fixture
def studio(sim: Simulator, tmp_path: Path) -> Iterator[Studio]:
    sim.set_faults(None)
    s = Studio(api_key=sim.api_key, base_url=sim.base_url, history=tmp_path / "h.sqlite3")
    s.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
    s.send = Recorder()  # type: ignore[method-assign]
    s.set_image(make_picture())
    s.update_form(prompt="a {animal} by a lake", duration=5)
    yield s
    s.close()


def creates(sim: Simulator) -> int:
    return len(sim.created_tasks())


def test_a_dataframe_batch_takes_the_form_for_empty_cells_and_shows_a_comparison(
    studio: Studio, sim: Simulator
) -> None:
    table = pd.DataFrame({"animal": ["fox", "owl", "cat"], "duration": [10, None, 5]})
    before = creates(sim)
    assert studio.plan_batch(table)["send"] == 3 and creates(sim) == before  # nothing sent
    result = studio.batch(table, progress=False)
    assert creates(sim) - before == 3
    assert list(result["animal"]) == ["fox", "owl", "cat"]
    assert list(result["status"]) == ["completed"] * 3
    records = [studio.history[i] for i in result["local_id"]]
    assert [r.prompt for r in records] == [
        "a fox by a lake",
        "a owl by a lake",  # the template is filled in literally
        "a cat by a lake",
    ]
    assert [r.duration for r in records] == [10, 5, 5]
    assert result["motion"].notna().all() and str(result["cuts"].dtype) == "Int64"
    shown = studio.comparison
    assert shown is not None and [v["local_id"] for v in shown["variants"]] == list(
        result["local_id"]
    )
    summary = studio.compare_summary()
    assert summary.axis_names == ["prompt", "duration"]

    again = studio.batch(table, progress=False)
    assert creates(sim) - before == 3  # every row reused
    assert list(again["local_id"]) == list(result["local_id"])
    assert studio.plan_batch(table)["reuse"] == 3


def test_bad_rows_of_a_dataframe_are_named_by_index_before_anything_is_sent(
    studio: Studio, sim: Simulator
) -> None:
    table = pd.DataFrame({"animal": ["fox", None], "duration": [7, 5]}, index=pd.Index([10, 11]))
    before = (creates(sim), int(sim.stats()["requests"].get("upload", 0)))
    with pytest.raises(InputError) as caught:
        studio.batch(table, progress=False)
    text = str(caught.value)
    assert "2 problems" in text
    assert "row 10: duration: must be 5 or 10 seconds (an integer); got 7" in text
    assert "row 11: prompt: {animal} is used by the prompt but this row's animal is empty" in text
    assert (creates(sim), int(sim.stats()["requests"].get("upload", 0))) == before


def test_history_df_measures_older_videos_when_asked(studio: Studio) -> None:
    from kling_studio.history._schema import measures

    result = studio.batch(pd.DataFrame({"animal": ["hen"]}), progress=False)
    local_id = str(result["local_id"][0])

    def forget(conn: object) -> None:
        conn.execute(measures.delete())  # type: ignore[attr-defined]

    studio.history._run(forget, write=True)  # as if saved before measures existed
    row = studio.history_df().set_index("local_id").loc[local_id]
    assert pd.isna(row["motion"])  # a plain read measures nothing
    row = studio.history_df(measure=True).set_index("local_id").loc[local_id]
    assert not pd.isna(row["motion"]) and not pd.isna(row["first_frame_match"])
