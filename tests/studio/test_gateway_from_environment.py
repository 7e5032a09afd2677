"""A student's studio finds the class gateway with no code in the notebook: the teacher's
KLING_STUDIO_GATEWAY_URL plus the JupyterHub server's own token (JUPYTERHUB_API_TOKEN) as the key.

A simulator that accepts only the hub token stands in for the gateway (it speaks the same
contract), so a task that finishes proves the token went as the key over real HTTP."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_studio import AsyncClient, Studio
from kling_studio.client._polling import PollPolicy
from kling_studio.config import resolve_service
from kling_studio.errors import ConfigurationError
from kling_studio.simulator import Simulator
from kling_studio.studio._snippets import snippets, status_call

from ..conftest import make_picture

HUB_TOKEN = "hub-" + secrets.token_hex(16)


@pytest.fixture
def gateway() -> Iterator[Simulator]:
    with Simulator(time_scale=0.02, seed=3, api_keys={HUB_TOKEN}) as sim:
        yield sim


@pytest.fixture
def on_the_hub(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """What c.Spawner.environment and the hub give a student's server."""
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", HUB_TOKEN)
    monkeypatch.setenv("JUPYTERHUB_USER", "ada")
    monkeypatch.setenv("KLING_STUDIO_USER", "mallory")  # a student's own claim counts for nothing
    return monkeypatch


async def test_the_studio_uses_the_gateway_and_the_hub_token(
    gateway: Simulator, on_the_hub: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    on_the_hub.setenv("KLING_STUDIO_GATEWAY_URL", gateway.base_url + "/")
    studio = Studio(history=tmp_path / "h.sqlite3")
    try:
        assert studio.backend["mode"] == "gateway"
        assert studio.backend["base_url"] == gateway.base_url
        assert studio.backend["label"] == f"Class gateway at {gateway.base_url} as ada"
        state = json.dumps(studio.get_state(), default=str)
        assert HUB_TOKEN not in state and HUB_TOKEN not in repr(studio)
        studio.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
        studio.set_image(make_picture())
        studio.update_form(prompt="through the gateway")
        record = await studio.agenerate(timeout=60)
        assert record.status == "completed"
        assert record.user == "ada"
        assert HUB_TOKEN not in json.dumps(studio.history.df().astype(str).to_dict(), default=str)
    finally:
        studio.close()


def test_a_key_of_ones_own_outranks_the_gateway(on_the_hub: pytest.MonkeyPatch) -> None:
    on_the_hub.setenv("KLING_STUDIO_GATEWAY_URL", "http://127.0.0.1:9/gw")
    on_the_hub.setenv("FOXAPI_API_KEY", "sk-own-key-123456")
    own = resolve_service()
    assert (own.api_key, own.gateway, own.user) == ("sk-own-key-123456", False, None)
    assert own.base_url == "https://api.foxapi.cc"
    # A gateway token of one's own pointed at the gateway: still the gateway, said so.
    on_the_hub.setenv("FOXAPI_BASE_URL", "http://127.0.0.1:9/gw/")
    assert resolve_service().gateway
    # Arguments outrank everything.
    given = resolve_service("sk-argument-123456", "http://127.0.0.1:7")
    assert (given.api_key, given.base_url, given.gateway) == (
        "sk-argument-123456",
        "http://127.0.0.1:7",
        False,
    )


def test_no_gateway_named_changes_nothing(on_the_hub: pytest.MonkeyPatch) -> None:
    # JupyterHub sets JUPYTERHUB_API_TOKEN in every server; it is never sent anywhere unasked.
    plain = resolve_service()
    assert plain.api_key is None and not plain.gateway
    assert AsyncClient().has_key is False


def test_a_gateway_without_a_token_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    monkeypatch.setenv("KLING_STUDIO_GATEWAY_URL", "http://127.0.0.1:9/gw")
    with pytest.raises(ConfigurationError, match=r"FOXAPI_API_KEY.*JUPYTERHUB_API_TOKEN"):
        Studio()
    with pytest.raises(ConfigurationError, match="KLING_STUDIO_GATEWAY_URL"):
        AsyncClient()
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", HUB_TOKEN)
    monkeypatch.setenv("KLING_STUDIO_GATEWAY_URL", "127.0.0.1:9/gw")
    with pytest.raises(ConfigurationError, match="http://") as caught:
        resolve_service()
    assert HUB_TOKEN not in str(caught.value)


def test_the_simulator_when_asked_for_needs_no_gateway(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    monkeypatch.setenv("KLING_STUDIO_GATEWAY_URL", "http://127.0.0.1:9/gw")
    studio = Studio(simulator=True, history=tmp_path / "h.sqlite3", time_scale=0.02)
    try:
        assert studio.backend["mode"] == "simulator"
    finally:
        studio.close()


def test_teaching_snippets_name_the_hub_token_and_run_on_the_gateway(
    gateway: Simulator, on_the_hub: pytest.MonkeyPatch
) -> None:
    """The studio's snippets a student copies work on the hub as they are: the gateway's URL and
    $JUPYTERHUB_API_TOKEN, never its value."""
    on_the_hub.setenv("KLING_STUDIO_GATEWAY_URL", gateway.base_url)
    body = {"model": "kling-v3-image-to-video", "prompt": "a kite", "duration": 5}
    body["image"] = "https://example.invalid/frame.png"
    made = snippets(body)
    assert made.create.url == f"{gateway.base_url}/v1/videos/generations"
    assert '-H "Authorization: Bearer $JUPYTERHUB_API_TOKEN"' in made.curl
    assert 'key = os.environ["JUPYTERHUB_API_TOKEN"]' in made.httpx
    assert HUB_TOKEN not in str(made) and HUB_TOKEN not in json.dumps(made.as_dict())
    status = status_call("task-1")
    assert status.url == f"{gateway.base_url}/v1/tasks/task-1"
    # The copied httpx call reaches the gateway with the server's token (401 if it did not).
    child = {k: v for k, v in os.environ.items() if not k.startswith("FOXAPI_")}
    done = subprocess.run(
        [sys.executable, "-c", status.httpx()],
        env=child | {"JUPYTERHUB_API_TOKEN": HUB_TOKEN},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "404" in done.stderr and "401" not in done.stderr, done.stderr
