"""A one-off HTTP proxy on loopback in front of the simulator that answers the first lookups of
each task with FoxAPI's 404 envelope, as FoxAPI does for a moment right after a create, and can
rewrite the create's answer (an answer the client cannot read in full)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from kling_studio.contract import CREATE_PATH

NOT_FOUND = {"error": {"message": "task not found", "type": "not_found_error", "code": None}}


class FlickerProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, upstream: str, flickers: int, rewrite_create: Callable[[Any], Any] | None
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.flickers = flickers  # 404s per task before the real answers
        self.rewrite_create = rewrite_create  # the create's JSON answer -> what is sent instead
        self.created: list[Any] = []  # the create answers as the simulator sent them
        self.seen: Counter[str] = Counter()
        self.not_found = 0
        self.lock = threading.Lock()
        self.http = httpx.Client(base_url=upstream, timeout=30.0)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def flicker(self, path: str) -> bool:
        if not path.startswith("/v1/tasks/"):
            return False
        with self.lock:
            self.seen[path] += 1
            if self.seen[path] <= self.flickers:
                self.not_found += 1
                return True
        return False


class _Handler(BaseHTTPRequestHandler):
    server: FlickerProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _forward(self) -> None:
        if self.command == "GET" and self.server.flicker(self.path.split("?")[0]):
            self._answer(404, json.dumps(NOT_FOUND).encode(), "application/json")
            return
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        answer = self.server.http.request(self.command, self.path, content=body, headers=headers)
        content = answer.content
        if self.command == "POST" and self.path.startswith(CREATE_PATH):
            self.server.created.append(answer.json())
            if self.server.rewrite_create is not None and answer.status_code == 200:
                content = json.dumps(self.server.rewrite_create(answer.json())).encode()
        self._answer(answer.status_code, content, answer.headers.get("content-type", ""))

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _forward


@contextmanager
def flicker_proxy(
    upstream: str, flickers: int = 2, rewrite_create: Callable[[Any], Any] | None = None
) -> Iterator[FlickerProxy]:
    proxy = FlickerProxy(upstream, flickers, rewrite_create)
    thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
        proxy.http.close()
        thread.join(10)
