"""POST /v1/videos/generations and GET /v1/tasks/{id}: envelopes, keys, bad bodies."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from kling_studio.simulator import Simulator

from .conftest import FAST, MakeSim, client, create

CREATE_KEYS = {"created", "id", "model", "object", "progress", "status", "task_info", "type"}
ID = re.compile(r"^task-unified-(\d+)-[a-z0-9]{8}$")
IMAGE = "http://example.com/start.jpg"


def test_create_answers_the_contract_envelope(shared_api: httpx.Client) -> None:
    before = int(time.time())
    task = create(shared_api, model="kling-v3-image-to-video", prompt="a cat", image_url=IMAGE)
    assert set(task) == CREATE_KEYS
    match = ID.match(task["id"])
    assert match is not None, task["id"]
    assert before - 1 <= task["created"] <= time.time() + 1
    assert int(match.group(1)) == task["created"]
    assert task["model"] == "kling-v3-image-to-video"
    assert task["object"] == "video.generation.task"
    assert task["progress"] == 0
    assert task["status"] == "pending"
    assert task["type"] == "video"
    assert task["task_info"] == {"can_cancel": True, "estimated_time": pytest.approx(45 * FAST)}


def test_model_defaults_to_kling_v3(shared_api: httpx.Client) -> None:
    task = create(shared_api, prompt="a cat", image_url=IMAGE)
    assert task["model"] == "kling-v3-image-to-video"


def test_estimated_time_grows_with_length_and_resolution(shared_api: httpx.Client) -> None:
    def estimate(**extra: object) -> float:
        task = create(shared_api, prompt="x", image_url=IMAGE, **extra)
        value = task["task_info"]["estimated_time"]
        assert isinstance(value, int | float)
        return float(value)

    five, ten = estimate(duration=5), estimate(duration=10)
    assert ten == pytest.approx(2 * five)
    assert five < estimate(resolution="1080p") < estimate(resolution="4k")


def test_estimated_time_is_an_int_when_whole(make_sim: MakeSim) -> None:
    sim = make_sim(time_scale=1.0)
    with client(sim) as api:
        task = create(api, prompt="x", image_url=IMAGE)
    assert task["task_info"]["estimated_time"] == 45
    assert isinstance(task["task_info"]["estimated_time"], int)


def test_ids_are_unique(shared_api: httpx.Client) -> None:
    ids = {create(shared_api, prompt="x", image_url=IMAGE)["id"] for _ in range(20)}
    assert len(ids) == 20


def test_get_returns_the_same_envelope_plus_usage(shared_api: httpx.Client) -> None:
    task = create(shared_api, prompt="x", image_url=IMAGE)
    got = shared_api.get(f"/v1/tasks/{task['id']}", params={"sync_upstream": "true"})
    assert got.status_code == 200
    body = got.json()
    assert set(body) >= CREATE_KEYS
    assert body["id"] == task["id"]
    assert body["created"] == task["created"]
    assert body["status"] in ("pending", "processing")
    assert body["usage"] == {"credits_reserved": 10, "user_group": "default"}


def test_unknown_task_is_404_not_found(shared_api: httpx.Client) -> None:
    response = shared_api.get("/v1/tasks/task-unified-1-nosuchid")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk-wrong"}, {"Authorization": "Basic sk-sim-kling-studio"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_key_is_required(shared_sim: Simulator, headers: dict[str, str]) -> None:
    url = shared_sim.base_url
    with httpx.Client(base_url=url, headers=headers, trust_env=False) as bare:
        answers = [
            bare.post("/v1/videos/generations", json={"prompt": "x", "image_url": IMAGE}),
            bare.get("/v1/tasks/task-unified-1-abcdefgh"),
            bare.post("/v1/files/upload/base64", json={"file_data": "AAAA", "file_name": "a"}),
            bare.post("/v1/files/upload/stream", files={"file": ("a.png", b"x")}),
        ]
    for response in answers:
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["type"] == "authentication_error"
        assert error["message"]


def test_a_rejected_key_creates_nothing(sim: Simulator) -> None:
    with client(sim, key="sk-wrong") as bad:
        assert (
            bad.post("/v1/videos/generations", json={"prompt": "x", "image_url": IMAGE}).status_code
            == 401
        )
    assert sim.created_tasks() == []


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"prompt": "x", ', "application/json"),
        (b"not json at all", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b'["a", "list"]', "application/json"),
        (b'{"prompt": "x", "image_url": "http://example.com/a.jpg"}', "text/plain"),
        (b"prompt=x", "application/x-www-form-urlencoded"),
    ],
    ids=["truncated", "text", "binary", "not-an-object", "text-plain", "form"],
)
def test_bad_json_or_content_type_is_400(
    shared_api: httpx.Client, content: bytes, content_type: str
) -> None:
    response = shared_api.post(
        "/v1/videos/generations", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"]


def test_json_with_charset_is_accepted(shared_api: httpx.Client) -> None:
    response = shared_api.post(
        "/v1/videos/generations",
        content='{"prompt": "猫", "image_url": "http://example.com/a.jpg"}'.encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


def test_created_tasks_keeps_the_exact_body(sim: Simulator, api: httpx.Client) -> None:
    body = {"prompt": "a dog", "image_url": IMAGE, "duration": 10, "extra_field": [1, 2]}
    task = create(api, **body)
    [record] = sim.created_tasks()
    assert record["id"] == task["id"]
    assert record["body"] == body
    assert record["model"] == "kling-v3-image-to-video"
    assert sim.stats()["creates_accepted"] == 1


def test_unknown_route_answers_an_envelope(shared_api: httpx.Client) -> None:
    response = shared_api.get("/v1/nothing/here")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"
