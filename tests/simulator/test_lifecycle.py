"""A task's life: pending -> processing -> completed or failed, results in every shape, voices,
balance."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from kling_studio.simulator import Simulator

from .conftest import MakeSim, client, create, picture, upload, wait_done

ORDER = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}


def poll(
    api: httpx.Client, task_id: str, timeout: float = 15
) -> list[tuple[float, dict[str, Any]]]:
    """Every reading until the task finishes, with the local time it was taken."""
    readings = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = api.get(f"/v1/tasks/{task_id}").json()
        readings.append((time.monotonic(), task))
        if task["status"] in ("completed", "failed"):
            return readings
        time.sleep(0.015)
    raise AssertionError("task did not finish")


def test_lifecycle_is_monotonic_and_honest(make_sim: MakeSim) -> None:
    sim = make_sim(time_scale=0.05, seed=3)
    with client(sim) as api:
        url = upload(api, picture((200, 120, 40)))
        started = time.monotonic()
        task = create(api, prompt="sunrise", image_url=url)
        readings = poll(api, task["id"])
    statuses = [r[1]["status"] for r in readings]
    progress = [r[1]["progress"] for r in readings]
    trace = [
        (round(t - started, 3), s, p)
        for (t, _), s, p in zip(readings, statuses, progress, strict=True)
    ]

    assert statuses[-1] == "completed", trace
    assert "processing" in statuses
    assert [ORDER[s] for s in statuses] == sorted(ORDER[s] for s in statuses), trace
    assert progress == sorted(progress), trace
    assert all(p == 0 for p, s in zip(progress, statuses, strict=True) if s == "pending")
    assert all(p <= 99 for p, s in zip(progress, statuses, strict=True) if s != "completed")
    assert progress[-1] == 100
    assert len(set(progress)) > 10

    estimate = task["task_info"]["estimated_time"]
    took = readings[-1][0] - started
    assert 0.6 * estimate <= took <= 1.5 * estimate + 0.3, (estimate, trace)

    # Two readings let a client predict the end: check that prediction.
    working = [(t, r["progress"]) for t, r in readings if r["status"] == "processing"]
    (t1, p1) = next(x for x in working if x[1] >= 20)
    (t2, p2) = next(x for x in working if x[1] >= 60)
    predicted = t2 + (t2 - t1) * (100 - p2) / (p2 - p1)
    assert abs(predicted - readings[-1][0]) < 0.25 * took, (p1, p2, predicted - started, trace)


def test_a_new_task_is_pending_at_first(make_sim: MakeSim) -> None:
    sim = make_sim(time_scale=1.0)  # "pending" lasts at least 3 % of ~45 s
    with client(sim) as api:
        task = create(api, prompt="x", image_url="http://example.com/a.jpg")
        got = api.get(f"/v1/tasks/{task['id']}").json()
    assert (got["status"], got["progress"]) == ("pending", 0)


def test_true_durations_scatter_around_the_estimate(make_sim: MakeSim) -> None:
    # Voice tasks: no render to wait for, so completion times show the simulated durations.
    sim = make_sim(time_scale=0.05, seed=4)
    body = {"model": "kling-video-create-voice", "voice_url": "http://example.com/v.mp3"}
    with client(sim) as api:
        started = time.monotonic()
        tasks = [create(api, **body) for _ in range(8)]
        estimate = tasks[0]["task_info"]["estimated_time"]
        took: dict[str, float] = {}
        while len(took) < len(tasks) and time.monotonic() - started < 10:
            for task in (t for t in tasks if t["id"] not in took):
                if api.get(f"/v1/tasks/{task['id']}").json()["status"] == "completed":
                    took[task["id"]] = time.monotonic() - started
            time.sleep(0.01)
    assert len(took) == len(tasks)
    assert all(0.65 * estimate <= t <= 1.4 * estimate + 0.1 for t in took.values()), took
    assert max(took.values()) - min(took.values()) > 0.1 * estimate, took


def test_completed_results_in_every_shape(sim: Simulator, api: httpx.Client, red_url: str) -> None:
    task = wait_done(api, create(api, prompt="x", image_url=red_url)["id"])
    video = f"{sim.base_url}/videos/{task['id']}.mp4"
    assert task["results"] == [{"url": video, "width": 320, "height": 180}]
    assert "output" not in task

    def shape(name: str) -> dict[str, Any]:
        sim.result_shape = name
        got: dict[str, Any] = api.get(f"/v1/tasks/{task['id']}").json()
        assert got["status"] == "completed" and got["progress"] == 100
        return got

    assert shape("strings")["results"] == [video]
    assert shape("video_url")["results"] == [{"video_url": video}]
    older = shape("output")
    assert "results" not in older
    assert older["output"] == {
        "url": video,
        "urls": [video],
        "duration": 5.0,
        "width": 320,
        "height": 180,
    }
    assert httpx.get(video, trust_env=False).status_code == 200


def test_mixed_shapes_vary_per_task_and_stay_put(make_sim: MakeSim) -> None:
    sim = make_sim(result_shape="mixed", seed=5)
    with client(sim) as api:
        url = upload(api, picture((90, 90, 90)))
        ids = [create(api, prompt="same clip", image_url=url)["id"] for _ in range(8)]
        kinds = set()
        for task_id in ids:
            first = wait_done(api, task_id)
            assert api.get(f"/v1/tasks/{task_id}").json() == first
            kinds.add(describe(first))
    assert len(kinds) >= 2
    assert sim.stats()["renders"]["renders"] == 1  # eight identical requests, one render


def describe(task: dict[str, Any]) -> str:
    if "output" in task:
        return "output"
    item = task["results"][0]
    return "strings" if isinstance(item, str) else next(iter(item))


def test_fail_fault_ends_the_task_failed(make_sim: MakeSim) -> None:
    sim = make_sim(faults="fail=1", time_scale=0.02)
    with client(sim) as api:
        task = create(api, prompt="x", image_url="http://example.com/a.jpg")
        readings = poll(api, task["id"])
    final = readings[-1][1]
    assert final["status"] == "failed"
    assert "results" not in final and "output" not in final
    assert final["progress"] < 100
    error = final["error"]
    assert set(error) == {"code", "message", "type"}
    assert error["type"] == "task_error"
    assert error["code"] in ("content_policy_violation", "upstream_error", "image_fetch_failed")
    assert error["message"]
    assert sim.stats()["faults"] == {"fail": 1}
    assert sim.stats()["renders"]["renders"] == 0  # a doomed task costs no render


BAD_PICTURES = [
    ("small", picture((1, 2, 3), (200, 200)), "invalid_image", "200x200"),
    ("narrow-side", picture((1, 2, 3), (1000, 299)), "invalid_image", "300"),
    ("too-wide", picture((1, 2, 3), (900, 300)), "invalid_image", "aspect"),
    ("too-tall", picture((1, 2, 3), (320, 810)), "invalid_image", "aspect"),
    ("gif", picture((1, 2, 3), fmt="GIF"), "invalid_image", "GIF"),
    ("webp", picture((1, 2, 3), fmt="WEBP"), "invalid_image", "WEBP"),
    ("garbage", b"\x89PNG\r\n\x1a\n not really a png", "invalid_image", "decoded"),
    ("text", b"hello world", "invalid_image", "decoded"),
]


def test_bad_pictures_fail_the_task_saying_why(sim: Simulator, api: httpx.Client) -> None:
    tasks = {}
    for name, data, _, _ in BAD_PICTURES:
        url = upload(api, data, f"{name}.png")
        tasks[name] = create(api, prompt="x", image_url=url)["id"]
    for name, _, code, words in BAD_PICTURES:
        final = wait_done(api, tasks[name])
        assert final["status"] == "failed", name
        assert final["error"]["code"] == code, name
        assert final["error"]["type"] == "task_error"
        assert words in final["error"]["message"], (name, final["error"]["message"])
        assert "image_url" in final["error"]["message"]


def test_a_bad_tail_picture_is_named(api: httpx.Client, red_url: str) -> None:
    tail = upload(api, picture((0, 0, 0), (100, 100)), "tiny.png")
    final = wait_done(api, create(api, prompt="x", image_url=red_url, image_tail_url=tail)["id"])
    assert final["status"] == "failed"
    assert "image_tail_url" in final["error"]["message"]


def test_jpeg_is_accepted(api: httpx.Client) -> None:
    url = upload(api, picture((10, 10, 200), (400, 900), fmt="JPEG"), "tall.jpg")
    assert wait_done(api, create(api, prompt="x", image_url=url)["id"])["status"] == "completed"


def test_missing_upload_fails_with_fetch_error(sim: Simulator, api: httpx.Client) -> None:
    url = f"{sim.base_url}/files/file-000000000000000000000000/gone.png"
    final = wait_done(api, create(api, prompt="x", image_url=url)["id"])
    assert final["status"] == "failed"
    assert final["error"]["code"] == "image_fetch_failed"
    assert "404" in final["error"]["message"]


VOICE_ID = re.compile(r"^voice_[0-9a-f]+$")


def test_voice_task(api: httpx.Client, red_url: str) -> None:
    task = create(api, model="kling-video-create-voice", voice_url="http://example.com/me.mp3")
    assert task["model"] == "kling-video-create-voice"
    assert task["status"] == "pending"
    assert task["task_info"]["estimated_time"] > 0
    final = wait_done(api, task["id"])
    assert final["status"] == "completed"
    [item] = final["results"]
    assert VOICE_ID.match(item["voice_id"])
    video = create(
        api,
        prompt="<<<voice_1>>> says hello",
        image_url=red_url,
        generate_audio=True,
        voice_ids=[item["voice_id"]],
    )
    assert video["status"] == "pending"


@pytest.mark.parametrize(
    ("extra", "credits"),
    [
        ({}, 10),
        ({"duration": 10}, 20),
        ({"resolution": "1080p"}, 15),
        ({"generate_audio": True}, 12),
        ({"resolution": "1080p", "duration": 10, "generate_audio": True}, 36),
        ({"resolution": "4k", "duration": 10, "generate_audio": True}, 60),
    ],
)
def test_credits_reserved(shared_api: httpx.Client, extra: dict[str, Any], credits: int) -> None:
    task = create(shared_api, prompt="x", image_url="http://example.com/a.jpg", **extra)
    usage = shared_api.get(f"/v1/tasks/{task['id']}").json()["usage"]
    assert usage == {"credits_reserved": credits, "user_group": "default"}


def test_balance_runs_out_with_402(make_sim: MakeSim) -> None:
    sim = make_sim(balance=25)
    body = {"prompt": "x", "image_url": "http://example.com/a.jpg"}
    with client(sim) as api:
        create(api, **body)  # 10
        create(api, **body, resolution="1080p")  # 15
        response = api.post("/v1/videos/generations", json=body)
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["type"] == "insufficient_quota"
    assert "10" in error["message"]
    assert len(sim.created_tasks()) == 2
    assert sim.balance == 0
    sim.balance = None
    with client(sim) as api:
        assert api.post("/v1/videos/generations", json=body).status_code == 200
