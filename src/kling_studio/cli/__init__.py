"""The `kling-studio` command: generate, batch, history, spend, resume, gateway, app,
simulator.

Exit status: 0 done, 1 the task or the service failed, 2 bad input (nothing was sent).
The API key comes only from FOXAPI_API_KEY (an argument would land in the shell's history).
Every failure ends in one sentence on stderr (never a traceback); with --json, stdout holds valid
JSON or nothing.

One module per command (_generate, _batch, _history, _resume, _spend, _app; the simulator's own is
simulator/cli.py), the parser (_parser), what they share (_common) and the terminal (_terminal).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from ..errors import ConfigurationError, InputError, KlingStudioError
from ._common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, history_for, one_line
from ._generate import failure_line, generate
from ._history import history_command, history_line
from ._parser import build_parser
from ._resume import resume
from ._terminal import log_in_one_line

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "build_parser",
    "failure_line",
    "history_line",
    "main",
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its message
        return int(exc.code or 0)
    log_in_one_line()
    try:
        if args.command == "simulator":
            from ..simulator.cli import run

            return run(args)
        if args.command == "history":
            return history_command(args)
        if args.command == "spend":
            from ._spend import spend

            return spend(history_for(args), args)
        if args.command == "generate":
            return asyncio.run(generate(args))
        if args.command == "resume":
            return asyncio.run(resume(args))
        if args.command == "gateway":
            from ._gateway import gateway_command

            return gateway_command(args)
        if args.command == "app":
            from ._app import app

            return app(args)
        if args.command == "batch":
            from ._batch import batch

            return asyncio.run(batch(args))
    except (UsageError, InputError, ConfigurationError) as exc:
        print(f"kling-studio: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KlingStudioError as exc:
        print(f"kling-studio: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        again = "`kling-studio batch` with the same table" if args.command == "batch" else None
        print(
            f"kling-studio: interrupted; {again or '`kling-studio resume`'} picks the task up",
            file=sys.stderr,
        )
        return 130
    except Exception as exc:  # a bug or the system: still one sentence, never a traceback
        print(f"kling-studio: unexpected {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_USAGE
