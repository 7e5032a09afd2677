"""The command line: every command, its options and their help; a usage error is one line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from .. import contract as c
from ._common import EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"kling-studio: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kling-studio",
        description="Image-to-video with Kling V3 through FoxAPI (key: FOXAPI_API_KEY).",
    )
    parser.add_argument("--home", help="data folder (default: KLING_STUDIO_HOME or per user)")
    _history_option(parser, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser("generate", help="make a video from a first (and last) frame")
    gen.add_argument("--image", required=True, help="first frame: http(s) URL or local file")
    gen.add_argument("--tail", help="last frame: http(s) URL or local file")
    gen.add_argument("--prompt", required=True)
    gen.add_argument("--negative-prompt")
    gen.add_argument("--resolution", choices=c.RESOLUTIONS)
    gen.add_argument("--duration", type=int, choices=c.DURATIONS)
    gen.add_argument("--audio", action="store_true", help="generate sound (generate_audio)")
    gen.add_argument("--voice", action="append", dest="voices", metavar="ID", help="voice id")
    gen.add_argument(
        "--multi-prompt",
        type=Path,
        metavar="FILE.json",
        help='segments: [{"prompt": "...", "duration": 2}, ...]',
    )
    gen.add_argument("--out", type=Path, metavar="FILE.mp4", help="copy the video here")
    gen.add_argument(
        "--dry-run",
        action="store_true",
        help="print the credits the task would reserve (and whether a budget refuses it); "
        "send nothing",
    )
    gen.add_argument(
        "--budget",
        metavar="SPEC",
        help="refuse the task if it takes your spend past this: comma-separated "
        "credits=N, tasks=N, per=session|day|total (default session), action=refuse|warn; "
        "e.g. --budget tasks=3,per=day or --budget credits=200,per=day,action=warn. Counted "
        "over your tasks in the history, with any budget set there for you",
    )
    gen.add_argument("--json", action="store_true", help="print the final task as JSON")
    gen.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="deadline in seconds for waiting for the task and saving its video, together",
    )
    _backend_options(gen)

    hist = sub.add_parser("history", help="list past tasks; `history migrate --to URL` copies")
    hist.add_argument(
        "action", nargs="?", choices=["migrate"], help="migrate: copy this history into --to"
    )
    hist.add_argument(
        "--to", metavar="URL", help="with migrate: the history to copy into (e.g. postgresql://)"
    )
    hist.add_argument(
        "--to-videos",
        metavar="STORE",
        help="with migrate --to: the target's video store (default: KLING_STUDIO_VIDEOS, else "
        "the folder beside the target)",
    )
    hist.add_argument(
        "--budgets",
        action="store_true",
        help="with migrate --to: copy the budgets too (a personal file must not raise a class's)",
    )
    fmt = hist.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    hist.add_argument("--status", action="append", help="only these statuses")
    hist.add_argument("--simulator", action="store_true", help="the simulated tasks' history")
    hist.add_argument(
        "--user",
        metavar="NAME",
        help="only this author's tasks ('me': mine; default: everyone's)",
    )

    spend = sub.add_parser("spend", help="the credits ledger: tasks and credits per day and user")
    spend.add_argument(
        "--by",
        action="append",
        choices=["day", "user", "settings"],
        help="group by (repeatable; default: --by day --by user)",
    )
    spend.add_argument("--user", metavar="NAME", help="only this author's tasks ('me': mine)")
    spend.add_argument("--simulator", action="store_true", help="the simulated tasks' ledger")
    spend_fmt = spend.add_mutually_exclusive_group()
    spend_fmt.add_argument("--json", action="store_true")
    spend_fmt.add_argument("--csv", action="store_true")

    res = sub.add_parser("resume", help="follow unfinished tasks to the end, save videos")
    res.add_argument("--json", action="store_true")
    res.add_argument("--timeout", type=float, default=1800.0, help="total deadline (s)")
    _backend_options(res)

    for command in (gen, hist, spend, res):
        _history_option(command, argparse.SUPPRESS)

    gateway = sub.add_parser(
        "gateway", help="serve a class: students' tokens and budgets, the one FoxAPI key"
    )
    from ._gateway import configure_parser as configure_gateway

    configure_gateway(gateway, lambda command: _history_option(command, argparse.SUPPRESS))

    page = sub.add_parser("app", help="serve the studio alone as a web page (Voila; no code shown)")
    page.add_argument("--host", default="127.0.0.1", help="address to listen on")
    page.add_argument("--port", type=int, default=8866, help="port (0: a free one)")
    page.add_argument(
        "--show",
        default="mine",
        help='whose tasks the history lists: "mine", "everyone" or a user name',
    )
    page.add_argument(
        "--simulator", action="store_true", help="the built-in simulator, whatever the key"
    )
    page.add_argument(
        "--time-scale", type=float, default=0.2, help="with --simulator: speed of simulated time"
    )
    _history_option(page, argparse.SUPPRESS)
    from ._batch import add_parser as add_batch

    add_batch(sub, _backend_options, _history_option)

    sim = sub.add_parser("simulator", help="run the offline FoxAPI simulator")
    from ..simulator.cli import configure_parser

    configure_parser(sim)
    return parser


def _history_option(parser: argparse.ArgumentParser, default: Any) -> None:
    # SUPPRESS: given before or after the command, neither default hides the other.
    parser.add_argument(
        "--history",
        metavar="URL",
        default=default,
        help="the history: a path, sqlite:///file or postgresql://user:password@host:port/db "
        "(default: KLING_STUDIO_HISTORY, else the data folder's history.sqlite3)",
    )
    parser.add_argument(
        "--videos",
        metavar="STORE",
        default=default,
        help="where the history's videos are kept: a folder or s3://bucket/prefix, credentials "
        "and endpoint from the AWS environment (default: KLING_STUDIO_VIDEOS, else the videos/ "
        "folder beside the history); `history migrate --videos STORE` moves the videos a "
        "shared history holds in its database into STORE",
    )


def _backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="API base URL (default: FOXAPI_BASE_URL or FoxAPI)")
    parser.add_argument(
        "--simulator", action="store_true", help="run against a built-in simulator (no key needed)"
    )
    parser.add_argument(
        "--time-scale", type=float, default=0.1, help="with --simulator: speed of simulated time"
    )
