"""Judging together in the widget: the `comparison` trait carries the viewer's judgement,
everyone's mean, count and each rater's, and blind judging (`compare_blind`,
studio.compare(blind=True)) shows the viewer's own order, neutral labels and no parameters
until they have rated every variant. A second user's studio opens and rates the comparison."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kling_studio import Studio
from kling_studio import compare as cmp
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from .test_comparison_desk import all_done
from .test_widget_backend import Recorder, ask, wait_for


def _studio(sim: Simulator, path: Path, user: str) -> tuple[Studio, Recorder]:
    s = Studio(api_key=sim.api_key, base_url=sim.base_url, history=path, user=user)
    s.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
    rec = Recorder()
    s.send = rec  # type: ignore[method-assign]
    s.set_image(make_picture())
    s.update_form(prompt="a calm lake", duration=5)
    return s, rec


@pytest.fixture
async def two(
    sim: Simulator, tmp_path: Path
) -> AsyncIterator[tuple[Studio, Recorder, Studio, Recorder]]:
    sim.set_faults(None)
    ada, ada_rec = _studio(sim, tmp_path / "h.sqlite3", "ada")
    bob, bob_rec = _studio(sim, tmp_path / "h.sqlite3", "bob")
    yield ada, ada_rec, bob, bob_rec
    ada.close()
    bob.close()


async def test_a_second_user_rates_a_comparison_blind_and_both_are_shown(
    two: tuple[Studio, Recorder, Studio, Recorder],
) -> None:
    ada, ada_rec, bob, bob_rec = two
    group_id = ada.compare(prompts=["dawn", "dusk"], durations=[5, 10], confirm=True)
    await wait_for(lambda: all_done(ada), 60)
    plain = ada.comparison
    by_id = {v["local_id"]: v["label"] for v in plain["variants"]}
    await ask(
        ada, ada_rec, {"kind": "rate", "local_id": plain["variants"][0]["local_id"], "rating": 5}
    )

    opened = await ask(bob, bob_rec, {"kind": "compare_open", "group_id": group_id})
    assert opened["ok"], opened
    assert bob.comparison["title"] == plain["title"] and bob.comparison["user"] == "bob"
    assert [v["label"] for v in bob.comparison["variants"]] == ["A", "B", "C", "D"]
    switched = await ask(bob, bob_rec, {"kind": "compare_blind", "blind": True})
    assert switched["ok"], switched
    blind = bob.comparison
    assert blind["blind"] and not blind["revealed"] and blind["differing"] == []
    assert all(v["params"] == {} for v in blind["variants"])
    order = [by_id[v["local_id"]] for v in blind["variants"]]
    assert order == [
        e.label for e in cmp.blind_order(ada._desk.get(group_id).entries, "bob", group_id)
    ]
    assert [v["label"] for v in blind["variants"]] == ["A", "B", "C", "D"]
    first = next(v for v in blind["variants"] if by_id[v["local_id"]] == "A")
    assert (first["rating"], first["rating_mean"], first["rating_count"]) == (None, 5.0, 1)
    assert first["raters"] == [{"user": "ada", "rating": 5, "winner": False, "note": ""}]

    for n, v in enumerate(blind["variants"]):
        assert bob.comparison["revealed"] is False
        reply = await ask(
            bob, bob_rec, {"kind": "rate", "local_id": v["local_id"], "rating": 1 + n}
        )
        assert reply["ok"], reply
    shown = bob.comparison
    assert shown["revealed"] and shown["differing"] == ["prompt", "duration"]
    assert [v["local_id"] for v in shown["variants"]] == [v["local_id"] for v in plain["variants"]]
    a = shown["variants"][0]
    assert a["rating_count"] == 2 and [r["user"] for r in a["raters"]] == ["ada", "bob"]
    assert ada.history[a["local_id"]].rating == 5  # bob's ratings never touched ada's
    bad = await ask(bob, bob_rec, {"kind": "compare_blind", "blind": "yes"})
    assert not bad["ok"] and bad["error"]["field"] == "blind"


async def test_compare_blind_true_starts_blind(
    two: tuple[Studio, Recorder, Studio, Recorder],
) -> None:
    ada, _, _, _ = two
    group_id = ada.compare(durations=[5, 10], blind=True)
    await wait_for(lambda: all_done(ada), 60)
    value = ada.comparison
    assert value["blind"] and not value["revealed"] and value["differing"] == []
    assert "duration" not in ada.compare_df(group_id, blind=True).columns
    assert "duration" in ada.compare_df(group_id).columns
    ada.show_comparison(group_id, blind=False)
    assert ada.comparison["blind"] is False and ada.comparison["differing"] == ["duration"]


DAWN, DUSK = "dawn-over-the-xyzzy-lake", "dusk-over-the-plugh-hill"


async def test_nothing_the_widget_sends_tells_blind_variants_apart_until_all_are_rated(
    two: tuple[Studio, Recorder, Studio, Recorder],
) -> None:
    """Every synced trait value and every message from the start of a blind comparison to its
    last rating: no prompt, no card or history row of its tasks (their settings, and the order
    they were sent in, which is the plan's), no way to load their settings."""
    import json

    import traitlets

    ada, rec, _, _ = two
    synced = set(ada.keys)
    traits: list[tuple[str, object]] = []
    ada.observe(
        lambda change: (
            traits.append((change["name"], change["new"])) if change["name"] in synced else None
        ),
        names=traitlets.All,
    )
    start = len(rec.sent)
    ada.compare(prompts=[DAWN, DUSK], durations=[5, 10], confirm=True, blind=True)
    await wait_for(lambda: all_done(ada), 60)
    hidden = {v["local_id"] for v in ada.comparison["variants"]}
    assert len(hidden) == 4

    # What a front end asks while judging.
    snapshot = await ask(ada, rec, {"kind": "snapshot"})
    page = await ask(ada, rec, {"kind": "history", "offset": 0, "limit": 50})
    assert snapshot["ok"] and page["ok"] and page["data"] == {"rows": [], "total": 0}
    assert [c for c in snapshot["data"]["cards"] if c["local_id"] in hidden] == []
    some = next(iter(hidden))
    for peek in (
        {"kind": "load_settings", "local_id": some},
        {"kind": "remix", "local_id": some, "changes": {}},
        {"kind": "stitch", "local_ids": sorted(hidden)},
    ):
        refused = await ask(ada, rec, peek)
        assert not refused["ok"] and "judging blind" in refused["error"]["message"], refused
    variants = ada.comparison["variants"]
    for v in variants[:-1]:
        assert (await ask(ada, rec, {"kind": "rate", "local_id": v["local_id"], "rating": 3}))["ok"]
    assert ada.comparison["revealed"] is False

    def check(text: str, what: str) -> None:
        assert DAWN not in text and DUSK not in text, what

    for msg, _ in rec.sent[start:]:
        check(json.dumps(msg), msg.get("kind", "?"))
        if msg.get("kind") == "task":
            assert msg["card"]["local_id"] not in hidden
    for name, value in [*traits, *((n, getattr(ada, n)) for n in synced)]:
        text = json.dumps(value, default=str)
        check(text, name)
        if name == "comparison" and value:
            assert isinstance(value, dict) and value["differing"] == []
            assert all(v["params"] == {} for v in value["variants"])
        elif name != "comparison":
            assert not any(local_id in text for local_id in hidden), name
    check(ada._fallback.html(), "the saved notebook's fallback")
    assert ada.history_count == 0

    # The last rating reveals: the cards and rows come, and the settings can be loaded.
    sent = len(rec.sent)
    last = variants[-1]["local_id"]
    assert (await ask(ada, rec, {"kind": "rate", "local_id": last, "rating": 4}))["ok"]
    assert ada.comparison["revealed"] is True and ada.history_count == 4
    cards = {m["card"]["local_id"] for m in rec.kinds("task")[-4:]}
    assert cards == hidden and any(m.get("kind") == "task" for m, _ in rec.sent[sent:])
    page = await ask(ada, rec, {"kind": "history", "offset": 0, "limit": 50})
    assert {r["local_id"] for r in page["data"]["rows"]} == hidden
    assert {r["prompt"] for r in page["data"]["rows"]} == {DAWN, DUSK}
    assert (await ask(ada, rec, {"kind": "load_settings", "local_id": some}))["ok"]
