"""The HTTP face of the simulator: FoxAPI's routes (docs/contract.md sections 1-5), the "CDN" that
serves uploads and videos, and ``/_sim/`` admin routes for tests and notebooks.

API routes are small ASGI apps (``Endpoint``) rather than plain request/response functions,
because a fault may have to close the connection without answering at all.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gzip
import hashlib
import json
import mimetypes
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from . import tariff, validation
from .admin import admin_routes
from .context import SimContext
from .envelopes import bad_request, error, invalid, media_type, not_found
from .faults import FaultPlan
from .state import QuotaExceeded, Upload

# uvicorn's connection hands the app a way to drop it; see server.DroppingProtocol.
ABORT_KEY = "kling_studio.simulator.abort"

MAX_FILE = 10 * 1024 * 1024
MAX_JSON = 1024 * 1024
MAX_BASE64_BODY = MAX_FILE * 4 // 3 + 64 * 1024
MAX_MULTIPART_BODY = MAX_FILE + 64 * 1024

Handler = Callable[[Request, FaultPlan], Awaitable[Response]]


class TooLarge(Exception):
    pass


def _seconds_header(seconds: float) -> str:
    return format(round(seconds, 3), "g")


class Endpoint:
    """One route: counts it, applies its faults, checks the key, runs the handler."""

    def __init__(self, ctx: SimContext, route: str, handler: Handler, key: bool) -> None:
        self.ctx = ctx
        self.route = route
        self.handler = handler
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        self.ctx.store.count(self.route)
        plan = self.ctx.faults.plan(self.route)
        if plan.pre == "drop":
            self.ctx.faults.note("drop")
            await _drop(scope)
            return
        if plan.pre is not None:
            self.ctx.faults.note(plan.pre)
            response = self._fault_response(plan, request)
        elif self.key and not self._authorized(request):
            response = error(
                401, "Missing or invalid API key", "authentication_error", "invalid_api_key"
            )
        else:
            try:
                response = await self.handler(request, plan)
            except ClientDisconnect:
                return
            if plan.post is not None and response.status_code == 200:
                self.ctx.faults.note(plan.post)
                if plan.post == "lost":  # the work is done; the answer never arrives
                    await _drop(scope)
                    return
                response = _garbled(response)
        if plan.slow:
            # After the work, before the answer: a client that gives up still left a trace.
            self.ctx.faults.note("slow")
            await asyncio.sleep(self.ctx.faults.config.slow_seconds)
        if response.status_code == 200 and (plan.gzip or plan.stall):
            body, headers = await _body_and_headers(response)
            if plan.gzip and "gzip" in request.headers.get("accept-encoding", ""):
                self.ctx.faults.note("gzip")
                body = gzip.compress(body)
                headers["content-encoding"] = "gzip"
            if plan.stall:
                self.ctx.faults.note("stall")
                await _stalled(send, headers, body, self.ctx.faults.config.stall_seconds)
                return
            response = Response(body, 200, headers=headers)
        await response(scope, receive, send)

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token.strip() in self.ctx.api_keys

    def _fault_response(self, plan: FaultPlan, request: Request) -> Response:
        cdn = self.route == "files"
        if plan.pre == "401":
            # Like some real gateways: the message quotes the token it was given.
            token = request.headers.get("authorization", "").partition(" ")[2].strip()
            message = f"Invalid token: {token or '(none)'}"
            return error(401, message, "authentication_error", "invalid_api_key")
        if plan.pre == "404":
            return not_found()
        if plan.pre == "429":
            wait = _seconds_header(self.ctx.retry_after())
            headers = {"Retry-After": wait}
            if cdn:
                return PlainTextResponse("429 Too Many Requests", 429, headers=headers)
            message = f"Rate limit exceeded; retry after {wait} s"
            return error(429, message, "rate_limit_error", "rate_limit_exceeded", headers=headers)
        if plan.pre == "402":
            return error(402, "Insufficient balance", "insufficient_quota", "insufficient_quota")
        if plan.variant % 2:
            if cdn:
                return PlainTextResponse("503 Service Unavailable", 503)
            message = "No available channel for this model; try again later"
            return error(503, message, "service_unavailable_error", "no_available_channel")
        if cdn:
            return PlainTextResponse("500 Internal Server Error", 500)
        return error(500, "Internal server error", "server_error", "internal_error")


async def _body_and_headers(response: Response) -> tuple[bytes, dict[str, str]]:
    """A whole answer's bytes and its headers (a file's read from disk), for rewriting."""
    if isinstance(response, FileResponse):
        body = await asyncio.to_thread(Path(response.path).read_bytes)
    else:
        body = bytes(response.body)
    keep = {"content-type"}
    headers = {k.decode(): v.decode() for k, v in response.raw_headers if k.decode() in keep}
    return body, headers


async def _stalled(send: Send, headers: dict[str, str], body: bytes, pause: float) -> None:
    """Send half the body, pause, then the rest (a link or server that hangs mid-answer)."""
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": raw})
    half = len(body) // 2
    await send({"type": "http.response.body", "body": body[:half], "more_body": True})
    await asyncio.sleep(pause)
    await send({"type": "http.response.body", "body": body[half:], "more_body": False})


async def _drop(scope: Scope) -> None:
    """Close the connection without a byte of response (the client sees a protocol error)."""
    abort = scope.get("extensions", {}).get(ABORT_KEY)
    if abort is None:
        raise RuntimeError("this server cannot drop connections; run the app via Simulator")
    abort()
    # Let the loop deliver connection_lost first, so uvicorn does not try to answer 500.
    await asyncio.sleep(0)


def _garbled(response: Response) -> Response:
    body = bytes(response.body)
    return Response(body[: max(1, len(body) // 2)], 200, media_type="application/json")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise TooLarge
    return bytes(data)


def _too_large(what: str) -> JSONResponse:
    return error(413, f"{what} is larger than 10 MB", "invalid_request_error", "file_too_large")


async def _json_object(request: Request, limit: int) -> dict[str, Any] | Response:
    """The body as a JSON object, or the 400/413 answer saying why not."""
    if media_type(request) != "application/json":
        return bad_request("Content-Type must be application/json", "invalid_content_type")
    try:
        raw = await _read_body(request, limit)
    except TooLarge:
        return _too_large("The request body")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        return bad_request(f"The body is not valid JSON: {exc}", "invalid_json")
    if not isinstance(body, dict):
        return bad_request("The body must be a JSON object", "invalid_json")
    return body


# -- API handlers ---------------------------------------------------------------------------


def _create(ctx: SimContext) -> Handler:
    async def handler(request: Request, plan: FaultPlan) -> Response:
        body = await _json_object(request, MAX_JSON)
        if isinstance(body, Response):
            return body
        try:
            checked = validation.check_create(body)
        except validation.Invalid as bad:
            return invalid(bad.message, bad.param, bad.code)
        try:
            task = ctx.store.create_task(checked, body, fail=plan.fail, variant=plan.variant)
        except QuotaExceeded as short:
            return error(
                402, f"Insufficient balance: {short}", "insufficient_quota", "insufficient_quota"
            )
        if plan.fail:
            ctx.faults.note("fail")
        if not task.is_voice:
            ctx.pipeline.start(task)
        return JSONResponse(
            {
                "created": task.created,
                "id": task.id,
                "model": task.request["model"],
                "object": "video.generation.task",
                "progress": 0,
                "status": "pending",
                "task_info": {
                    "can_cancel": True,
                    "estimated_time": tariff.wire_seconds(task.estimate),
                },
                "type": "video",
            }
        )

    return handler


def _get_task(ctx: SimContext) -> Handler:
    async def handler(request: Request, plan: FaultPlan) -> Response:
        # ?sync_upstream=true is accepted; the simulator is always in sync with itself.
        task = ctx.store.task(request.path_params["task_id"])
        if task is None:
            return not_found()
        key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        with ctx.store.lock:
            task.gets += 1
            task.pollers.add(hashlib.sha256(key.encode()).hexdigest()[:8])
        return JSONResponse(ctx.store.view(task, ctx.base_url))

    return handler


def _upload_base64(ctx: SimContext) -> Handler:
    async def handler(request: Request, plan: FaultPlan) -> Response:
        body = await _json_object(request, MAX_BASE64_BODY)
        if isinstance(body, Response):
            return body
        data = body.get("file_data")
        if not isinstance(data, str) or not data:
            return invalid("file_data is required", "file_data")
        name = body.get("file_name", "upload")
        if not isinstance(name, str):
            return invalid("file_name must be a string", "file_name")
        if data.startswith("data:") and "," in data:  # tolerate a data URL
            data = data.split(",", 1)[1]
        try:
            decoded = base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            return bad_request("file_data is not valid base64", "invalid_base64")
        if len(decoded) > MAX_FILE:
            return _too_large("The file")
        return await _store_upload(ctx, name, decoded)

    return handler


def _upload_stream(ctx: SimContext) -> Handler:
    async def handler(request: Request, plan: FaultPlan) -> Response:
        if media_type(request) != "multipart/form-data":
            return bad_request("Content-Type must be multipart/form-data", "invalid_content_type")
        try:
            raw = await _read_body(request, MAX_MULTIPART_BODY)
        except TooLarge:
            return _too_large("The file")
        replay = Request(request.scope, _replay(raw))
        try:
            form = await replay.form(max_files=4, max_fields=16)
        except Exception as exc:  # python-multipart's errors have no common base worth naming
            return bad_request(f"The multipart body could not be read: {exc}")
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return invalid("multipart field 'file' is required", "file")
        data = await upload.read()
        await form.close()
        if len(data) > MAX_FILE:
            return _too_large("The file")
        return await _store_upload(ctx, upload.filename or "upload", data)

    return handler


def _replay(raw: bytes) -> Receive:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return receive


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file name that is safe in a URL and on disk, whatever the client sent."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._")[:100]
    return cleaned or "file"


async def _store_upload(ctx: SimContext, name: str, data: bytes) -> Response:
    store = ctx.store
    upload_id = store.new_upload_id()
    filename = safe_name(name)
    path = ctx.uploads_dir / upload_id / filename
    await asyncio.to_thread(_write, path, data)
    upload = Upload(
        id=upload_id,
        filename=name,
        path=path,
        size=len(data),
        created=store.clock.wall(),
        created_at=store.clock.now(),
        content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
    )
    store.add_upload(upload)
    return JSONResponse(
        {
            "id": upload.id,
            "filename": upload.filename,
            "url": f"{ctx.base_url}/files/{upload.id}/{filename}",
            "size": upload.size,
            "created": upload.created,
        }
    )


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# -- the "CDN": public, expiring links --------------------------------------------------------


def _expired() -> Response:
    return PlainTextResponse("403 Forbidden: this link has expired", 403)


def _serve_upload(ctx: SimContext) -> Handler:
    async def handler(request: Request, plan: FaultPlan) -> Response:
        upload = ctx.store.upload(request.path_params["upload_id"])
        if upload is None or upload.path.name != request.path_params["name"]:
            return PlainTextResponse("404 Not Found", 404)
        if ctx.store.upload_expired(upload):
            return _expired()
        return FileResponse(upload.path, media_type=upload.content_type)

    return handler


def _serve_video(ctx: SimContext) -> Handler:
    async def handler(request: Request, plan: FaultPlan) -> Response:
        task = ctx.store.task(request.path_params["task_id"])
        if task is None or task.output is None or task.status(ctx.store.clock.now()) != "completed":
            return PlainTextResponse("404 Not Found", 404)
        if ctx.store.video_expired(task):
            return _expired()
        with ctx.store.lock:
            task.video_gets += 1
        return FileResponse(task.output.path, media_type="video/mp4")

    return handler


# -- assembly -----------------------------------------------------------------------------------


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = "not_found" if exc.status_code == 404 else "invalid_request_error"
    return error(exc.status_code, str(exc.detail), kind)


async def _server_error(request: Request, exc: Exception) -> Response:
    return error(500, "Internal server error", "server_error", "internal_error")


def build_app(ctx: SimContext) -> Starlette:
    def api(path: str, route: str, handler: Handler, method: str, key: bool = True) -> Route:
        # ``route`` names the request in stats() and picks which fault rules apply.
        return Route(path, Endpoint(ctx, route, handler, key), methods=[method])

    routes = [
        api("/v1/videos/generations", "create", _create(ctx), "POST"),
        api("/v1/tasks/{task_id}", "get", _get_task(ctx), "GET"),
        api("/v1/files/upload/base64", "upload", _upload_base64(ctx), "POST"),
        api("/v1/files/upload/stream", "upload", _upload_stream(ctx), "POST"),
        # The "CDN": public links, no key.
        api("/files/{upload_id}/{name}", "files", _serve_upload(ctx), "GET", key=False),
        api("/videos/{task_id}.mp4", "files", _serve_video(ctx), "GET", key=False),
        *admin_routes(ctx),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
