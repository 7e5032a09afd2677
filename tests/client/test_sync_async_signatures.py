"""`Client` is AsyncClient's synchronous twin: same public methods, same parameters, same
defaults (as openai-python's assert_signatures_in_sync), proven here rather than by care."""

from __future__ import annotations

import inspect

import pytest

from kling_studio import AsyncClient, Client

# Lifecycle methods are spelt the async or sync way; everything else is shared.
ASYNC_ONLY = {"aclose", "public_http"}
SYNC_ONLY = {"close"}


def public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


async def test_same_public_methods_and_attributes() -> None:
    async with AsyncClient("sk-signatures", "http://127.0.0.1:9") as async_client:
        async_names = {n for n in dir(async_client) if not n.startswith("_")}
    with Client("sk-signatures", "http://127.0.0.1:9") as sync_client:
        sync_names = {n for n in dir(sync_client) if not n.startswith("_")}
    assert async_names - ASYNC_ONLY == sync_names - SYNC_ONLY


@pytest.mark.parametrize(
    "name",
    sorted(n for n in public(AsyncClient) - ASYNC_ONLY if callable(getattr(AsyncClient, n, None))),
)
def test_same_parameters_and_defaults(name: str) -> None:
    async_sig = inspect.signature(getattr(AsyncClient, name))
    sync_sig = inspect.signature(getattr(Client, name))

    def described(sig: inspect.Signature) -> list[tuple[str, object, object]]:
        return [(p.name, p.kind, p.default) for p in sig.parameters.values()]

    assert described(sync_sig) == described(async_sig)


def test_constructor_spells_out_its_keywords() -> None:
    params = inspect.signature(Client.__init__).parameters
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    assert [(p.name, p.default) for p in params.values()] == [
        (p.name, p.default) for p in inspect.signature(AsyncClient.__init__).parameters.values()
    ]
