"""Real `kling-studio gateway serve` processes for the tests: started on a free port, ready when
they print their one line, stopped (or killed, to play a dead replica) at the end."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

READY_PREFIX = "kling-studio gateway on http://"
START_TIMEOUT = 90.0  # a loaded 2-core machine starts Python slowly


@dataclass
class GatewayProcess:
    proc: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)  # what it printed (stdout), first line first

    def output(self) -> str:
        """Everything it wrote, stdout and stderr, once it has stopped."""
        self.stop()
        assert self.proc.stderr is not None and self.proc.stdout is not None
        return "\n".join([*self.lines, self.proc.stdout.read(), self.proc.stderr.read()])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def kill(self) -> None:
        """Die like a crashed replica: no lease handed back."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def start_gateway(
    history: str, upstream: str, key: str, *options: str, env: dict[str, str] | None = None
) -> GatewayProcess:
    argv = [sys.executable, "-m", "kling_studio", "gateway", "serve", "--history", history]
    argv += ["--port", "0", "--upstream", upstream, *options]
    environment = dict(os.environ, FOXAPI_API_KEY=key, **(env or {}))
    proc = subprocess.Popen(
        argv,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout
    threading.Thread(target=lambda: first.put(stdout.readline()), daemon=True).start()
    try:
        line = first.get(timeout=START_TIMEOUT)
    except queue.Empty:
        proc.kill()
        raise AssertionError("the gateway did not start in time") from None
    if not line.startswith(READY_PREFIX):
        proc.wait(10)
        assert proc.stderr is not None
        raise AssertionError(f"the gateway did not start: {line!r} {proc.stderr.read()}")
    return GatewayProcess(proc, line.strip().removeprefix("kling-studio gateway on "), [line])


@contextmanager
def running_gateway(
    history: str, upstream: str, key: str, *options: str, env: dict[str, str] | None = None
) -> Iterator[GatewayProcess]:
    gateway = start_gateway(history, upstream, key, *options, env=env)
    try:
        yield gateway
    finally:
        gateway.stop()
