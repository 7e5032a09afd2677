"""Who a JupyterHub API token belongs to, asked of the hub as a JupyterHub service does
(jupyterhub.services.auth.HubAuth.user_for_token): GET {api}/user with the token.

Every single-user server has its user's token in JUPYTERHUB_API_TOKEN, so a student's kernel can
send it as its FoxAPI key and the gateway needs no tokens of its own for a class on a hub.
Answers are cached briefly, keyed by a hash of the token (never the token itself), so thirty
students polling cost the hub one lookup per student a minute.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..config import env
from ..errors import ConfigurationError, KlingStudioError

API_URL_ENV = "JUPYTERHUB_API_URL"
API_TOKEN_ENV = "JUPYTERHUB_API_TOKEN"
# Where the hub's proxy sends the service's requests (/services/<name>/), path and all.
SERVICE_PREFIX_ENV = "JUPYTERHUB_SERVICE_PREFIX"
CACHE_SECONDS = 60.0
# Enough for a hub on the same machine or network; a hub slower than this is as good as down.
TIMEOUT_SECONDS = 10.0
# Tokens are bounded so that a flood of huge headers cannot make the gateway hash megabytes.
MAX_TOKEN_CHARS = 4096


class HubUnavailable(KlingStudioError):
    """The hub could not say who a token belongs to (down, slow, or refusing the gateway's own
    token). The gateway answers 503: the student's token may be fine, the hub is not."""


@dataclass
class _Answer:
    user: str | None
    expires: float


@dataclass
class HubIdentity:
    """Maps a JupyterHub API token to its user's name, or None when the hub does not know it.

    `api_url` is the hub's API (e.g. http://127.0.0.1:8081/hub/api). `api_token` is the gateway's
    own token as a hub service: a lookup authenticates with the student's token (as HubAuth's
    does), so it is never sent; requiring it proves the gateway runs as a service of that hub.
    """

    api_url: str
    api_token: str = field(repr=False)
    cache_seconds: float = CACHE_SECONDS
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    lookups: int = 0  # requests sent to the hub, for tests and the gateway's own counters
    _cache: dict[str, _Answer] = field(default_factory=dict, repr=False)
    # Lookups under way, by the token's hash: a burst of one student's requests asks once.
    _asking: dict[str, asyncio.Future[str | None]] = field(default_factory=dict, repr=False)
    _client: httpx.AsyncClient | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        url = self.api_url.strip().rstrip("/")
        if not url.lower().startswith(("http://", "https://")):
            raise ConfigurationError(
                f"{API_URL_ENV} must start with http:// or https://; got {url!r}"
            )
        self.api_url = url

    @classmethod
    def from_environment(cls) -> HubIdentity:
        """The hub of a managed JupyterHub service: JUPYTERHUB_API_URL and JUPYTERHUB_API_TOKEN,
        which the hub sets in every service's environment."""
        url, token = env(API_URL_ENV), env(API_TOKEN_ENV)
        pairs = ((API_URL_ENV, url), (API_TOKEN_ENV, token))
        missing = [name for name, value in pairs if not value]
        if missing:
            raise ConfigurationError(
                f"--jupyterhub needs {' and '.join(missing)} in the environment; run the gateway "
                "as a JupyterHub service (c.JupyterHub.services with a command), which sets them"
            )
        assert url is not None and token is not None
        return cls(api_url=url, api_token=token)

    async def user_for(self, token: str) -> str | None:
        """The hub user `token` belongs to; None for a token the hub does not know (or one that
        belongs to a service, not a person). Raises HubUnavailable when the hub cannot answer."""
        token = token.strip()
        if not token or len(token) > MAX_TOKEN_CHARS or not token.isprintable():
            return None
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self.clock()
        cached = self._cache.get(key)
        if cached is not None and cached.expires > now:
            return cached.user
        lookup = self._asking.get(key)
        if lookup is None:
            # Its own task: a student hanging up mid-lookup cancels nothing for the others.
            lookup = asyncio.ensure_future(self._ask_and_keep(token, key))
            self._asking[key] = lookup
            lookup.add_done_callback(lambda done: self._lookup_done(key, done))
        return await asyncio.shield(lookup)

    async def _ask_and_keep(self, token: str, key: str) -> str | None:
        user = await self._ask(token)
        now = self.clock()
        self._forget_expired(now)
        self._cache[key] = _Answer(user, now + self.cache_seconds)
        return user

    def _lookup_done(self, key: str, done: asyncio.Future[str | None]) -> None:
        self._asking.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved, so a failure nobody waited for is not logged as lost

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _ask(self, token: str) -> str | None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS, trust_env=False)
        self.lookups += 1
        try:
            response = await self._client.get(
                f"{self.api_url}/user", headers={"Authorization": f"token {token}"}
            )
        except httpx.HTTPError as exc:
            # The message names the hub, never the request (whose headers hold the token).
            raise HubUnavailable(
                f"JupyterHub at {self.api_url} did not answer ({type(exc).__name__}); "
                "is the hub running?"
            ) from None
        if response.status_code in (401, 403):  # the hub does not know this token
            return None
        if response.status_code != 200:
            raise HubUnavailable(
                f"JupyterHub at {self.api_url} answered {response.status_code} to a user lookup"
            )
        try:
            model = response.json()
        except ValueError:
            raise HubUnavailable(
                f"JupyterHub at {self.api_url} answered a user lookup with something not JSON"
            ) from None
        if not isinstance(model, dict) or model.get("kind", "user") != "user":
            return None  # a service's or a server's own token is not a student
        name = model.get("name")
        return name if isinstance(name, str) and name else None

    def _forget_expired(self, now: float) -> None:
        # Bounded by the class size within a minute; swept on each miss, not on a timer.
        for key in [k for k, answer in self._cache.items() if answer.expires <= now]:
            del self._cache[key]


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def under_service_prefix(app: ASGIApp, prefix: str | None = None) -> ASGIApp:
    """`app` answering both at its own paths (students who reach the service directly) and
    under the hub proxy's prefix (`/services/kling-gateway/v1/...`, which the proxy forwards
    unchanged). `prefix`: JUPYTERHUB_SERVICE_PREFIX, which the hub sets for a managed service
    with a `url`; without one, `app` itself."""
    given = prefix if prefix is not None else env(SERVICE_PREFIX_ENV)
    base = (given or "").strip().rstrip("/")
    if not base:
        return app
    if not base.startswith("/"):
        base = "/" + base

    async def stripped(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope.get("type") in ("http", "websocket") and (
            path == base or path.startswith(base + "/")
        ):
            scope = dict(scope)
            scope["path"] = path[len(base) :] or "/"
            raw = scope.get("raw_path")
            if isinstance(raw, bytes) and raw.startswith(base.encode()):
                scope["raw_path"] = raw[len(base) :] or b"/"
            scope["root_path"] = scope.get("root_path", "") + base
        await app(scope, receive, send)

    return stripped
