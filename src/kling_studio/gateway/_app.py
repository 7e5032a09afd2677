"""The gateway's HTTP face: FoxAPI's routes (create, task lookup, uploads) for students, each
call checked against the caller's token, budget and in-flight cap before anything is forwarded.
No admin routes: the class is administered through its database (`gateway user ...`)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import contract as c
from ..budget import BudgetExceeded
from ..budget._wire import BUDGET_EXCEEDED, refusal_fields
from ..client._async import AsyncClient
from ..errors import CreateOutcomeUnknown, HistoryError, InputError
from ..history._budgets import InFlightLimit, Reservation
from ..history._store import History
from ..models import PreparedRequest
from ..pictures import is_url
from ..runner._remix import request_from_payload
from ..simulator.envelopes import bad_request, error, invalid, media_type, not_found
from ._flood import Flood
from ._forwarder import Forwarder
from ._hub import HubUnavailable
from ._identity import Identifier, identify
from ._ledger import VIDEO, VOICE, Claim, Ledger
from ._replies import answer, outcome_unknown, unauthorized, unavailable, upstream_error

MAX_JSON: Final = 1024 * 1024
MAX_FILE: Final = c.PICTURE_MAX_BYTES
MAX_BASE64_BODY: Final = MAX_FILE * 4 // 3 + 64 * 1024
MAX_MULTIPART_BODY: Final = MAX_FILE + 64 * 1024
MAX_KEY: Final = 128
IN_FLIGHT_RETRY_S: Final = 10.0  # Retry-After when a student is at --max-in-flight
REPLAY_WAIT_S: Final = 30.0  # how long a re-sent create waits for its first try's answer
_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


@dataclass
class Gateway:
    """Everything a request needs; nothing in it outlives a restart but the database's."""

    history: History
    client: AsyncClient
    forwarder: Forwarder
    identifiers: list[Identifier]
    max_in_flight: int | None = None
    timezone: str | None = None  # a budget's day (None: the class history's budget zone)
    ledger: Ledger = field(init=False)
    flood: Flood = field(default_factory=Flood)

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.history)


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise _TooLarge
    return bytes(data)


def _too_large(what: str, limit: int) -> JSONResponse:
    return error(
        413,
        f"{what} is larger than {limit // (1024 * 1024)} MB",
        "invalid_request_error",
        "file_too_large",
    )


async def _json_object(request: Request, limit: int) -> dict[str, Any] | Response:
    import json

    if media_type(request) != "application/json":
        return bad_request("Content-Type must be application/json", "invalid_content_type")
    try:
        raw = await _read_body(request, limit)
    except _TooLarge:
        return _too_large("The request body", limit)
    try:
        body = json.loads(raw)
    except ValueError as exc:
        return bad_request(f"The body is not valid JSON: {exc}", "invalid_json")
    if not isinstance(body, dict):
        return bad_request("The body must be a JSON object", "invalid_json")
    return body


def _student(handler: Any) -> Any:
    """Wrap a handler: the caller's name from their token (401 without), the flood limit, and
    a database that cannot be read is a 503 (nothing forwarded)."""

    async def endpoint(request: Request) -> Response:
        gw: Gateway = request.app.state.gateway
        authorization = request.headers.get("authorization", "")
        if (wait := gw.flood.hit(authorization)) is not None:
            return _rate_limited("Too many requests", wait)
        try:
            user = await identify(gw.identifiers, authorization)
            if user is None:
                return unauthorized()
            return await handler(request, gw, user)  # type: ignore[no-any-return]
        except HistoryError:
            return unavailable(
                "the class history cannot be reached; nothing was sent, try again shortly"
            )
        except HubUnavailable:
            # The token may be fine; the hub cannot say whose it is (never a 401 for that).
            return unavailable(
                "JupyterHub cannot say who you are right now; nothing was sent, try again shortly"
            )

    return endpoint


def _rate_limited(message: str, wait: float) -> JSONResponse:
    seconds = format(max(1, round(wait)), "d")
    return error(
        429,
        f"{message}; retry after {seconds} s",
        "rate_limit_error",
        "rate_limit_exceeded",
        headers={"Retry-After": seconds},
    )


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key", "").strip()
    return key if key and len(key) <= MAX_KEY and key.isprintable() else None


# --- create ---------------------------------------------------------------------------------


