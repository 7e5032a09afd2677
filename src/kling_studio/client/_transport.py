"""HTTP with FoxAPI: the bearer key, error envelopes, and the two retry rules.

- Reads (GET) and uploads are retried on 429, 5xx, dropped connections and unreadable bodies,
  honouring Retry-After, a bounded number of times.
- A create is re-sent only when the answer proves it was not accepted (connection refused, 429,
  503). Any other failure after the request left raises CreateOutcomeUnknown: one click must
  never be billed twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Generator
from enum import Enum
from typing import Any

import httpx

from .._retry import Backoff, parse_retry_after
from .._secrets import remember
from ..budget._wire import BUDGET_EXCEEDED, refusal_from
from ..errors import (
    APIError,
    CreateOutcomeUnknown,
    RateLimitError,
    ServiceUnavailableError,
    TransportError,
    error_class_for,
)

log = logging.getLogger("kling_studio")

USER_AGENT = "kling-studio/0.1"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_CONNECTIONS = 100  # per pool (httpx's default)


class Retry(Enum):
    IDEMPOTENT = "idempotent"  # GETs and uploads: retry every transient failure
    CREATE = "create"  # only when the answer proves the request was not accepted


class BearerAuth(httpx.Auth):
    """Adds the key at send time, so it sits in no default-headers dict and no repr."""

    def __init__(self, key: str) -> None:
        remember(key)  # whatever sends it, no message may show it
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._key}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(<key>)"


def error_from_response(response: httpx.Response, *, task_id: str | None = None) -> APIError:
    """The documented envelope {"error": {message, type, code, param}} as an exception."""
    message, error_type, code, param, body = "", None, None, None, None
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        message = response.text[:200].strip()
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            message = str(err.get("message") or "")
            error_type = _str_or_none(err.get("type"))
            code = _str_or_none(err.get("code"))
            param = _str_or_none(err.get("param"))
        elif isinstance(err, str):
            message = err
    cls = error_class_for(response.status_code)
    if response.status_code == 401:
        message = (message or "unauthorized") + " — check FOXAPI_API_KEY (or the api_key given)"
    return cls(
        message or response.reason_phrase or "no message",
        status_code=response.status_code,
        error_type=error_type,
        code=code,
        param=param,
        method=response.request.method,
        path=response.request.url.path,
        task_id=task_id,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
        body=body,
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


class Http:
    """One connection pool for reads and uploads, plus a no-keep-alive pool for creates.

    Creates use fresh connections so that a keep-alive connection the server closed in the
    meantime can never make a create's outcome look unknown.
    """

    def __init__(
        self,
        base_url: str,
        key: str | None,
        *,
        timeout: float,
        max_retries: int,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.base_url = base_url
        self.max_retries = max_retries
        self.backoff = backoff or Backoff()
        auth = BearerAuth(key) if key else None
        common: dict[str, Any] = {
            "base_url": base_url,
            "timeout": httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            "headers": {"User-Agent": USER_AGENT},
            "auth": auth,
            "follow_redirects": False,
        }
        self.pool = httpx.AsyncClient(
            transport=transport,
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=20),
            **common,
        )
        self.create_pool = httpx.AsyncClient(
            transport=transport,
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=0),
            **common,
        )
        # httpcore's pool rescans every queued request against every connection whenever a
        # request starts or ends: with 1,000 tasks polling at once that is quadratic and blocks
        # the loop for seconds. Requests beyond the connection limit wait here instead, where a
        # release wakes one waiter.
        self._gates = {
            Retry.IDEMPOTENT: asyncio.Semaphore(MAX_CONNECTIONS),
            Retry.CREATE: asyncio.Semaphore(MAX_CONNECTIONS),
        }
        self.requests_sent = 0  # counted for benchmarks and tests

    async def aclose(self) -> None:
        await self.pool.aclose()
        await self.create_pool.aclose()

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        retry: Retry,
        task_id: str | None = None,
        deadline: float | None = None,
        **kwargs: Any,
    ) -> Any:
        """Send, retry by the rule for this kind of request, and return the decoded JSON.

        `deadline` (on time.monotonic()) bounds everything, a request in flight included.
        """
        if retry is Retry.CREATE:
            # One key for this create and its re-sends: a server that saw it (the class gateway)
            # answers a re-send with the task it already made instead of making a second.
            kwargs["headers"] = {**kwargs.get("headers", {}), IDEMPOTENCY_HEADER: uuid.uuid4().hex}
        attempt = 0
        while True:
            try:
                return await self._once(
                    method, path, retry=retry, task_id=task_id, deadline=deadline, **kwargs
                )
            except _Retryable as exc:
                attempt += 1
                delay = self.backoff.delay(attempt - 1, exc.retry_after)
                out_of_time = deadline is not None and time.monotonic() + delay > deadline
                if attempt > self.max_retries or out_of_time:
                    raise exc.final from None
                log.info("retrying %s %s in %.2fs: %s", method, path, delay, exc.final)
                await asyncio.sleep(delay)

    async def _once(
        self,
        method: str,
        path: str,
        *,
        retry: Retry,
        task_id: str | None,
        deadline: float | None,
        **kwargs: Any,
    ) -> Any:
        create = retry is Retry.CREATE
        client = self.create_pool if create else self.pool
        if create:
            # The create pool's rule travels with the request, so a custom transport keeps it:
            # the connection is not kept for another request.
            kwargs["headers"] = {**kwargs.get("headers", {}), "Connection": "close"}
        sent = False
        try:
            async with self._gates[retry]:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TransportError(
                        "the deadline passed before the request was sent", method=method, path=path
                    )
                self.requests_sent += 1
                sent = True
                if left is None:
                    response = await client.request(method, path, **kwargs)
                else:
                    async with asyncio.timeout(left):
                        response = await client.request(method, path, **kwargs)
        except TimeoutError:  # asyncio.timeout's (httpx's own timeouts are not TimeoutError)
            if create and sent:
                raise CreateOutcomeUnknown(
                    "the total deadline passed while the create was in flight"
                ) from None
            raise TransportError(
                "no answer before the total deadline", method=method, path=path
            ) from None
        except httpx.ConnectError as exc:
            # Nothing reached the server: safe to send again, a create included.
            raise _Retryable(
                TransportError(f"cannot connect: {exc}", method=method, path=path)
            ) from None
        except httpx.TimeoutException as exc:
            # Connect and pool timeouts happen before a byte is sent: safe to retry.
            unsent = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            if create and not unsent:
                raise CreateOutcomeUnknown(f"no answer within the timeout ({exc!r})") from None
            raise _Retryable(
                TransportError(f"timed out: {exc!r}", method=method, path=path)
            ) from None
        except httpx.TransportError as exc:
            if create:
                raise CreateOutcomeUnknown(f"connection dropped ({type(exc).__name__})") from None
            raise _Retryable(
                TransportError(f"connection dropped: {exc!r}", method=method, path=path)
            ) from None
        if response.status_code >= 400:
            error = error_from_response(response, task_id=task_id)
            if response.status_code == 402 and error.code == BUDGET_EXCEEDED:
                detail = error.body.get("error") if isinstance(error.body, dict) else None
                raise refusal_from(error.message, detail if isinstance(detail, dict) else {})
            if isinstance(error, RateLimitError | ServiceUnavailableError):
                raise _Retryable(error, error.retry_after)
            if response.status_code >= 500:
                if create:
                    raise CreateOutcomeUnknown(f"the server answered {error}") from error
                raise _Retryable(error, error.retry_after)
            raise error
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            if create:
                raise CreateOutcomeUnknown("the answer was not valid JSON") from None
            raise _Retryable(
                TransportError("the answer was not valid JSON", method=method, path=path)
            ) from None


class _Retryable(Exception):
    """Internal: a failure that may be retried; `final` is what the caller sees if not."""

    def __init__(self, final: Exception, retry_after: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.retry_after = retry_after
