"""`Client`: the synchronous twin of AsyncClient.

In a plain script it drives a private event loop. Inside a running loop (a Jupyter kernel runs
one) it re-enters that loop with nest-asyncio, so `Client(...).generate(...)` works in a cell and
the kernel's other tasks (the studio's progress, for one) keep moving while it waits.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Coroutine
from typing import Any, TypeVar

from .client import DEFAULT_WAIT_TIMEOUT, AsyncClient, ProgressCallback
from .config import mask_key
from .models import PreparedRequest, Task, VideoRequest

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T], private: list[asyncio.AbstractEventLoop]) -> T:
    """Run a coroutine to completion from synchronous code, inside a running loop or not.

    `private` holds the caller's own loop (created on first use) for when no loop is running.
    """
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:
        import nest_asyncio

        nest_asyncio.apply(running)
        return running.run_until_complete(coro)
    if not private or private[0].is_closed():
        private[:] = [asyncio.new_event_loop()]
    return private[0].run_until_complete(coro)


class Client:
    """FoxAPI's video API, synchronous. Same arguments and methods as AsyncClient."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, **options: Any):
        self._options = (api_key, base_url, options)
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._async: AsyncClient | None = None
        self._bound_loop: asyncio.AbstractEventLoop | None = None
        client = self._make()  # validate the settings now, not at the first call
        self._base_url = client.base_url
        self._has_key = "set" if client.has_key else None

    def _make(self) -> AsyncClient:
        api_key, base_url, options = self._options
        self._async = AsyncClient(api_key, base_url, **options)
        return self._async

    def _run(self, make: functools.partial[Coroutine[Any, Any, T]]) -> T:
        async def bound() -> T:
            # An httpx pool belongs to the loop it first ran on; a new loop gets a new client.
            loop = asyncio.get_running_loop()
            if self._async is None or (self._bound_loop not in (None, loop)):
                self._make()
            self._bound_loop = loop
            return await make(self._async)

        return run_sync(bound(), self._loops)

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r}, api_key={mask_key(self._has_key)})"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def requests_sent(self) -> int:
        return self._async.requests_sent if self._async else 0

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._async is not None and self._bound_loop is not None:
            self._run(functools.partial(AsyncClient.aclose))
        self._async = None
        for loop in self._loops:
            loop.close()
        self._loops.clear()

    def prepare(self, request: VideoRequest | None = None, /, **fields: Any) -> PreparedRequest:
        return self._run(functools.partial(_prepare, request=request, fields=fields))

    def create(self, prepared: PreparedRequest) -> Task:
        return self._run(functools.partial(AsyncClient.create, prepared=prepared))

    def submit(self, request: VideoRequest | None = None, /, **fields: Any) -> Task:
        return self._run(functools.partial(_submit, request=request, fields=fields))

    def get(self, task_id: str, *, sync_upstream: bool = False) -> Task:
        return self._run(
            functools.partial(AsyncClient.get, task_id=task_id, sync_upstream=sync_upstream)
        )

    def wait(
        self,
        task_or_id: Task | str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        on_progress: ProgressCallback | None = None,
    ) -> Task:
        return self._run(
            functools.partial(
                AsyncClient.wait, task_or_id=task_or_id, timeout=timeout, on_progress=on_progress
            )
        )

    def generate(
        self,
        request: VideoRequest | None = None,
        /,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        on_progress: ProgressCallback | None = None,
        **fields: Any,
    ) -> Task:
        return self._run(
            functools.partial(
                _generate, request=request, timeout=timeout, on_progress=on_progress, fields=fields
            )
        )

    def upload(self, picture: Any) -> str:
        return self._run(functools.partial(AsyncClient.upload, picture=picture))

    def create_voice(self, voice_url: str, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT) -> str:
        return self._run(
            functools.partial(AsyncClient.create_voice, voice_url=voice_url, timeout=timeout)
        )


# Positional-only parameters can't be passed by keyword through partial: small adapters.
async def _prepare(
    client: AsyncClient, request: VideoRequest | None, fields: dict[str, Any]
) -> PreparedRequest:
    return await client.prepare(request, **fields)


async def _submit(
    client: AsyncClient, request: VideoRequest | None, fields: dict[str, Any]
) -> Task:
    return await client.submit(request, **fields)


async def _generate(
    client: AsyncClient,
    request: VideoRequest | None,
    timeout: float | None,
    on_progress: ProgressCallback | None,
    fields: dict[str, Any],
) -> Task:
    return await client.generate(request, timeout=timeout, on_progress=on_progress, **fields)
