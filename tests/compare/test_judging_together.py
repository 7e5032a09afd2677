"""Judging one comparison together: each person's own rating, everyone's in the table, the
plan as its author made it for a second user, and blind judging (shuffled, neutral labels, no
parameters until the viewer has rated every variant)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kling_studio import AsyncClient
from kling_studio import compare as cmp
from kling_studio.compare._blind import blind_order
from kling_studio.compare._planfile import plans_dir
from kling_studio.history._store import History
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from .test_compare import FAST, HOSTILE, base, parse


@pytest.fixture
async def parts(sim: Simulator, tmp_path: Path) -> AsyncIterator[tuple[Runner, AsyncClient]]:
    """ada's runner on a SQLite history in tmp_path (bob opens the same file)."""
    sim.set_faults(None)
    history = History(tmp_path / "h.sqlite3", user="ada")
    client = AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST)
    runner = Runner(client, history)
    yield runner, client
    await runner.aclose()
    await client.aclose()
    history.close()


async def _grid(parts: tuple[Runner, AsyncClient], **axes: object) -> cmp.Comparison:
    runner, client = parts
    comparison = await cmp.run_grid(
        runner,
        client,
        cmp.plan_grid(base(), **axes),
        title="Lake, by hand",  # type: ignore[arg-type]
    )
    await asyncio.wait_for(comparison.wait(), 60)
    return comparison


async def test_each_rater_has_a_column_and_mine_is_the_rating(
    parts: tuple[Runner, AsyncClient], tmp_path: Path
) -> None:
    comparison = await _grid(parts, durations=[5, 10])
    a, b = (e.local_id or "" for e in comparison.entries)
    with (
        History(tmp_path / "h.sqlite3", user="ada") as ada,
        History(tmp_path / "h.sqlite3", user="bob") as bob,
    ):
        cmp.rate(ada, a, rating=5, winner=True, note="ada's")
        cmp.rate(ada, b, rating=2)
        cmp.rate(bob, a, rating=3, note="bob's")
        mine = cmp.compare_df(bob, comparison.group_id)
        theirs = cmp.compare_df(ada, comparison.group_id)
    assert (
        mine["rating"][0] == 3 and mine["rating"].isna()[1] and list(mine["note"]) == ["bob's", ""]
    )
    assert list(mine["winner"]) == [False, False]
    assert list(theirs["rating"]) == [5, 2] and list(theirs["winner"]) == [True, False]
    for df in (mine, theirs):
        assert list(df["rating_mean"]) == [4.0, 2.0] and list(df["rating_count"]) == [2, 1]
        assert list(df["rating_by_ada"]) == [5, 2]
        assert df["rating_by_bob"][0] == 3 and df["rating_by_bob"].isna()[1]
        assert str(df["rating_by_bob"].dtype) == "Int64"
        assert str(df["rating_count"].dtype) == "Int64"
        assert list(df.columns).index("rating_by_ada") > list(df.columns).index("request_hash")


# Raters named after computed columns, a prefix of the raters' own, blank-looking, unicode,
# with spaces, markup: each keeps a column of their own and the summary stays everyone's.
HOSTILE_RATERS = {
    "mean": (1, 1),
    "count": (1, 1),
    "by_mean": (2, 2),
    "note": (5, 1),
    "\u200b": (3, 3),  # a zero-width space: looks empty, is a name
    "Zoë Ωmega": (4, 2),
    "ada lovelace": (5, 5),
    HOSTILE: (2, 4),
}


async def test_no_rater_name_can_overwrite_the_summary_or_another_column(
    parts: tuple[Runner, AsyncClient], tmp_path: Path
) -> None:
    comparison = await _grid(parts, durations=[5, 10])
    ids = [e.local_id or "" for e in comparison.entries]
    for name, ratings in HOSTILE_RATERS.items():
        with History(tmp_path / "h.sqlite3", user=name) as rater:
            for local_id, rating in zip(ids, ratings, strict=True):
                cmp.rate(rater, local_id, rating=rating, note=f"by {name}")
    a_ratings = [r[0] for r in HOSTILE_RATERS.values()]
    b_ratings = [r[1] for r in HOSTILE_RATERS.values()]
    with History(tmp_path / "h.sqlite3", user="mean") as viewer:
        df = cmp.compare_df(viewer, comparison.group_id)
        csv = cmp.export_csv(viewer, comparison.group_id, tmp_path / "ratings.csv")
    assert list(df["rating_mean"]) == [
        sum(a_ratings) / len(a_ratings),
        sum(b_ratings) / len(b_ratings),
    ]
    assert list(df["rating_count"]) == [len(HOSTILE_RATERS)] * 2
    assert list(df["rating"]) == [1, 1] and list(df["note"]) == ["by mean"] * 2  # the viewer's
    assert len(set(df.columns)) == len(df.columns)
    raters = [c for c in df.columns if c.startswith("rating_by_")]
    assert raters == [f"rating_by_{name}" for name in sorted(HOSTILE_RATERS)]
    for name, ratings in HOSTILE_RATERS.items():
        assert tuple(df[f"rating_by_{name}"]) == ratings
    import pandas as pd

    read = pd.read_csv(csv)
    assert list(read.columns) == list(df.columns)
    assert list(read["rating_mean"]) == list(df["rating_mean"])
    assert list(read["rating_count"]) == [len(HOSTILE_RATERS)] * 2
    assert list(read["rating_by_mean"]) == [1, 1] and list(read["rating_by_count"]) == [1, 1]


