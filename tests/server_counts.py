"""Helpers shared by the issue-6 tests (chaos, restart, secrets, bad inputs) and the scale
benchmark: what the simulator counted, and a record of every create the client sent."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

from kling_studio import contract as c

API_ROUTES = ("create", "get", "upload")


def route_counts(stats: dict[str, Any]) -> dict[str, int]:
    """Requests per route in a `Simulator.stats()` answer (every route, 0 when unused)."""
    counts: dict[str, int] = stats.get("requests", {})
    return {route: int(counts.get(route, 0)) for route in (*API_ROUTES, "files")}


def api_requests(stats: dict[str, Any]) -> int:
    """Requests to FoxAPI's own routes (not the CDN downloads of pictures and videos)."""
    counts = route_counts(stats)
    return sum(counts[route] for route in API_ROUTES)


# What one create attempt told the client, as the client could see it.
CREATED = "created"  # a 200 with a task: the task exists under `task_id`
REFUSED = "refused"  # nothing was accepted: connection refused, 429, 503, any other 4xx
AMBIGUOUS = "ambiguous"  # sent, but the answer proves nothing (dropped, 500, timeout, bad JSON)


@dataclass
class Attempt:
    outcome: str
    detail: str
    task_id: str | None = None


@dataclass
class CreateLog(httpx.AsyncBaseTransport):
    """Wraps the transport of the client's create pool and classifies every create attempt by
    the create's prompt: what the product *could* know about each one."""

    inner: httpx.AsyncBaseTransport
    attempts: dict[str, list[Attempt]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def install(cls, client: Any) -> CreateLog:
        """Put a CreateLog in front of an AsyncClient's create pool (private attributes: the
        product's own transport, with its no-keep-alive limits, stays the one that sends)."""
        pool: httpx.AsyncClient = client._http.create_pool
        log = cls(pool._transport)
        pool._transport = log
        return log

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" or request.url.path != c.CREATE_PATH:
            return await self.inner.handle_async_request(request)
        prompt = str(json.loads(request.content).get("prompt"))
        attempts = self.attempts[prompt]
        try:
            response = await self.inner.handle_async_request(request)
            body = await response.aread()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            attempts.append(Attempt(REFUSED, type(exc).__name__))
            raise
        except httpx.TransportError as exc:
            attempts.append(Attempt(AMBIGUOUS, type(exc).__name__))
            raise
        status = response.status_code
        if status == 200:
            try:
                task_id = json.loads(body)["id"]
            except (ValueError, KeyError, TypeError):
                attempts.append(Attempt(AMBIGUOUS, "malformed JSON"))
            else:
                attempts.append(Attempt(CREATED, "200", str(task_id)))
        elif status in (429, 503) or 400 <= status < 500:
            attempts.append(Attempt(REFUSED, f"HTTP {status}"))
        else:
            attempts.append(Attempt(AMBIGUOUS, f"HTTP {status}"))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
