"""``Simulator``: the FoxAPI stand-in running in a background thread on 127.0.0.1.

uvicorn runs in a daemon thread with its own event loop, so starting it from a Jupyter kernel
(whose loop is already running) is fine. The caller's thread never touches that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import shutil
import socket
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import ABORT_KEY, build_app
from .context import DEFAULT_API_KEY, SimContext
from .faults import FaultConfig, FaultInjector, FaultsLike
from .pipeline import Pipeline
from .progress import check_progress
from .render import BITRATES, Renderer
from .state import Store, check_result_shape

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
DAY = 86400.0


class DroppingProtocol(H11Protocol):
    """uvicorn's h11 protocol, plus a way for the app to drop the connection unanswered.

    An app that raises before answering gets a 500 from uvicorn, not a dropped connection,
    so each request's scope carries the transport's ``abort`` instead.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                scope.setdefault("extensions", {})[ABORT_KEY] = transport.abort
            await inner(scope, receive, send)

        self.app = app


class _Server(uvicorn.Server):
    """uvicorn's server, woken at once by :meth:`exit` instead of noticing within 0.1 s."""

    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's own shutdown pauses 0.1 s and waits for open connections; a simulator
        # being stopped has no one to be polite to, and tests start and stop hundreds.
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        await asyncio.sleep(0.01)

    def exit(self) -> None:
        """Ask to stop, from any thread; in-flight requests are not waited for."""
        self.should_exit = True
        self.force_exit = True
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop may already be closed
                self._loop.call_soon_threadsafe(self._wake.set)


