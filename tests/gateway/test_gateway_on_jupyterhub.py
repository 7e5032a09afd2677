"""The class gateway as a JupyterHub managed service, end to end: a real hub (two users) starts
`kling-studio gateway serve --jupyterhub` with its own service token, students' clients and
studios send their servers' JUPYTERHUB_API_TOKEN as the key, the gateway learns who they are from
the hub, and each sees only their own tasks."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kling_studio import Client, Studio
from kling_studio.client._polling import PollPolicy
from kling_studio.errors import KlingStudioError
from kling_studio.history._store import History
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from ..jupyterhub_server import Hub, free_port, running_hub

UPSTREAM_KEY = "sk-upstream-class-secret-on-the-hub-0123456789"


@pytest.fixture(scope="module")
def upstream() -> Iterator[Simulator]:
    with Simulator(time_scale=0.02, seed=5, api_keys=[UPSTREAM_KEY]) as sim:
        yield sim


@pytest.fixture(scope="module")
def class_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("class") / "class.sqlite3"


@pytest.fixture(scope="module")
def hub_with_gateway(
    upstream: Simulator, class_history: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Hub, str]]:
    """The README's managed-service setup: the hub runs the gateway with `command`."""
    port = free_port()
    service: dict[str, Any] = {
        "name": "kling-gateway",
        "url": f"http://127.0.0.1:{port}",
        "command": [
            sys.executable,
            "-m",
            "kling_studio",
            "gateway",
            "serve",
            "--jupyterhub",
            "--history",
            str(class_history),
            "--port",
            str(port),
            "--upstream",
            upstream.base_url,
        ],
        "environment": {
            "FOXAPI_API_KEY": UPSTREAM_KEY,
            "KLING_STUDIO_HOME": str(tmp_path_factory.mktemp("gateway-home")),
        },
    }
    with running_hub(("ada", "bob"), services=[service]) as hub:
        gateway_url = f"http://127.0.0.1:{port}"
        _wait_for_gateway(hub, gateway_url)
        yield hub, gateway_url


def _wait_for_gateway(hub: Hub, url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/v1/tasks/x", timeout=5).status_code == 401:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the gateway service did not start:\n{hub.log()[-4000:]}")
        time.sleep(0.3)


def saved_record(history: Path, task_id: str) -> Any:
    with History(history) as h:
        return h.by_task_id(task_id)


def test_each_hub_user_sees_only_their_own_tasks(
    hub_with_gateway: tuple[Hub, str], upstream: Simulator, class_history: Path
) -> None:
    hub, gateway = hub_with_gateway
    ada, bob = hub.new_token("ada"), hub.new_token("bob")
    with Client(ada, gateway) as as_ada, Client(bob, gateway) as as_bob:
        adas = as_ada.generate(prompt="ada's lighthouse", image=make_picture(), timeout=120)
        bobs = as_bob.submit(prompt="bob's kite", image=make_picture())
        assert adas.status == "completed"
        assert as_bob.get(bobs.id).id == bobs.id
        with pytest.raises(KlingStudioError) as hidden:
            as_bob.get(adas.id)
        assert "not found" in str(hidden.value).lower()
        with pytest.raises(KlingStudioError):
            as_ada.get(bobs.id)
    assert saved_record(class_history, adas.id).user == "ada"
    assert saved_record(class_history, bobs.id).user == "bob"
    # The upstream saw the class key, never a hub token.
    assert {t["id"] for t in upstream.created_tasks()} >= {adas.id, bobs.id}


def test_tokens_the_hub_does_not_vouch_for_get_401(hub_with_gateway: tuple[Hub, str]) -> None:
    hub, gateway = hub_with_gateway
    for token in ("not-a-hub-token", hub.admin_token):  # unknown; a service is not a student
        answer = httpx.get(
            f"{gateway}/v1/tasks/x", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["type"] == "authentication_error"
    narrow = hub.new_token("ada", ["read:users:name!user"])  # any scopes identify the owner
    answer = httpx.get(
        f"{gateway}/v1/tasks/x", headers={"Authorization": f"Bearer {narrow}"}, timeout=30
    )
    assert answer.status_code == 404  # known to the hub: the task is simply not hers


async def test_a_students_studio_needs_no_code_on_the_hub(
    hub_with_gateway: tuple[Hub, str],
    class_history: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub, gateway = hub_with_gateway
    # What the student's server has: the hub's variables and the teacher's Spawner.environment.
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", hub.new_token("bob"))
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    monkeypatch.setenv("KLING_STUDIO_GATEWAY_URL", gateway)
    studio = Studio(history=tmp_path / "bob.sqlite3")
    try:
        assert studio.backend["mode"] == "gateway"
        assert studio.backend["label"] == f"Class gateway at {gateway} as bob"
        studio.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
        studio.set_image(make_picture())
        studio.update_form(prompt="bob's studio, no code")
        record = await studio.agenerate(timeout=120)
    finally:
        studio.close()
    assert record.status == "completed" and record.user == "bob"
    assert saved_record(class_history, record.task_id).user == "bob"


def test_students_reach_the_gateway_through_the_hubs_proxy(
    hub_with_gateway: tuple[Hub, str], class_history: Path
) -> None:
    """The URL the README gives students: the hub's own address + /services/kling-gateway."""
    hub, _direct = hub_with_gateway
    through_proxy = f"{hub.url}/services/kling-gateway"
    refused = httpx.get(f"{through_proxy}/v1/tasks/x", timeout=30)
    assert refused.status_code == 401  # the gateway's answer, not the proxy's
    assert refused.json()["error"]["type"] == "authentication_error"
    with Client(hub.new_token("ada"), through_proxy) as client:
        task = client.generate(prompt="ada via the proxy", image=make_picture(), timeout=120)
    assert task.status == "completed"
    assert saved_record(class_history, task.id).user == "ada"


def test_a_hub_that_is_down_is_a_503_not_a_401(upstream: Simulator, tmp_path: Path) -> None:
    from .gateways import running_gateway

    hub_env = {
        "JUPYTERHUB_API_URL": f"http://127.0.0.1:{free_port()}/hub/api",  # nobody listens
        "JUPYTERHUB_API_TOKEN": "service-token-of-a-hub-that-is-down",
        "KLING_STUDIO_HOME": str(tmp_path / "home"),
    }
    history = str(tmp_path / "class.sqlite3")
    options = ("--jupyterhub",)
    with running_gateway(history, upstream.base_url, UPSTREAM_KEY, *options, env=hub_env) as gw:
        before = len(upstream.created_tasks())
        student_token = "0123456789abcdef0123456789abcdef"
        answer = httpx.post(
            f"{gw.url}/v1/videos/generations",
            json={"prompt": "x"},
            headers={"Authorization": f"Bearer {student_token}"},
            timeout=30,
        )
        assert answer.status_code == 503, answer.text
        assert "JupyterHub" in answer.json()["error"]["message"]
        assert len(upstream.created_tasks()) == before
    assert student_token not in gw.output()
