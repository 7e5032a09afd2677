"""A load balancer in front of the gateway that loses the first create's answer: it forwards
the create, the gateway makes the task, and the client is told 503 instead (as a proxy whose
upstream timed out would). Real HTTP on 127.0.0.1, uvicorn in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@contextmanager
def proxy_losing_first_create(target: str) -> Iterator[tuple[str, list[str | None]]]:
    """(proxy URL, the Idempotency-Key of every create it saw)."""
    keys: list[str | None] = []

    async def forward(request: Request) -> Response:
        body = await request.body()
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        async with httpx.AsyncClient(base_url=target, timeout=60) as http:
            answer = await http.request(
                request.method, request.url.path, content=body, headers=headers
            )
        if request.method == "POST" and request.url.path == "/v1/videos/generations":
            keys.append(request.headers.get("idempotency-key"))
            if len(keys) == 1:
                message = {"error": {"message": "upstream timed out", "type": "server_error"}}
                return JSONResponse(message, status_code=503)
        return Response(answer.content, answer.status_code, media_type="application/json")

    app = Starlette(
        routes=[Route("/{path:path}", forward, methods=["GET", "POST"])],
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", keys
    finally:
        server.should_exit = True
        thread.join(10)