def _remove(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


class Simulator:
    """An offline FoxAPI speaking docs/contract.md over real HTTP on loopback.

    Use as a context manager (``with Simulator(time_scale=0.05) as sim: ...``) or call
    :meth:`start` / :meth:`stop` (both idempotent).
    """

    def __init__(
        self,
        port: int = 0,
        *,
        time_scale: float = 1.0,
        faults: FaultsLike = None,
        seed: int = 0,
        api_keys: Iterable[str] | None = None,
        balance: float | None = None,
        result_shape: str = "objects",
        progress: str = "even",
        url_ttl: float | None = None,
        upload_ttl: float | None = None,
        render_width: int = 320,
        render_min_side: int = 0,
        fps: int = 12,
        bitrate: str = "small",
        keyframe_seconds: float | None = None,
        data_dir: str | Path | None = None,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if bitrate not in BITRATES:
            raise ValueError(f"bitrate must be one of {', '.join(BITRATES)}; got {bitrate!r}")
        check_result_shape(result_shape)
        curve = check_progress(progress)
        keys = frozenset(api_keys) if api_keys is not None else frozenset({DEFAULT_API_KEY})
        if not keys:
            raise ValueError("api_keys must hold at least one key")
        fault_config = FaultConfig.coerce(faults)  # refuse a bad spec before making anything
        self.port = port
        self.time_scale = time_scale
        self.api_key = DEFAULT_API_KEY if DEFAULT_API_KEY in keys else sorted(keys)[0]
        owned = data_dir is None
        self.data_dir = Path(
            tempfile.mkdtemp(prefix="kling-sim-") if data_dir is None else data_dir
        )
        # A temporary folder goes on stop(), or when this object is collected / Python exits.
        self._cleanup = weakref.finalize(self, _remove, self.data_dir if owned else None)
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kling-sim-work")
        store = Store(
            time_scale=time_scale,
            seed=seed,
            balance=balance,
            url_ttl=DAY * time_scale if url_ttl is None else url_ttl,
            upload_ttl=upload_ttl,
            result_shape=result_shape,
            curve=curve,
        )
        renderer = Renderer(
            self.data_dir / "renders",
            width=render_width,
            min_side=render_min_side,
            fps=fps,
            bitrate=bitrate,
            keyframe_seconds=keyframe_seconds,
        )
        self._ctx = SimContext(
            store=store,
            faults=FaultInjector(fault_config, seed),
            pipeline=Pipeline(store, renderer, self._workers),
            renderer=renderer,
            api_keys=keys,
            uploads_dir=self.data_dir / "uploads",
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if not self._ctx.base_url:
            raise RuntimeError("the simulator is not started")
        return self._ctx.base_url

    def start(self) -> Simulator:
        if self._stopped:
            raise RuntimeError("a stopped Simulator cannot be restarted; make a new one")
        if self._thread is not None:
            return self
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the
        # listener says TCP explicitly; without it every response waits ~40 ms (Nagle + ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self.port))
        self.port = sock.getsockname()[1]
        self._ctx.base_url = f"http://{HOST}:{self.port}"
        self._ctx.pipeline.port = self.port
        config = uvicorn.Config(
            build_app(self._ctx),
            http=DroppingProtocol,
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
        )
        self._server = _Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="kling-sim", daemon=True
        )
        self._thread.start()
        self._wait_until_answering()
        return self

    def _wait_until_answering(self) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulator's server did not start")
            time.sleep(0.002)
        # http.client, not httpx: building an httpx client (its TLS context) costs ~40 ms.
        connection = http.client.HTTPConnection(HOST, self.port, timeout=START_TIMEOUT)
        try:
            connection.request("GET", "/_sim/health")
            if connection.getresponse().status != 200:
                raise RuntimeError("the simulator's server does not answer")
        finally:
            connection.close()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._server is not None and self._thread is not None:
            self._server.exit()
            self._thread.join(timeout=START_TIMEOUT)
        self._workers.shutdown(wait=True, cancel_futures=True)
        self._cleanup()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- switches -----------------------------------------------------------------------------

    @property
    def faults(self) -> FaultConfig:
        return self._ctx.faults.config

    def set_faults(self, faults: FaultsLike) -> None:
        """Replace the fault rules now: a spec string, a dict of spec items, or a FaultConfig."""
        self._ctx.faults.set(FaultConfig.coerce(faults))

    @property
    def result_shape(self) -> str:
        return self._ctx.store.result_shape

    @result_shape.setter
    def result_shape(self, shape: str) -> None:
        """``objects`` (default), ``strings``, ``video_url``, ``output`` or ``mixed``."""
        self._ctx.set_result_shape(shape)

    @property
    def progress(self) -> str:
        return self._ctx.store.curve.name

    @progress.setter
    def progress(self, name: str) -> None:
        """How tasks created from now on progress: a name from ``simulator.progress.CURVES``."""
        self._ctx.set_progress(name)

    @property
    def balance(self) -> float | None:
        return self._ctx.store.balance

    @balance.setter
    def balance(self, credits: float | None) -> None:
        """Credits left (each create reserves some; too few -> 402), or None: unlimited."""
        self._ctx.set_balance(credits)

    @property
    def url_ttl(self) -> float:
        """Seconds a result or upload link stays valid (default: a day times time_scale)."""
        return self._ctx.store.url_ttl

    @property
    def upload_ttl(self) -> float:
        """Seconds an uploaded picture's link stays valid (default: as url_ttl). A task whose
        picture link is dead when it starts fails with ``image_fetch_failed``."""
        store = self._ctx.store
        return store.url_ttl if store.upload_ttl is None else store.upload_ttl

    @upload_ttl.setter
    def upload_ttl(self, seconds: float | None) -> None:
        self._ctx.set_upload_ttl(seconds)

    def expire_urls(self, task_id: str | None = None) -> int:
        """Make the result URLs of one task (or of all) expired now; returns how many tasks."""
        return self._ctx.store.expire(task_id)

    # -- observations -------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Requests per route, creates accepted, faults injected by kind, tasks, renders."""
        return self._ctx.stats()

    def created_tasks(self) -> list[dict[str, Any]]:
        """Every task created, oldest first: ``{id, model, created, body, status}``."""
        return self._ctx.store.created_log()

    def __repr__(self) -> str:
        where = self._ctx.base_url or "not started"
        return f"<Simulator {where} time_scale={self.time_scale}>"
