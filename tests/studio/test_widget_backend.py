"""The studio's Python side: messages in, traits and messages out, tasks in flight.

The front end is replaced by recording what the widget sends; the simulator is real.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kling_studio import Studio
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import Simulator

from ..conftest import make_picture


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], list[bytes]]] = []

    def __call__(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        json.dumps(content)  # everything sent must be JSON
        self.sent.append((content, list(buffers or [])))

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [m for m, _ in self.sent if m.get("kind") == kind]

    def reply(self, req_id: str) -> dict[str, Any]:
        found = [m for m in self.kinds("reply") if m["req_id"] == req_id]
        assert len(found) == 1, found
        return found[0]


@pytest.fixture
async def studio(sim: Simulator, tmp_path: Path) -> AsyncIterator[tuple[Studio, Recorder]]:
    sim.set_faults(None)
    s = Studio(api_key=sim.api_key, base_url=sim.base_url, history=tmp_path / "h.sqlite3")
    s.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
    rec = Recorder()
    s.send = rec  # type: ignore[method-assign]
    yield s, rec
    s.close()


async def ask(
    studio: Studio,
    rec: Recorder,
    msg: dict[str, Any],
    buffers: list[bytes] | None = None,
    timeout: float = 30,
) -> dict[str, Any]:
    """Send a front-end message and wait for its one reply."""
    req_id = f"r{len(rec.sent)}-{msg['kind']}"
    studio._on_message(studio, {**msg, "req_id": req_id}, buffers or [])
    for _ in range(int(timeout / 0.01)):
        if any(m["req_id"] == req_id for m in rec.kinds("reply")):
            return rec.reply(req_id)
        await asyncio.sleep(0.01)
    raise AssertionError(f"no reply to {msg['kind']}")


async def wait_for(predicate: Any, timeout: float = 30) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_traits_say_where_requests_go_and_never_hold_the_key(
    studio: tuple[Studio, Recorder], sim: Simulator
) -> None:
    s, _ = studio
    state = json.dumps(s.get_state(), default=str)
    assert sim.api_key not in state
    assert s.backend["mode"] == "foxapi" and s.backend["base_url"] == sim.base_url
    assert s.rules["prompt_max"] == 2500 and s.rules["durations"] == [5, 10]
    assert sim.api_key not in repr(s)


def test_unknown_options_are_refused() -> None:
    with pytest.raises(TypeError):
        Studio(simulator=True, promt="typo")  # type: ignore[call-arg]


async def test_simulator_mode_without_a_key(tmp_path: Path) -> None:
    s = Studio(history=tmp_path / "h.sqlite3", time_scale=0.02)
    assert s.backend["mode"] == "simulator"
    label = s.backend["label"]
    assert label.startswith("Simulator at ") and s.backend["base_url"] in label
    assert "nothing is billed" in label
    assert "sk-" not in json.dumps(s.get_state(), default=str)
    s.close()


async def test_picture_bytes_are_checked_and_described(studio: tuple[Studio, Recorder]) -> None:
    s, rec = studio
    reply = await ask(
        s, rec, {"kind": "set_picture", "slot": "image", "name": "a.png"}, [make_picture(640, 360)]
    )
    assert reply["ok"], reply
    info = reply["data"]
    assert (info["width"], info["height"], info["format"], info["problems"]) == (
        640,
        360,
        "PNG",
        [],
    )
    assert info["thumb"].startswith("data:image/jpeg;base64,")
    assert s.pictures["image"]["name"] == "a.png"
    small = await ask(
        s,
        rec,
        {"kind": "set_picture", "slot": "image_tail", "name": "s.png"},
        [make_picture(200, 900)],
    )
    assert small["ok"] and len(small["data"]["problems"]) == 2  # too small and too tall
    bad = await ask(s, rec, {"kind": "set_picture", "slot": "image", "name": "x.txt"}, [b"hello"])
    assert not bad["ok"] and "not a picture" in bad["error"]["message"]
    assert s.pictures["image"]["name"] == "a.png"  # the good picture was kept
    cleared = await ask(s, rec, {"kind": "clear_picture", "slot": "image_tail"})
    assert cleared["ok"] and s.pictures["image_tail"] is None


async def test_generate_with_a_broken_form_answers_what_to_fix(
    studio: tuple[Studio, Recorder], sim: Simulator
) -> None:
    s, rec = studio
    creates = len(sim.created_tasks())
    no_picture = await ask(s, rec, {"kind": "generate"})
    assert not no_picture["ok"] and no_picture["error"]["field"] == "image"
    await ask(s, rec, {"kind": "set_picture", "slot": "image", "name": "a.png"}, [make_picture()])
    s.form = {**s.form, "prompt": "x" * 2600, "duration": 7}
    reply = await ask(s, rec, {"kind": "generate"})
    assert not reply["ok"]
    assert (
        "2,600 characters" in reply["error"]["message"] and "duration" in reply["error"]["message"]
    )
    assert len(sim.created_tasks()) == creates
    assert s.error is None  # input problems are answers, not backend errors


async def test_generate_runs_to_a_playable_video(studio: tuple[Studio, Recorder]) -> None:
    s, rec = studio
    await ask(s, rec, {"kind": "set_picture", "slot": "image", "name": "a.png"}, [make_picture()])
    s.form = {**s.form, "prompt": "a quiet lake", "duration": 5}
    rev = s.history_rev
    reply = await ask(s, rec, {"kind": "generate"})
    assert reply["ok"], reply
    local_id = reply["data"]["local_id"]

    def card_status() -> str | None:
        cards = [m["card"] for m in rec.kinds("task") if m["card"]["local_id"] == local_id]
        return cards[-1]["status"] if cards and cards[-1]["has_video"] else None

    await wait_for(lambda: card_status() == "completed")
    cards = [m["card"] for m in rec.kinds("task") if m["card"]["local_id"] == local_id]
    assert cards[0]["status"] == "submitting"
    assert {"pending", "completed"} <= {c["status"] for c in cards}
    # Every tick is small; only the card that brings the video adds its poster (a few KB).
    assert all(len(json.dumps(m)) < 1024 for m in rec.kinds("task") if not m["card"]["poster"])
    assert all(len(m["card"]["poster"]) < 16_384 for m in rec.kinds("task") if m["card"]["poster"])
    assert s.history_rev > rev and s.history_count == 1

    video = await ask(s, rec, {"kind": "video", "local_id": local_id})
    assert video["ok"] and video["data"]["url"] is None
    chunks = [(m, b) for m, b in rec.sent if m.get("kind") == "video_chunk"]
    assert len(chunks) == video["data"]["chunks"] >= 1
    data = b"".join(b[0] for _, b in sorted(chunks, key=lambda x: x[0]["seq"]))
    assert len(data) == video["data"]["size"] and data[4:8] == b"ftyp"

    rows = await ask(s, rec, {"kind": "history", "offset": 0, "limit": 10})
    assert rows["data"]["total"] == 1
    row = rows["data"]["rows"][0]
    assert row["status"] == "completed" and row["prompt"] == "a quiet lake" and row["has_video"]

    snap = await ask(s, rec, {"kind": "snapshot"})
    assert snap["data"]["cards"][0]["local_id"] == local_id


async def test_several_tasks_at_once_and_history_df(studio: tuple[Studio, Recorder]) -> None:
    s, _rec = studio
    s.set_image(make_picture())
    ids = [await s.asubmit(prompt=f"variant {i}") for i in range(3)]
    assert s.runner.in_flight == 3
    await s.await_all(60)
    df = s.history_df()
    assert len(df) == 3 and set(df["status"]) == {"completed"}
    assert set(df["prompt"]) == {"variant 0", "variant 1", "variant 2"}
    assert len(set(ids)) == 3


async def test_load_settings_and_remix(studio: tuple[Studio, Recorder]) -> None:
    s, rec = studio
    s.set_image(make_picture())
    s.update_form(prompt="original", negative_prompt="blur", duration=10)
    record = await s.agenerate(timeout=60)
    s.update_form(prompt="something else", duration=5)
    reply = await ask(s, rec, {"kind": "load_settings", "local_id": record.local_id})
    assert reply["ok"]
    assert (s.form["prompt"], s.form["negative_prompt"], s.form["duration"]) == (
        "original",
        "blur",
        10,
    )
    assert s.pictures["image"]["source"] == "url"
    remix = await ask(
        s,
        rec,
        {"kind": "remix", "local_id": record.local_id, "changes": {"prompt": "original, at night"}},
    )
    assert remix["ok"], remix
    await s.await_all(60)
    new = s.history.get(remix["data"]["local_id"])
    assert new is not None and new.prompt == "original, at night" and new.duration == 10
    assert new.payload["image_url"] == record.payload["image_url"]


async def test_backend_errors_show_next_to_the_widget(studio: tuple[Studio, Recorder]) -> None:
    s, rec = studio
    reply = await ask(s, rec, {"kind": "video", "local_id": "nope"})
    assert not reply["ok"]
    unknown = await ask(s, rec, {"kind": "launch_rockets"})
    assert not unknown["ok"] and "unknown message kind" in unknown["error"]["message"]

    async def boom() -> None:
        raise RuntimeError("the disk is full")

    s._spawn(boom())
    await wait_for(lambda: s.error is not None)
    assert "the disk is full" in s.error["message"]


async def test_a_progress_tick_stays_small_with_a_big_history(
    studio: tuple[Studio, Recorder],
) -> None:
    s, rec = studio
    s.set_image(make_picture())
    for i in range(300):
        s.history.journal_submit(
            await s._engine.arun(s.client.prepare(s.request(prompt=f"old {i}")))
        )
    rec.sent.clear()
    await s.agenerate(prompt="tick", timeout=60)
    ticks = rec.kinds("task")
    assert ticks and max(len(json.dumps(m)) for m in ticks if not m["card"]["poster"]) < 1024
    assert {m["card"]["status"] for m in ticks if m["card"]["poster"]} == {"completed"}
    assert not [m for m, _ in rec.sent if m.get("kind") != "task"]