async def test_a_second_user_sees_the_plan_its_author_made(
    parts: tuple[Runner, AsyncClient], tmp_path: Path
) -> None:
    runner, client = parts
    await _grid(parts, durations=[5, 10])
    again = await cmp.run_grid(  # all reused: no task of this group holds its variants
        runner, client, cmp.plan_grid(base(), durations=[10, 5]), title="Same, reversed"
    )
    shutil.rmtree(plans_dir(runner.history))  # another machine: none of ada's plan files
    with History(tmp_path / "h.sqlite3", user="bob") as bob:
        plan = cmp.load_plan(bob, again.group_id)
        assert plan.title == "Same, reversed"
        assert [e.to_json() for e in plan.entries] == [e.to_json() for e in again.entries]
        assert all(e.reused for e in plan.entries)
        assert cmp.latest_group_id(bob) == again.group_id
        df = cmp.compare_df(bob, again.group_id)
        assert list(df["label"]) == ["A", "B"] and list(df["duration"]) == [10, 5]


async def test_blind_mode_shuffles_hides_parameters_until_all_are_rated(
    parts: tuple[Runner, AsyncClient], tmp_path: Path
) -> None:
    comparison = await _grid(parts, durations=[5, 10], prompts=["lake", "sea"])
    entries = comparison.entries
    orders = {
        user: [e.label for e in blind_order(entries, user, comparison.group_id)]
        for user in ("ada", "bob", "cy", "dee", "eve")
    }
    assert all(sorted(o) == ["A", "B", "C", "D"] for o in orders.values())
    assert len({tuple(o) for o in orders.values()}) > 1  # each viewer an order of their own
    with History(tmp_path / "h.sqlite3", user="bob") as bob:
        blind = cmp.compare_df(bob, comparison.group_id, blind=True)
        assert list(blind["label"]) == ["A", "B", "C", "D"]  # neutral, in the shown order
        assert "duration" not in blind.columns and "prompt" not in blind.columns
        by_id = {e.local_id: e.label for e in entries}
        assert [by_id[i] for i in blind["local_id"]] == orders["bob"]
        again = cmp.compare_df(bob, comparison.group_id, blind=True)
        assert list(again["local_id"]) == list(blind["local_id"])  # stable
        for n, local_id in enumerate(blind["local_id"][:3]):
            cmp.rate(bob, str(local_id), rating=1 + n)
        assert "duration" not in cmp.compare_df(bob, comparison.group_id, blind=True).columns
        cmp.rate(bob, str(blind["local_id"][3]), rating=5)
        shown = cmp.compare_df(bob, comparison.group_id, blind=True)
    assert list(shown["label"]) == ["A", "B", "C", "D"]
    assert list(shown["local_id"]) == [e.local_id for e in entries]  # the plan's own order
    assert {"duration", "prompt"} <= set(shown.columns)
    with History(tmp_path / "h.sqlite3", user="ada") as ada:  # bob's ratings reveal nothing
        assert "duration" not in cmp.compare_df(ada, comparison.group_id, blind=True).columns


async def test_the_report_shows_mine_the_mean_and_each_rater_as_text(
    parts: tuple[Runner, AsyncClient], tmp_path: Path
) -> None:
    comparison = await _grid(parts, durations=[5, 10])
    a = comparison.entries[0].local_id or ""
    with History(tmp_path / "h.sqlite3", user=HOSTILE) as them:
        cmp.rate(them, a, rating=3)
    with History(tmp_path / "h.sqlite3", user="ada") as ada:
        cmp.rate(ada, a, rating=5)
        text = cmp.render_html(ada, comparison.group_id)
    assert HOSTILE not in text
    shown = "".join(parse(text).text)
    assert "★★★★★" in shown and "mean 4.00 of 2" in shown
    assert f"{HOSTILE} 3" in shown and f"{HOSTILE}: 3, ada: 5" in shown


async def test_the_blind_report_is_shuffled_neutral_and_settingless_until_all_are_rated(
    parts: tuple[Runner, AsyncClient], tmp_path: Path
) -> None:
    lake, sea = "lake-of-xyzzy", "sea-of-plugh"
    comparison = await _grid(parts, durations=[5, 10], prompts=[lake, sea])
    entries = comparison.entries
    order = blind_order(entries, "bob", comparison.group_id)
    assert [e.label for e in order] != [e.label for e in entries]  # a real shuffle for bob
    with History(tmp_path / "h.sqlite3", user="bob") as bob:
        for n, entry in enumerate(order[:3]):  # bob rates in the order he is shown
            cmp.rate(bob, entry.local_id or "", rating=2, note=f"bob-note-{n}")
        path = cmp.export_html(bob, comparison.group_id, tmp_path / "blind.html", blind=True)
        text = path.read_text("utf-8")
        for hidden in (lake, sea, "duration", "time (s)", ">10<", "10 s"):
            assert hidden not in text, hidden
        cells = text.split("<table")[0].split('<div class="cell')[1:]
        assert [c.split('class="label">')[1].split("<")[0] for c in cells] == ["A", "B", "C", "D"]
        written = [f"bob-note-{n}" for n in range(3)]
        notes = [next((note for note in written if note in c), None) for c in cells]
        assert notes == [*written, None]  # his order, not the plan's
        plain = cmp.render_html(bob, comparison.group_id)  # not blind: everything
        assert lake in plain and "duration" in plain
        cmp.rate(bob, order[3].local_id or "", rating=4)
        revealed = cmp.render_html(bob, comparison.group_id, blind=True)
    assert lake in revealed and sea in revealed and "duration" in revealed
