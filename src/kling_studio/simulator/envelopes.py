"""The documented error envelope and the small request checks shared by every route."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


def error(
    status: int,
    message: str,
    kind: str,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """``{"error": {message, type, code?, param?}}`` (docs/contract.md section 3)."""
    detail: dict[str, Any] = {"message": message, "type": kind}
    if code is not None:
        detail["code"] = code
    if param is not None:
        detail["param"] = param
    return JSONResponse({"error": detail}, status_code=status, headers=headers)


def bad_request(message: str, code: str = "invalid_request") -> JSONResponse:
    return error(400, message, "invalid_request_error", code)


def invalid(message: str, param: str, code: str = "invalid_parameter") -> JSONResponse:
    return error(422, message, "invalid_request_error", code, param)


def not_found(what: str = "Task") -> JSONResponse:
    return error(404, f"{what} not found", "not_found", f"{what.lower()}_not_found")


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()
