"""``/_sim/`` routes: the simulator's switches and numbers over HTTP, for other processes
(a notebook kernel, the CLI, a browser test). Not part of FoxAPI; no key needed."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .context import SimContext
from .envelopes import bad_request, media_type, not_found
from .faults import FaultConfig


async def _json(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


def admin_routes(ctx: SimContext) -> list[Route]:
    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def stats(request: Request) -> Response:
        return JSONResponse(ctx.stats())

    async def tasks(request: Request) -> Response:
        return JSONResponse(ctx.store.created_log())

    async def faults(request: Request) -> Response:
        """A spec string as text, or JSON: a spec string or a dict of spec items."""
        try:
            if media_type(request) == "application/json":
                value = await _json(request)
            else:
                value = (await request.body()).decode("utf-8", "replace")
            ctx.faults.set(FaultConfig.coerce(value))
        except (ValueError, TypeError) as exc:
            return bad_request(str(exc), "invalid_fault_spec")
        return JSONResponse({"faults": ctx.faults.config.to_spec()})

    async def expire(request: Request) -> Response:
        """``{"task_id": ...}`` expires one task's links; an empty body expires all."""
        try:
            body = await _json(request)
        except ValueError as exc:
            return bad_request(str(exc))
        try:
            count = ctx.store.expire(body.get("task_id") if isinstance(body, dict) else None)
        except KeyError:
            return not_found()
        return JSONResponse({"expired": count})

    async def config(request: Request) -> Response:
        """``{"result_shape": ..., "balance": ..., "upload_ttl": ...}``, any of them."""
        try:
            body = await _json(request)
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            if "result_shape" in body:
                ctx.set_result_shape(body["result_shape"])
            if "balance" in body:
                ctx.set_balance(body["balance"])
            if "upload_ttl" in body:
                ctx.set_upload_ttl(body["upload_ttl"])
        except ValueError as exc:
            return bad_request(str(exc))
        store = ctx.store
        return JSONResponse({"result_shape": store.result_shape, "balance": store.balance})

    return [
        Route("/_sim/health", health),
        Route("/_sim/stats", stats),
        Route("/_sim/tasks", tasks),
        Route("/_sim/faults", faults, methods=["POST"]),
        Route("/_sim/expire", expire, methods=["POST"]),
        Route("/_sim/config", config, methods=["POST"]),
    ]
