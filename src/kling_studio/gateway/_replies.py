"""FoxAPI's error envelope for the gateway's own answers, and an upstream error passed on."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from .._secrets import scrub, scrub_value
from ..errors import APIError
from ..simulator.envelopes import error


def unauthorized() -> JSONResponse:
    return error(
        401,
        "Missing, unknown or revoked token: ask your teacher for yours "
        "(FOXAPI_API_KEY is your gateway token)",
        "authentication_error",
        "invalid_api_key",
    )


def unavailable(message: str) -> JSONResponse:
    return error(503, message, "service_unavailable_error", "gateway_unavailable")


def outcome_unknown(message: str) -> JSONResponse:
    # A 5xx other than 503: the client records the create `unknown` and never re-sends it.
    return error(502, message, "upstream_error", "create_outcome_unknown")


def answer(data: Any) -> JSONResponse:
    """An upstream answer passed on, scrubbed of every key this process knows."""
    return JSONResponse(scrub_value(data))


def upstream_error(exc: BaseException) -> JSONResponse:
    """The upstream's refusal as the student sees it (their own request's fault, or a 5xx)."""
    if isinstance(exc, APIError):
        headers = None
        if exc.retry_after is not None:
            headers = {"Retry-After": format(round(exc.retry_after, 3), "g")}
        status = exc.status_code if 400 <= (exc.status_code or 0) < 600 else 502
        if status == 401:  # the gateway's own key was refused: not the student's doing
            return unavailable("the gateway's upstream refused its key; tell your teacher")
        return error(
            status,
            exc.message,
            exc.error_type or "upstream_error",
            exc.code,
            exc.param,
            headers=headers,
        )
    return unavailable(f"the upstream could not be reached ({scrub(str(exc))}); try again")
