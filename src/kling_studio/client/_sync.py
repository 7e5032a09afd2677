"""`Client`: the synchronous twin of AsyncClient.

Its requests run on a private event loop in a daemon thread (engine.py), so it works the same in
a plain script and inside a running Jupyter kernel; `on_progress` callbacks still run on the
calling thread (a `print` lands in the cell that called).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ..config import mask_key
from ..models import PreparedRequest, VideoRequest
from ..pictures import Picture
from ._async import DEFAULT_WAIT_TIMEOUT, AsyncClient, ProgressCallback
from ._engine import Engine
from ._polling import PollPolicy

if TYPE_CHECKING:
    from ..tasks import Task

T = TypeVar("T")


class Client:
    """FoxAPI's video API, synchronous. Same arguments and methods as AsyncClient (a test
    compares their signatures)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        poll_policy: PollPolicy | None = None,
        check_remote_pictures: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._async: AsyncClient | None = AsyncClient(
            api_key,
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            poll_policy=poll_policy,
            check_remote_pictures=check_remote_pictures,
            transport=transport,
        )
        self._base_url = self._async.base_url
        self._has_key = "set" if self._async.has_key else None
        self._engine = Engine("kling-studio-client")

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r}, api_key={mask_key(self._has_key)})"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def poll_policy(self) -> PollPolicy:
        return self._open().poll_policy

    @poll_policy.setter
    def poll_policy(self, policy: PollPolicy) -> None:
        self._open().poll_policy = policy

    @property
    def check_remote_pictures(self) -> bool:
        return self._open().check_remote_pictures

    @check_remote_pictures.setter
    def check_remote_pictures(self, check: bool) -> None:
        self._open().check_remote_pictures = check

    def _open(self) -> AsyncClient:
        if self._async is None:
            raise RuntimeError("this Client is closed")
        return self._async

    @property
    def has_key(self) -> bool:
        return self._has_key is not None

    @property
    def requests_sent(self) -> int:
        return self._async.requests_sent if self._async else 0

    def _call(self, make: Callable[[AsyncClient], Coroutine[Any, Any, T]]) -> T:
        return self._engine.run(make(self._open()))

    def _on_caller(self, callback: ProgressCallback | None) -> ProgressCallback | None:
        """Run a progress callback on the calling thread, not the engine's."""
        if callback is None:
            return None
        engine = self._engine

        def relay(task: Task) -> None:
            engine.post(lambda: _ignore_awaitable(callback(task)))

        return relay

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._async is not None and not self._engine.closed:
            self._engine.run(self._async.aclose())
        self._async = None
        self._engine.close()

    def prepare(self, request: VideoRequest | None = None, /, **fields: Any) -> PreparedRequest:
        return self._call(lambda c: c.prepare(request, **fields))

    def create(self, prepared: PreparedRequest, *, deadline: float | None = None) -> Task:
        return self._call(lambda c: c.create(prepared, deadline=deadline))

    def submit(self, request: VideoRequest | None = None, /, **fields: Any) -> Task:
        return self._call(lambda c: c.submit(request, **fields))

    def get(
        self, task_id: str, *, sync_upstream: bool = False, deadline: float | None = None
    ) -> Task:
        return self._call(lambda c: c.get(task_id, sync_upstream=sync_upstream, deadline=deadline))

    def wait(
        self,
        task_or_id: Task | str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        on_progress: ProgressCallback | None = None,
        poll_policy: PollPolicy | None = None,
    ) -> Task:
        relay = self._on_caller(on_progress)
        return self._call(
            lambda c: c.wait(
                task_or_id, timeout=timeout, on_progress=relay, poll_policy=poll_policy
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
        relay = self._on_caller(on_progress)
        return self._call(
            lambda c: c.generate(request, timeout=timeout, on_progress=relay, **fields)
        )

    def upload(self, picture: Any) -> str:
        return self._call(lambda c: c.upload(picture))

    def create_voice(self, voice_url: str, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT) -> str:
        return self._call(lambda c: c.create_voice(voice_url, timeout=timeout))

    def start_voice(self, voice_url: str) -> Task:
        return self._call(lambda c: c.start_voice(voice_url))

    def fetch_picture(self, url: str, field: str = "image") -> Picture:
        return self._call(lambda c: c.fetch_picture(url, field))


def _ignore_awaitable(result: object) -> None:
    """A sync Client's callbacks are plain functions; an async one can't be awaited here."""
    if inspect.iscoroutine(result):
        result.close()
        raise TypeError("Client (sync) takes a plain on_progress function; use AsyncClient")
