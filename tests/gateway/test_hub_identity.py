"""HubIdentity against a real JupyterHub on loopback: each user's token (with a single-user
server's scopes) maps to that user, an unknown or a service's token to nobody, answers are cached
by the token's hash, and a hub that does not answer is an error of its own, not "unknown"."""

from __future__ import annotations

import asyncio

import pytest

from kling_studio.errors import ConfigurationError
from kling_studio.gateway._hub import CACHE_SECONDS, HubIdentity, HubUnavailable

from ..jupyterhub_server import Hub, free_port


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def identity(hub: Hub, clock: Clock | None = None) -> HubIdentity:
    return HubIdentity(api_url=hub.api_url, api_token=hub.admin_token, clock=clock or Clock())


async def test_each_users_token_maps_to_that_user(hub: Hub) -> None:
    ada, bob = hub.new_token("ada"), hub.new_token("bob")
    who = identity(hub)
    try:
        assert await who.user_for(ada) == "ada"
        assert await who.user_for(bob) == "bob"
        assert await who.user_for(f"  {bob}\n") == "bob"  # as read from a header or a file
    finally:
        await who.aclose()


async def test_unknown_and_service_tokens_are_nobody(hub: Hub) -> None:
    who = identity(hub)
    try:
        assert await who.user_for("not-a-token-the-hub-made") is None
        assert await who.user_for("") is None
        assert await who.user_for("x" * 100_000) is None  # refused without asking the hub
        assert await who.user_for("bad\r\nheader") is None
        # A service's token is the hub's and the gateway's, not a student's.
        assert await who.user_for(hub.admin_token) is None
        assert who.lookups == 2
    finally:
        await who.aclose()


async def test_answers_are_cached_briefly_by_the_tokens_hash(hub: Hub) -> None:
    clock = Clock()
    token = hub.new_token("ada")
    who = identity(hub, clock)
    try:
        assert await who.user_for(token) == "ada"
        assert await who.user_for(token) == "ada"
        assert who.lookups == 1
        hub.revoke_tokens("ada")
        clock.now += CACHE_SECONDS - 1
        assert await who.user_for(token) == "ada"  # still the cached answer
        assert who.lookups == 1
        clock.now += 2
        assert await who.user_for(token) is None  # asked again: the hub forgot it
        assert who.lookups == 2
        assert await who.user_for(token) is None  # "nobody" is cached too
        assert who.lookups == 2
        assert token not in repr(who)
        assert all(token not in key for key in who._cache)
    finally:
        await who.aclose()


async def test_a_burst_of_one_students_requests_asks_the_hub_once(hub: Hub) -> None:
    ada, bob = hub.new_token("ada"), hub.new_token("bob")
    who = identity(hub)
    try:
        answers = await asyncio.gather(*(who.user_for(t) for t in [ada, bob] * 10))
        assert answers == ["ada", "bob"] * 10
        assert who.lookups == 2
        # A caller that gives up mid-lookup cancels nobody else's.
        carl = hub.new_token("ada")
        first = asyncio.ensure_future(who.user_for(carl))
        second = asyncio.ensure_future(who.user_for(carl))
        await asyncio.sleep(0)
        first.cancel()
        assert await second == "ada"
        assert who.lookups == 3
    finally:
        await who.aclose()


async def test_a_hub_that_does_not_answer_is_unavailable_not_unknown() -> None:
    token = "a-real-looking-token-0123456789"
    who = HubIdentity(api_url=f"http://127.0.0.1:{free_port()}/hub/api", api_token="svc")
    try:
        with pytest.raises(HubUnavailable, match="did not answer") as caught:
            await who.user_for(token)
        assert token not in str(caught.value)
        # Not cached: once the hub is back the same token is asked again.
        with pytest.raises(HubUnavailable):
            await who.user_for(token)
        assert who.lookups == 2
    finally:
        await who.aclose()


def test_from_environment_reads_the_services_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "svc-token")
    with pytest.raises(ConfigurationError, match="JUPYTERHUB_API_URL") as caught:
        HubIdentity.from_environment()
    assert "JUPYTERHUB_API_TOKEN" not in str(caught.value)
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api/")
    made = HubIdentity.from_environment()
    assert made.api_url == "http://127.0.0.1:8081/hub/api"
    assert "svc-token" not in repr(made)
    monkeypatch.setenv("JUPYTERHUB_API_URL", "127.0.0.1:8081")
    with pytest.raises(ConfigurationError, match="http://"):
        HubIdentity.from_environment()
