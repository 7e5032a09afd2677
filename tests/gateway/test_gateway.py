"""The class gateway as students meet it: a real `gateway serve` process in front of a real
simulator, the real Client with a student's token, and the class history the teacher reads."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kling_studio import BudgetExceeded, Client, Studio
from kling_studio.client._polling import PollPolicy
from kling_studio.gateway import TOKEN_PREFIX, Students
from kling_studio.history._store import History
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from ..studio.test_widget_backend import Recorder, ask
from .gateways import GatewayProcess, running_gateway

UPSTREAM_KEY = "sk-upstream-class-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def upstream() -> Iterator[Simulator]:
    with Simulator(time_scale=0.02, seed=3, api_keys=[UPSTREAM_KEY]) as sim:
        yield sim


@pytest.fixture(scope="module")
def class_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("class") / "class.sqlite3"


@pytest.fixture(scope="module")
def gateway(
    upstream: Simulator, class_history: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    home = tmp_path_factory.mktemp("gateway-home")
    options = ("--timezone", "Asia/Tokyo", "--max-in-flight", "2")
    env = {"KLING_STUDIO_HOME": str(home)}
    with running_gateway(
        str(class_history), upstream.base_url, UPSTREAM_KEY, *options, env=env
    ) as gw:
        yield gw


def add_student(history: Path, name: str, budget: dict[str, Any] | None = None) -> str:
    with History(history, user="teacher") as h:
        token = Students(h).add(name)
        if budget is not None:
            h.set_budget(name, **budget)
    return token


def created_upstream(sim: Simulator) -> list[dict[str, Any]]:
    return sim.created_tasks()


def test_a_student_generates_and_the_class_history_keeps_task_and_video(
    gateway: GatewayProcess, upstream: Simulator, class_history: Path
) -> None:
    token = add_student(class_history, "ada")
    assert token.startswith(TOKEN_PREFIX) and len(token) > 40
    before = len(created_upstream(upstream))
    with Client(token, gateway.url) as client:
        task = client.generate(prompt="a lighthouse at dusk", image=make_picture(), timeout=120)
    assert task.status == "completed" and task.video_url
    assert len(created_upstream(upstream)) == before + 1
    deadline = time.monotonic() + 30
    while True:  # the gateway saves the video a moment after the task ends
        with History(class_history) as h:
            record = h.by_task_id(task.id)
        assert record is not None
        if record.video_path is not None or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert record.user == "ada"
    assert record.video_path is not None and record.video_path.is_file()


@pytest.mark.parametrize("authorization", [None, "Bearer nope", "Bearer kls_unknown", "Basic x"])
def test_missing_or_unknown_tokens_get_401_on_every_route(
    gateway: GatewayProcess, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with httpx.Client(base_url=gateway.url, headers=headers) as http:
        answers = [
            http.post("/v1/videos/generations", json={"prompt": "x"}),
            http.get("/v1/tasks/task-1"),
            http.post("/v1/files/upload/base64", json={"file_data": "aGk="}),
        ]
    for answer in answers:
        assert answer.status_code == 401
        assert answer.json()["error"]["type"] == "authentication_error"


def test_a_revoked_token_is_refused_at_once(gateway: GatewayProcess, class_history: Path) -> None:
    token = add_student(class_history, "rex")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=gateway.url, headers=headers) as http:
        assert http.get("/v1/tasks/no-such-task").status_code == 404  # known: 404, not 401
        with History(class_history, user="teacher") as h:
            assert Students(h).revoke("rex")
        assert http.get("/v1/tasks/no-such-task").status_code == 401


def test_another_students_task_is_not_found(gateway: GatewayProcess, class_history: Path) -> None:
    alice, bob = add_student(class_history, "alice"), add_student(class_history, "bob")
    with Client(alice, gateway.url) as client:
        task = client.submit(prompt="a kite", image=make_picture())
        assert client.get(task.id).id == task.id
    with httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {bob}"}) as http:
        theirs = http.get(f"/v1/tasks/{task.id}")
        odd = [http.get(f"/v1/tasks/{odd}") for odd in ("..%2F..%2Fetc", "%00", "x" * 300)]
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "task_not_found"
    assert [a.status_code for a in odd] == [404, 404, 404]


def test_over_budget_is_a_402_the_client_raises_as_budget_exceeded(
    gateway: GatewayProcess, upstream: Simulator, class_history: Path
) -> None:
    token = add_student(class_history, "bea", {"tasks": 1, "per": "day"})
    with Client(token, gateway.url) as client:
        client.submit(prompt="first", image=make_picture())
        sent = len(created_upstream(upstream))
        with pytest.raises(BudgetExceeded) as refused:
            client.submit(prompt="second", image=make_picture())
    message = str(refused.value)
    assert "1 of 1 tasks used" in message
    assert "teacher" in message  # who can raise it
    assert "JST" in message  # the day ends at midnight of the gateway's --timezone
    assert refused.value.budget.tasks == 1 and refused.value.spent_tasks == 1
    assert len(created_upstream(upstream)) == sent  # nothing was forwarded


async def test_the_studio_shows_the_gateways_budget_refusal_beside_generate(
    gateway: GatewayProcess, upstream: Simulator, class_history: Path, tmp_path: Path
) -> None:
    token = add_student(class_history, "gus", {"tasks": 1, "per": "day"})
    studio = Studio(
        api_key=token,
        base_url=gateway.url,
        history=tmp_path / "gus.sqlite3",
        user="gus",
        resume=False,
    )
    try:
        studio.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
        rec = Recorder()
        studio.send = rec  # type: ignore[method-assign]
        studio.set_image(make_picture())
        studio.update_form(prompt="a red balloon")
        record = await studio.agenerate(timeout=120)
        assert record.status == "completed"
        sent = len(created_upstream(upstream))
        reply = await ask(studio, rec, {"kind": "generate"})
        assert not reply["ok"]
        assert "1 of 1 tasks used" in reply["error"]["message"]
        assert studio.error is None  # beside Generate, not a banner
        assert len(created_upstream(upstream)) == sent
    finally:
        studio.close()


def test_a_voice_is_created_through_the_gateway_for_its_student_alone(
    gateway: GatewayProcess, upstream: Simulator, class_history: Path
) -> None:
    ivy, jon = add_student(class_history, "ivy"), add_student(class_history, "jon")
    before = {t["id"] for t in created_upstream(upstream)}
    with Client(ivy, gateway.url) as client:
        voice_id = client.create_voice("https://example.org/ivy-reading.mp3", timeout=60)
    assert voice_id
    (task,) = [t for t in created_upstream(upstream) if t["id"] not in before]
    assert task["model"] == "kling-video-create-voice"
    theirs = httpx.get(
        f"{gateway.url}/v1/tasks/{task['id']}", headers={"Authorization": f"Bearer {jon}"}
    )
    assert theirs.status_code == 404


def test_max_in_flight_caps_a_students_unfinished_tasks_with_429(
    gateway: GatewayProcess, upstream: Simulator, class_history: Path
) -> None:
    token = add_student(class_history, "cal")
    body = _create_body(gateway, token)
    with httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {token}"}) as http:
        answers = [http.post("/v1/videos/generations", json=body) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert "2 unfinished tasks" in answers[2].json()["error"]["message"]


def _create_body(gateway: GatewayProcess, token: str) -> dict[str, Any]:
    """A create body whose picture was uploaded through the gateway."""
    with httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {token}"}) as http:
        up = http.post(
            "/v1/files/upload/stream",
            files={"file": ("frame.png", make_picture(), "image/png")},
        )
    assert up.status_code == 200, up.text
    return {"model": "kling-v3-image-to-video", "prompt": "waves", "image_url": up.json()["url"]}


def test_a_create_resent_with_its_idempotency_key_is_not_forwarded_twice(
    gateway: GatewayProcess, upstream: Simulator, class_history: Path
) -> None:
    token = add_student(class_history, "dee")
    body = _create_body(gateway, token)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "click-1"}
    before = len(created_upstream(upstream))
    with httpx.Client(base_url=gateway.url, headers=headers) as http:
        first = http.post("/v1/videos/generations", json=body)
        again = http.post("/v1/videos/generations", json=body)
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert len(created_upstream(upstream)) == before + 1


def test_students_polling_are_answered_from_the_journal(
    gateway: GatewayProcess, upstream: Simulator, class_history: Path
) -> None:
    token = add_student(class_history, "eve")
    body = _create_body(gateway, token)
    polls = 0
    with httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {token}"}) as http:
        task_id = http.post("/v1/videos/generations", json=body).json()["id"]
        while True:
            state = http.get(f"/v1/tasks/{task_id}").json()
            polls += 1
            if state["status"] in ("completed", "failed"):
                break
            time.sleep(0.01)
    upstream_gets = next(t["gets"] for t in created_upstream(upstream) if t["id"] == task_id)
    assert polls > 3 * upstream_gets, (polls, upstream_gets)


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"{" * 10, "application/json", 400, "invalid_json"),
        (b"[1, 2]", "application/json", 400, "invalid_json"),
        (b"x" * (2 * 1024 * 1024), "application/json", 413, "file_too_large"),
        (b'{"prompt": "a"}', "text/plain", 400, "invalid_content_type"),
        (
            json.dumps({"prompt": "a", "image_url": "https://x/y.png", "sed": 1}).encode(),
            "application/json",
            422,
            "invalid_parameter",
        ),
    ],
)
def test_bad_creates_get_foxapi_errors_and_change_nothing(
    gateway: GatewayProcess,
    upstream: Simulator,
    class_history: Path,
    content: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    token = add_student(class_history, f"fay-{status}-{len(content)}-{content_type[:4]}")
    before = len(created_upstream(upstream))
    with History(class_history) as h:
        journalled = h.count()
    answer = httpx.post(
        f"{gateway.url}/v1/videos/generations",
        content=content,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    assert len(created_upstream(upstream)) == before
    with History(class_history) as h:
        assert h.count() == journalled


def test_the_upstream_key_appears_nowhere(gateway: GatewayProcess, class_history: Path) -> None:
    """In the class history's every table, and in all the gateway printed (run last: it stops
    the module's gateway)."""
    dump = "\n".join(sqlite3.connect(class_history).iterdump())
    assert "task" in dump
    assert UPSTREAM_KEY not in dump
    assert "kls_" not in dump  # nor any student's token (only their hashes)
    output = gateway.output()
    assert output.startswith("kling-studio gateway on http://")
    assert UPSTREAM_KEY not in output and "kls_" not in output