async def _create(request: Request, gw: Gateway, user: str) -> Response:
    body = await _json_object(request, MAX_JSON)
    if isinstance(body, Response):
        return body
    key = _idempotency_key(request)
    if body.get("model") == c.MODEL_CREATE_VOICE:
        return await _create_voice(gw, user, body, key)
    try:
        req = request_from_payload(body)
    except InputError as exc:
        return invalid(str(exc), exc.field or _first_field(exc))
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        return invalid(f"the create body is malformed ({type(exc).__name__})", "body")
    problems = req.problems()
    for name, source in (("image_url", req.image), ("image_tail_url", req.image_tail)):
        if source is not None and not (isinstance(source, str) and is_url(source)):
            return invalid(f"{name} must be an http(s) URL (upload the picture first)", name)
    if problems:
        return invalid(str(InputError(problems)), problems[0].field)
    assert isinstance(req.image, str)
    tail = req.image_tail if isinstance(req.image_tail, str) else None
    prepared = PreparedRequest(req, req.payload(req.image, tail))
    # Shielded: a student who hangs up mid-create must not cut the journal and the send apart
    # (a paid task left `submitting`); the work goes on and its answer is kept for a re-send.
    work = asyncio.ensure_future(_forward(gw, user, prepared, key))
    return await asyncio.shield(work)


async def _forward(gw: Gateway, user: str, prepared: PreparedRequest, key: str | None) -> Response:
    """Claim the idempotency key, journal and reserve, send; the answer for the student."""
    live = gw.forwarder.begin(prepared)
    key = key or f"auto:{live.local_id}"
    try:
        claim = await asyncio.to_thread(gw.ledger.claim, user, key, VIDEO, live.local_id)
    except BaseException:
        gw.forwarder.abandon(live)
        raise
    if not claim.mine:
        gw.forwarder.abandon(live)
        return await _replay(gw, claim)
    try:
        estimate = await asyncio.to_thread(gw.history.estimate, prepared.request)
        reservation = Reservation(
            budget=None,
            estimate=estimate.credits,
            session_started=datetime.now(tz=UTC),
            timezone=gw.timezone,
            max_unfinished=gw.max_in_flight,
        )
        await asyncio.to_thread(
            gw.history.journal_submit,
            prepared,
            local_id=live.local_id,
            reservation=reservation,
            author=user,
        )
    except BaseException as exc:  # not journalled, so not sent: the key is free again
        gw.forwarder.abandon(live)
        await _free_key(gw, user, key, live.local_id)
        if isinstance(exc, BudgetExceeded):
            return _over_budget(exc)
        if isinstance(exc, InFlightLimit):
            return _rate_limited(str(exc).removesuffix("."), IN_FLIGHT_RETRY_S)
        raise  # a HistoryError: 503 (see _student)
    sent = await gw.forwarder.send(live, prepared)
    if sent.task is not None:
        return answer(sent.task.raw)
    if sent.refused is not None:
        return upstream_error(sent.refused)
    return outcome_unknown(
        f"the upstream's answer to this create was lost ({sent.unknown}); the task may exist "
        "and is followed by the gateway if its id is known. It was NOT sent again."
    )


def _first_field(exc: InputError) -> str:
    problems = getattr(exc, "problems", None) or []
    return str(getattr(problems[0], "field", "body")) if problems else "body"


def _over_budget(exc: BudgetExceeded) -> JSONResponse:
    response = error(402, str(exc), "insufficient_quota", BUDGET_EXCEEDED)
    import json

    body = json.loads(bytes(response.body))
    body["error"].update(refusal_fields(exc))
    return JSONResponse(body, status_code=402)


async def _free_key(gw: Gateway, user: str, key: str, local_id: str) -> None:
    # If the database is gone the key stays taken: a re-send is answered from its claim.
    with contextlib.suppress(HistoryError):
        await asyncio.to_thread(gw.ledger.release, user, key, local_id)


async def _replay(gw: Gateway, claim: Claim) -> Response:
    """A create re-sent with a key already used: the first try's answer, never a second task."""
    deadline = time.monotonic() + REPLAY_WAIT_S
    while True:
        found = await asyncio.to_thread(gw.ledger.journalled, claim.local_id)
        if found is not None and found[0] != "submitting":
            _status, task_id, raw = found
            if task_id is not None:
                return answer(raw or {"id": task_id, "status": "pending", "progress": 0})
            return outcome_unknown(
                "an earlier try of this create (the same Idempotency-Key) was sent and its "
                "answer was lost; it was NOT sent again"
            )
        if time.monotonic() >= deadline:
            return outcome_unknown(
                "an earlier try of this create (the same Idempotency-Key) is still in flight; "
                "it was NOT sent again"
            )
        await asyncio.sleep(0.2)


