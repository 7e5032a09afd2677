"""`kling-studio gateway serve`: the class history opened, the upstream client with the one key,
the forwarder adopting unfollowed tasks, and uvicorn; one line on stdout once it takes requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

from ..errors import ConfigurationError, InputError

log = logging.getLogger("kling_studio.gateway")

KEY_ENV: Final = "FOXAPI_API_KEY"
SIMULATOR: Final = "simulator"
THREADS: Final = 32
# The requests' (writes, reads) connections on PostgreSQL; a SQLite file takes one writer.
REQUEST_CONNECTIONS: Final = (8, 4)


@dataclass(frozen=True)
class ServeOptions:
    history: str | None  # None: KLING_STUDIO_HISTORY, else the default file
    host: str = "127.0.0.1"
    port: int = 8710
    upstream: str | None = None  # None: FoxAPI; "simulator": a built-in one
    timezone: str | None = None  # a budget's day; None: the history's budget zone (UTC)
    max_in_flight: int | None = None
    jupyterhub: bool = False
    flood_limit: float | None = None  # requests per second per caller (None: _flood.RATE)
    time_scale: float = 1.0  # the built-in simulator's


def check_timezone(zone: str | None) -> str | None:
    """The IANA name --timezone gives (None: the class history's budget zone, UTC unless set)."""
    if zone is None:
        return None
    from ..budget import budget_zone

    try:
        return budget_zone(zone).key
    except InputError as exc:
        raise InputError(f"--timezone: {exc}", "timezone") from None


def check_options(options: ServeOptions) -> None:
    if options.max_in_flight is not None and options.max_in_flight < 1:
        raise InputError("--max-in-flight is at least 1", "max_in_flight")
    if options.flood_limit is not None and not options.flood_limit > 0:
        raise InputError("--flood-limit is a number of requests per second > 0", "flood_limit")
    if not 0 <= options.port <= 65535:
        raise InputError(f"--port must be 0-65535; got {options.port}", "port")
    if options.upstream not in (None, SIMULATOR) and not options.upstream.startswith(
        ("http://", "https://")
    ):
        raise InputError(
            f"--upstream is an http(s) URL or 'simulator'; got {options.upstream!r}", "upstream"
        )


def serve(options: ServeOptions) -> int:
    check_options(options)
    options = dataclasses.replace(options, timezone=check_timezone(options.timezone))
    key = os.environ.get(KEY_ENV, "").strip() or None
    if options.upstream != SIMULATOR and key is None:
        raise ConfigurationError(
            f"set {KEY_ENV} in the gateway's environment (the one key it holds for the class), "
            "or use --upstream simulator to try it without one"
        )
    return asyncio.run(_serve(options, key))


async def _serve(options: ServeOptions, key: str | None) -> int:
    import uvicorn

    from ..client._async import AsyncClient
    from ..history._store import History
    from ._app import Gateway, build_app
    from ._flood import flood_for
    from ._forwarder import Forwarder
    from ._identity import identifiers_for
    from ._pool import Pool

    sim = None
    base_url = options.upstream
    if options.upstream == SIMULATOR:
        from ..simulator import Simulator

        sim = Simulator(0, time_scale=options.time_scale).start()
        base_url, key = sim.base_url, sim.api_key
    # Blocking database calls run in threads: enough of them that lookups never wait for one.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(THREADS, "gateway-db"))
    # The follower's connection, and the requests' own for writes and for reads (_pool).
    follower = await asyncio.to_thread(History, options.history, user="gateway")
    shared = follower.shared
    writes, reads = REQUEST_CONNECTIONS if shared else (1, 1)
    pool = Pool(
        [await asyncio.to_thread(History, options.history, user="gateway") for _ in range(writes)]
    )
    reads_pool = Pool(
        [await asyncio.to_thread(History, options.history, user="gateway") for _ in range(reads)]
    )
    client = AsyncClient(key, base_url)
    forwarder = Forwarder(client, follower, wait_timeout=3600.0)
    gateway = Gateway(
        pool=pool,
        reads=reads_pool,
        client=client,
        forwarder=forwarder,
        identifiers=identifiers_for(reads_pool, jupyterhub=options.jupyterhub),
        max_in_flight=options.max_in_flight,
        timezone=options.timezone,
        flood=flood_for(options.flood_limit),
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((options.host, options.port))
    host, port = sock.getsockname()[:2]
    app = build_app(gateway)
    if options.jupyterhub:  # also at the hub proxy's /services/<name>/ (JUPYTERHUB_SERVICE_PREFIX)
        from ._hub import under_service_prefix

        app = under_service_prefix(app)  # type: ignore[assignment]
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # paths only, but a class's every poll is noise
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    adopting = asyncio.get_running_loop().create_task(forwarder.keep_adopting())
    serving = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if serving.done():
                return 1
            await asyncio.sleep(0.02)
        print(f"kling-studio gateway on http://{host}:{port}", flush=True)
        await serving
    finally:
        adopting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await adopting
        await forwarder.aclose()
        await client.aclose()
        pool.close()
        reads_pool.close()
        follower.close()  # hands the leases back: another replica adopts at once
        if sim is not None:
            sim.stop()
        sys.stdout.flush()
    return 0
