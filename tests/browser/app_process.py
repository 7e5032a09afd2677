"""`kling-studio app` as a real process for the browser tests: started on a free port (`--port
0`; the ready line says which), in private Jupyter folders, with no key in its environment."""

from __future__ import annotations

import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from . import harness

READY = re.compile(r"^kling-studio app on (http://\S+)$")


@dataclass
class App:
    url: str
    home: Path
    process: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def running_app(
    args: Sequence[str] = ("--simulator",),
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
) -> Iterator[App]:
    base = Path(tempfile.mkdtemp(prefix="kls-app-"))
    home = base / "kling-home"
    home.mkdir()
    child_env = harness.server_env(base, {"KLING_STUDIO_HOME": str(home), **(env or {})})
    log_path = base / "app.log"
    log = log_path.open("w")
    command = [str(Path(sys.executable).parent / "kling-studio"), "app", "--port", "0", *args]
    process = subprocess.Popen(
        command, env=child_env, stdout=subprocess.PIPE, stderr=log, text=True, cwd=base
    )
    try:
        url = _ready_url(process, timeout, log_path)
        yield App(url=url, home=home, process=process, log_path=log_path)
    finally:
        # SIGTERM: Voila stops its loop and shuts its kernels down (they run in their own
        # sessions, so they are not in this process's group).
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()
        with suppress(OSError):
            dest = harness.artifacts_dir() / "kling-studio-app.log"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(log_path.read_text(errors="replace"))


def _ready_url(process: subprocess.Popen[str], timeout: float, log_path: Path) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=0.5):
                line = process.stdout.readline()
                match = READY.match(line.strip())
                if match:
                    return match.group(1)
                if not line and process.poll() is not None:
                    break
    raise RuntimeError(
        f"kling-studio app did not say it was ready (exit {process.poll()}):\n"
        + log_path.read_text(errors="replace")[-4000:]
    )


def kernels_of(app: App) -> list[int]:
    """Process ids of the kernels the app started (children of its process)."""
    import psutil

    with suppress(psutil.NoSuchProcess):
        return [c.pid for c in psutil.Process(app.process.pid).children(recursive=True)]
    return []
