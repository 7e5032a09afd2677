"""What every command uses: exit statuses, the usage error, one-line messages, and the history
and the backend named by the arguments."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input on the command line: exit 2 with one line on stderr."""


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def history_for(args: argparse.Namespace) -> Any:
    """The history: `--history`, else (with `--home`, or for simulated tasks, which keep to
    their own as in the studio) the data folder's file, else KLING_STUDIO_HISTORY or the
    default file."""
    from ..config import history_path
    from ..history._store import History

    location = getattr(args, "history", None)
    videos = getattr(args, "videos", None)
    if location:
        return History(location, videos=videos)
    simulated = getattr(args, "simulator", False)
    if not args.home and not simulated:
        return History(videos=videos)
    home = Path(args.home) if args.home else None
    return History(history_path(home, simulator=simulated), videos=videos)


@contextlib.contextmanager
def backend(args: argparse.Namespace) -> Iterator[tuple[str | None, str | None]]:
    """(api_key, base_url): the environment's, or an in-process simulator's."""
    if not args.simulator:
        yield None, args.base_url
        return
    from ..simulator import Simulator

    with Simulator(time_scale=args.time_scale) as sim:
        yield sim.api_key, sim.base_url
