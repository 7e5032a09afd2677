"""The studio's comparison side: `compare_*` and `rate` messages in, the `comparison` trait out.

Same approach as test_widget_backend.py: the front end is replaced by recording what the widget
sends; the simulator is real.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kling_studio import InputError, Studio
from kling_studio import compare as cmp
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import Simulator
from kling_studio.studio._desk import short_value

from ..conftest import make_picture
from .test_widget_backend import Recorder, ask, wait_for

AXES_2X2 = {"prompts": ["a calm lake", "a stormy sea"], "durations": [5, 10]}


@pytest.fixture
async def desk(sim: Simulator, tmp_path: Path) -> AsyncIterator[tuple[Studio, Recorder]]:
    """A studio with a first frame and a prompt set, its trait changes recorded."""
    sim.set_faults(None)
    s = Studio(api_key=sim.api_key, base_url=sim.base_url, history=tmp_path / "h.sqlite3")
    s.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
    rec = Recorder()
    s.send = rec  # type: ignore[method-assign]
    s.set_image(make_picture())
    s.update_form(prompt="a calm lake", duration=5)
    yield s, rec
    sim.set_faults(None)
    s.close()


def creates(sim: Simulator) -> int:
    return len(sim.created_tasks())


def uploads(sim: Simulator) -> int:
    return int(sim.stats()["requests"].get("upload", 0))


def all_done(s: Studio) -> bool:
    value = s.comparison
    return value is not None and all(
        v["status"] == "completed" and v["has_video"] for v in value["variants"]
    )


async def test_a_plan_is_counted_and_described_without_sending_anything(
    desk: tuple[Studio, Recorder], sim: Simulator
) -> None:
    s, rec = desk
    before = (creates(sim), uploads(sim))
    reply = await ask(s, rec, {"kind": "compare_plan", "axes": AXES_2X2})
    assert reply["ok"], reply
    data = reply["data"]
    assert data["count"] == 4 and data["reused"] == 0 and data["confirm_above"] == 4
    assert data["differing"] == ["prompt", "duration"]
    assert data["variants"][1] == {
        "label": "B",
        "params": {"prompt": "a calm lake", "duration": 10},
    }
    assert (creates(sim), uploads(sim)) == before
    empty = await ask(s, rec, {"kind": "compare_plan", "axes": {}})
    assert empty["ok"] and empty["data"]["count"] == 1 and empty["data"]["differing"] == []


async def test_plan_problems_are_answers_with_a_field(desk: tuple[Studio, Recorder]) -> None:
    s, rec = desk
    cases = [
        ({"prompts": "not a list"}, "prompts"),
        ({"durations": [5, 7]}, "duration"),
        ({"durations": [5, 5.5]}, "durations"),
        ({"durations": [True]}, "durations"),
        ({"colours": ["red"]}, "axes"),
        ({"use_tail": [True, False]}, "image_tail"),  # no last frame picked
    ]
    for axes, field in cases:
        reply = await ask(s, rec, {"kind": "compare_plan", "axes": axes})
        assert not reply["ok"] and reply["error"]["field"] == field, (axes, reply)
    no_axes = await ask(s, rec, {"kind": "compare_plan"})
    assert not no_axes["ok"] and no_axes["error"]["field"] == "axes"
    s.set_image_tail(None)
    s._clear_picture("image")
    no_picture = await ask(s, rec, {"kind": "compare_plan", "axes": AXES_2X2})
    assert not no_picture["ok"] and no_picture["error"]["field"] == "image"
    assert s.error is None  # input problems are answers, not backend errors


async def test_a_big_grid_needs_confirmation(desk: tuple[Studio, Recorder], sim: Simulator) -> None:
    s, rec = desk
    axes = {"prompts": ["a", "b", "c"], "durations": [5, 10]}
    before = creates(sim)
    refused = await ask(s, rec, {"kind": "compare_run", "axes": axes, "confirmed": False})
    assert not refused["ok"] and refused["error"]["field"] == "confirmed"
    assert "this grid makes 6 tasks (6 paid requests)" in refused["error"]["message"]
    with pytest.raises(InputError) as caught:
        s.compare(prompts=["a", "b", "c"], durations=[5, 10])
    assert str(caught.value) == (
        "confirmed: this grid makes 6 tasks (6 paid requests); pass confirm=True"
    )
    assert creates(sim) == before and s.comparison is None
    loose = await ask(s, rec, {"kind": "compare_run", "axes": axes, "confirmed": "yes"})
    assert not loose["ok"]  # only a real true confirms


async def test_a_run_fills_the_trait_on_status_changes_only(
    desk: tuple[Studio, Recorder], sim: Simulator
) -> None:
    s, rec = desk
    values: list[dict[str, Any]] = []
    s.observe(lambda change: values.append(change["new"]), names="comparison")
    before = creates(sim)
    reply = await ask(s, rec, {"kind": "compare_run", "axes": AXES_2X2, "confirmed": False})
    assert reply["ok"], reply
    group_id = reply["data"]["group_id"]
    await wait_for(lambda: all_done(s), 60)
    assert creates(sim) - before == 4
    # Each video is measured just after it is shown; the trait brings the numbers then.
    await wait_for(lambda: all(v["measures"] for v in (s.comparison or {})["variants"]), 30)

    value = s.comparison
    assert value is not None
    assert value["group_id"] == group_id and value["confirm_above"] == 4
    assert value["differing"] == ["prompt", "duration"] and value["title"]
    assert [v["label"] for v in value["variants"]] == ["A", "B", "C", "D"]
    first = value["variants"][0]
    assert first["params"] == {"prompt": "a calm lake", "duration": 5}
    for variant in value["variants"]:  # each cell shows its video's poster
        poster = s.history[variant["local_id"]].poster_path
        assert poster is not None
        assert variant["poster"] == "data:image/jpeg;base64," + base64.b64encode(
            poster.read_bytes()
        ).decode("ascii")
    assert set(first) == {
        "local_id",
        "label",
        "params",
        "status",
        "progress",
        "has_video",
        "poster",
        "reused",
        "rating",
        "winner",
        "note",
        "rating_mean",
        "rating_count",
        "raters",
        "error",
        "measures",
    }
    # Every saved video was measured when it was saved; the summary comes once all are done.
    assert all(v["measures"] and v["measures"]["motion"] is not None for v in value["variants"])
    assert value["summary"] is not None
    assert [a["axis"] for a in value["summary"]["axes"]] == ["prompt", "duration"]
    assert (first["reused"], first["rating"], first["winner"], first["note"]) == (
        False,
        None,
        False,
        "",
    )
    json.dumps(value)
    # Off the hot path: fewer trait values than task messages, and never the same one twice.
    ticks = [
        m for m in rec.kinds("task") if m["card"]["local_id"] in s.history.df()["local_id"].values
    ]
    assert len(values) < len(ticks)
    assert all(a != b for a, b in itertools.pairwise(values))
    # Each variant's status only moves forward through the values shown.
    order = ["queued", "submitting", "pending", "processing", "completed"]
    for index in range(4):
        seen = [order.index(v["variants"][index]["status"]) for v in values if v]
        assert seen == sorted(seen) and seen[-1] == order.index("completed")


async def test_ratings_from_the_front_end_are_stored_and_shown(
    desk: tuple[Studio, Recorder],
) -> None:
    s, rec = desk
    group_id = s.compare(durations=[5, 10])
    await wait_for(lambda: all_done(s), 60)
    a = s.comparison["variants"][0]["local_id"]
    reply = await ask(s, rec, {"kind": "rate", "local_id": a, "rating": 4, "winner": True})
    assert reply["ok"], reply
    await ask(s, rec, {"kind": "rate", "local_id": a, "note": "smooth <i>pan</i>"})
    shown = s.comparison["variants"][0]
    assert (shown["rating"], shown["winner"], shown["note"]) == (4, True, "smooth <i>pan</i>")
    record = s.history[a]
    assert (record.rating, record.winner, record.note) == (4, True, "smooth <i>pan</i>")

    cleared = await ask(s, rec, {"kind": "rate", "local_id": a, "rating": None})
    assert cleared["ok"]
    shown = s.comparison["variants"][0]
    assert (shown["rating"], shown["winner"], shown["note"]) == (None, True, "smooth <i>pan</i>")

    for bad, field in (
        ({"rating": 9}, "rating"),
        ({"winner": "yes"}, "winner"),
        ({"note": 5}, "note"),
        ({}, "local_id"),
    ):
        msg = {"kind": "rate", "local_id": a, **bad} if bad else {"kind": "rate"}
        answer = await ask(s, rec, msg)
        assert not answer["ok"] and answer["error"]["field"] == field, answer

    s.rate(s.comparison["variants"][1]["local_id"], rating=2, note="jittery")
    df = s.compare_df()
    assert list(df["label"]) == ["A", "B"] and pd.isna(df["rating"][0]) and df["rating"][1] == 2
    assert s.compare_df(group_id)["note"].tolist() == ["smooth <i>pan</i>", "jittery"]


async def test_the_same_grid_again_is_reused(desk: tuple[Studio, Recorder], sim: Simulator) -> None:
    s, rec = desk
    await ask(s, rec, {"kind": "compare_run", "axes": AXES_2X2})
    await wait_for(lambda: all_done(s), 60)
    first = [v["local_id"] for v in s.comparison["variants"]]
    before = (creates(sim), uploads(sim), s.history_count)
    plan = await ask(s, rec, {"kind": "compare_plan", "axes": AXES_2X2})
    assert plan["data"]["reused"] == 4
    again = await ask(s, rec, {"kind": "compare_run", "axes": AXES_2X2})
    assert again["ok"]
    value = s.comparison
    assert value["group_id"] == again["data"]["group_id"]
    assert [v["local_id"] for v in value["variants"]] == first
    assert all(v["reused"] and v["status"] == "completed" for v in value["variants"])
    assert (creates(sim), uploads(sim), s.history_count) == before


async def test_open_shows_an_earlier_comparison(desk: tuple[Studio, Recorder]) -> None:
    s, rec = desk
    group_id = s.compare(prompts=["dawn", "dusk"])
    await wait_for(lambda: all_done(s), 60)
    s.comparison = None
    reply = await ask(s, rec, {"kind": "compare_open", "group_id": group_id})
    assert reply["ok"] and s.comparison is not None
    assert s.comparison["group_id"] == group_id
    assert [v["params"] for v in s.comparison["variants"]] == [
        {"prompt": "dawn"},
        {"prompt": "dusk"},
    ]
    missing = await ask(s, rec, {"kind": "compare_open", "group_id": "no-such-group"})
    assert not missing["ok"] and missing["error"]["field"] == "group_id"
    bad = await ask(s, rec, {"kind": "compare_open", "group_id": "../../etc"})
    assert not bad["ok"] and bad["error"]["field"] == "group_id"


async def test_with_and_without_the_last_frame(desk: tuple[Studio, Recorder]) -> None:
    s, rec = desk
    await ask(
        s,
        rec,
        {"kind": "set_picture", "slot": "image_tail", "name": "dusk.png"},
        [make_picture(640, 360, (10, 10, 80))],
    )
    reply = await ask(s, rec, {"kind": "compare_plan", "axes": {"use_tail": [True, False]}})
    assert reply["ok"], reply
    assert reply["data"]["differing"] == ["image_tail"]
    assert [v["params"] for v in reply["data"]["variants"]] == [
        {"image_tail": "dusk.png"},
        {"image_tail": "none"},
    ]


async def test_python_api_runs_exports_and_explains(
    desk: tuple[Studio, Recorder], sim: Simulator, tmp_path: Path
) -> None:
    s, _rec = desk
    plan = s.plan_comparison(prompts=["lake", "sea"], durations=[5, 10])
    assert plan["count"] == 4 and plan["reused"] == 0
    group_id = s.compare(prompts=["lake", "sea"], durations=[5, 10], max_concurrency=2)
    s.wait_all(timeout=60)
    df = s.compare_df()
    assert list(df["status"]) == ["completed"] * 4 and df["video_path"].notna().all()
    assert s.export_comparison(tmp_path / "ab.csv").is_file()
    html_path = s.export_comparison(tmp_path / "ab.html", group_id=group_id)
    assert html_path.read_text("utf-8").count("data:image/jpeg;base64,") == 4
    with pytest.raises(InputError, match=r"\.csv or \.html"):
        s.export_comparison(tmp_path / "ab.xlsx")

    snip = s.snippets(df["local_id"][0])
    text = str(snip)
    assert f"{sim.base_url}/v1/videos/generations" in text and "$FOXAPI_API_KEY" in text
    assert sim.api_key not in text and sim.api_key not in snip._repr_markdown_()
    with pytest.raises(InputError):
        s.snippets("nope")

    pictures = s.plan_comparison(images=[make_picture(), make_picture(color=(0, 90, 0))])
    assert pictures["count"] == 2 and pictures["differing"] == ["image"]
    s.show_comparison(group_id)
    assert s.comparison is not None and s.comparison["group_id"] == group_id


async def test_no_comparison_yet_is_a_clear_error(desk: tuple[Studio, Recorder]) -> None:
    s, _ = desk
    with pytest.raises(InputError, match="no comparison yet"):
        s.compare_df()


def test_cells_show_short_values() -> None:
    assert short_value(None) == "none" and short_value("") == "none"
    assert short_value(10) == 10 and short_value(True) is True
    assert short_value("x" * 500).endswith("…") and len(str(short_value("x" * 500))) == 160
    assert short_value([{"prompt": "dawn", "duration": 2}, {"prompt": "dusk", "duration": 3}]) == (
        "dawn (2 s) | dusk (3 s)"
    )
    assert short_value(["v1", "v2"]) == "v1 | v2"
    assert cmp.CONFIRM_ABOVE == 4
