"""A private event loop in a daemon thread: where sync code's HTTP and the studio's tasks run.

Why not nest-asyncio: re-entering a Jupyter kernel's running loop breaks ipykernel 7 — cells
queued behind the blocking one (Run All) never execute ("cannot enter context ... is already
entered"; see tests/test_engine.py). And why not update widgets from that thread: ipykernel 7
drops or misroutes messages sent from other threads. So the work runs here, and everything that
must happen on the caller's thread (user callbacks, widget messages) is *posted* back: drained by
a caller blocked in `run()`, or by the home loop (the kernel's) through `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Engine:
    """One event loop in one daemon thread, started on first use."""

    def __init__(self, name: str = "kling-studio-engine") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._home: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:  # never start a new thread for a closed engine (e.g. at exit)
                raise RuntimeError("this engine is closed")
            if self._loop is None or self._loop.is_closed():
                ready = threading.Event()
                loop = asyncio.new_event_loop()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    ready.set()
                    loop.run_forever()

                self._thread = threading.Thread(target=serve, name=self._name, daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    @property
    def in_engine_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def set_home(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The loop (a kernel's) that receives posted callbacks when nobody waits in `run()`."""
        self._home = loop

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule on the engine; returns a thread-safe future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Block the calling thread until `coro` ends on the engine, running posted callbacks
        (progress callbacks, widget updates) on the calling thread meanwhile.

        `timeout` is the total time allowed, callbacks included: past it, `coro` is cancelled
        and TimeoutError raised, however busy the engine kept the caller."""
        if self.in_engine_thread:
            coro.close()
            raise RuntimeError("Engine.run() called from the engine's own thread")
        deadline = None if timeout is None else time.monotonic() + timeout
        future = self.submit(coro)
        future.add_done_callback(lambda _f: self._inbox.put(_noop))
        try:
            while not future.done():
                wait = 0.5
                if deadline is not None:
                    wait = deadline - time.monotonic()
                    if wait <= 0:
                        raise TimeoutError(f"no result within {timeout} s")
                try:
                    callback = self._inbox.get(timeout=wait)
                except queue.Empty:
                    continue
                callback()
        except BaseException:
            future.cancel()
            raise
        self.drain()
        return future.result()

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await `coro` running on the engine, from another event loop."""
        return await asyncio.wrap_future(self.submit(coro))

    def post(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the caller's side: in a waiting `run()`, else on the home loop."""
        self._inbox.put(callback)
        home = self._home
        if home is not None and not home.is_closed():
            with contextlib.suppress(RuntimeError):  # the home loop closed meanwhile
                home.call_soon_threadsafe(self.drain)

    def drain(self) -> None:
        """Run every posted callback now, on this thread."""
        while True:
            try:
                callback = self._inbox.get_nowait()
            except queue.Empty:
                return
            callback()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=5)
            if not loop.is_running():
                loop.close()


def _noop() -> None:
    """Wakes a waiting `run()` when its future is done."""
