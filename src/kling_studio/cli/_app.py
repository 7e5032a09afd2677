"""`kling-studio app`: the studio alone as a web page (Voila), for people who should see no code.

Everything that can be wrong is checked here, before Voila starts: the history opens (and is
migrated), the key or the class gateway resolves, Voila is installed (`kling-studio[app]`)."""

from __future__ import annotations

import argparse
import os
import sys

from ..config import HOME_ENV, resolve_service
from ._common import EXIT_OK, UsageError


def app(args: argparse.Namespace) -> int:
    try:
        import voila  # noqa: F401
    except ImportError:
        raise UsageError(
            "`kling-studio app` needs Voila: pip install 'kling-studio[app]'"
        ) from None
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0-65535; got {args.port}")
    if args.time_scale <= 0:
        raise UsageError(f"--time-scale must be above 0; got {args.time_scale}")
    if not args.show.strip():
        raise UsageError('--show is "mine", "everyone" or a user name')
    if args.home:
        os.environ[HOME_ENV] = args.home  # the kernel inherits it
    if not args.simulator:
        resolve_service()  # a named gateway with no token, a malformed URL: said now
    history = getattr(args, "history", None)
    if history:
        from ..history._store import History

        History(history).close()  # unreachable or malformed: one line now, not a broken page
    from ..app._serve import serve

    print("kling-studio app: starting Voila (Ctrl-C stops it)", file=sys.stderr, flush=True)
    serve(
        host=args.host,
        port=args.port,
        history=history,
        simulator=args.simulator,
        show=args.show.strip(),
        time_scale=args.time_scale,
    )
    return EXIT_OK