async def _create_voice(gw: Gateway, user: str, body: dict[str, Any], key: str | None) -> Response:
    voice_url = body.get("voice_url")
    if not isinstance(voice_url, str) or not is_url(voice_url):
        return invalid("voice_url must be an http(s) URL of 5-30 s of one speaker", "voice_url")
    extra = sorted(set(body) - {"model", "voice_url"})
    if extra:
        return invalid(f"unknown field(s) {', '.join(map(repr, extra))}", extra[0])
    local_id = f"voice:{time.time_ns():x}"
    key = key or f"auto:{local_id}"
    claim = await asyncio.to_thread(gw.ledger.claim, user, key, VOICE, local_id)
    if not claim.mine:
        if claim.task_id is not None:
            return answer({"id": claim.task_id, "status": "pending", "progress": 0})
        return outcome_unknown("an earlier try of this voice creation was sent; not sent again")
    try:
        task = await gw.client.start_voice(voice_url)
    except InputError as exc:
        await _free_key(gw, user, key, local_id)
        return invalid(str(exc), "voice_url")
    except CreateOutcomeUnknown as exc:
        return outcome_unknown(str(exc))
    except Exception as exc:
        from ..runner._outcomes import proves_no_task

        if proves_no_task(exc):
            await _free_key(gw, user, key, local_id)
            return upstream_error(exc)
        return outcome_unknown(f"the upstream's answer was lost ({type(exc).__name__})")
    await asyncio.to_thread(gw.ledger.voice_created, user, key, task.id)
    return answer(task.raw)


# --- lookups --------------------------------------------------------------------------------


async def _get_task(request: Request, gw: Gateway, user: str) -> Response:
    task_id = request.path_params["task_id"]
    if not _TASK_ID.fullmatch(task_id):
        return not_found()
    state = await asyncio.to_thread(gw.ledger.state, user, task_id)
    if state is None:
        return not_found()  # another student's task is as absent as no task
    if state.fresh and state.raw is not None:
        return answer(state.raw)
    try:
        task = await gw.client.get(task_id)
    except Exception as exc:
        return upstream_error(exc)
    return answer(task.raw)


# --- uploads --------------------------------------------------------------------------------


async def _upload_base64(request: Request, gw: Gateway, user: str) -> Response:
    body = await _json_object(request, MAX_BASE64_BODY)
    if isinstance(body, Response):
        return body
    data = body.get("file_data")
    if not isinstance(data, str) or not data:
        return invalid("file_data is required", "file_data")
    name = body.get("file_name", "upload")
    if not isinstance(name, str):
        return invalid("file_name must be a string", "file_name")
    if data.startswith("data:") and "," in data:
        data = data.split(",", 1)[1]
    try:
        decoded = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return bad_request("file_data is not valid base64", "invalid_base64")
    if len(decoded) > MAX_FILE:
        return _too_large("The file", MAX_FILE)
    return await _forward_upload(gw, name, decoded)


async def _upload_stream(request: Request, gw: Gateway, user: str) -> Response:
    if media_type(request) != "multipart/form-data":
        return bad_request("Content-Type must be multipart/form-data", "invalid_content_type")
    try:
        raw = await _read_body(request, MAX_MULTIPART_BODY)
    except _TooLarge:
        return _too_large("The file", MAX_FILE)
    replay = Request(request.scope, _replayed(raw))
    try:
        form = await replay.form(max_files=1, max_fields=4)
    except Exception as exc:  # python-multipart's errors have no common base worth naming
        return bad_request(f"The multipart body could not be read: {type(exc).__name__}")
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        await form.close()
        return invalid("multipart field 'file' is required", "file")
    data = await upload.read()
    name = upload.filename or "upload"
    await form.close()
    if len(data) > MAX_FILE:
        return _too_large("The file", MAX_FILE)
    return await _forward_upload(gw, name, data)


def _replayed(raw: bytes) -> Any:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return receive


async def _forward_upload(gw: Gateway, name: str, data: bytes) -> Response:
    """Only pictures go up (what kling-studio uploads), checked before the upstream sees them."""
    try:
        url = await gw.client.upload(data)
    except InputError as exc:
        return invalid(str(exc), "file")
    except Exception as exc:
        return upstream_error(exc)
    return answer({"url": url, "filename": name[:200], "size": len(data)})


# --- assembly -------------------------------------------------------------------------------


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error(404, "Not found", "not_found", "not_found")
    return error(exc.status_code, str(exc.detail), "invalid_request_error")


async def _server_error(request: Request, exc: Exception) -> Response:
    return error(500, "Internal server error", "server_error", "internal_error")


def build_app(gateway: Gateway) -> Starlette:
    routes = [
        Route(c.CREATE_PATH, _student(_create), methods=["POST"]),
        Route(c.TASK_PATH, _student(_get_task), methods=["GET"]),
        Route("/v1/files/upload/base64", _student(_upload_base64), methods=["POST"]),
        Route(c.UPLOAD_STREAM_PATH, _student(_upload_stream), methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.gateway = gateway
    return app
