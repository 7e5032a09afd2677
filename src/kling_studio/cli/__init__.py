"""The `kling-studio` command: generate, history, spend, resume, simulator.

Exit status: 0 done, 1 the task or the service failed, 2 bad input (nothing was sent).
The API key comes only from FOXAPI_API_KEY (an argument would land in the shell's history).
Every failure ends in one sentence on stderr (never a traceback); with --json, stdout holds valid
JSON or nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from .. import contract as c
from .._files import atomic_path
from ..errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    InputError,
    KlingStudioError,
    TransportError,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input on the command line: exit 2 with one line on stderr."""


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


def _backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="API base URL (default: FOXAPI_BASE_URL or FoxAPI)")
    parser.add_argument(
        "--simulator", action="store_true", help="run against a built-in simulator (no key needed)"
    )
    parser.add_argument(
        "--time-scale", type=float, default=0.1, help="with --simulator: speed of simulated time"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its message
        return int(exc.code or 0)
    _log_in_one_line()
    try:
        if args.command == "simulator":
            from ..simulator.cli import run

            return run(args)
        if args.command == "history":
            return _history(args)
        if args.command == "spend":
            from ._spend import spend

            return spend(_history_for(args), args)
        if args.command == "generate":
            return asyncio.run(_generate(args))
        if args.command == "resume":
            return asyncio.run(_resume(args))
    except (UsageError, InputError, ConfigurationError) as exc:
        print(f"kling-studio: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KlingStudioError as exc:
        print(f"kling-studio: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("kling-studio: interrupted; `kling-studio resume` picks the task up", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or the system: still one sentence, never a traceback
        print(f"kling-studio: unexpected {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_USAGE


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class _OneLineFormatter(logging.Formatter):
    """A log record as one line, without its traceback (the terminal is for sentences)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"kling-studio: {' '.join(record.getMessage().split())}"


def _log_in_one_line() -> None:
    logger = logging.getLogger("kling_studio")
    if not any(isinstance(h.formatter, _OneLineFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_OneLineFormatter())
        handler.setLevel(logging.ERROR)  # warnings the user needs reach the cards and the end
        logger.addHandler(handler)
        logger.propagate = False


def _history_for(args: argparse.Namespace) -> Any:
    """The history: `--history`, else (with `--home`, or for simulated tasks, which keep to
    their own as in the studio) the data folder's file, else KLING_STUDIO_HISTORY or the
    default file."""
    from ..config import history_path
    from ..history._store import History

    location = getattr(args, "history", None)
    if location:
        return History(location)
    simulated = getattr(args, "simulator", False)
    if not args.home and not simulated:
        return History()
    home = Path(args.home) if args.home else None
    return History(history_path(home, simulator=simulated))


def _request_from(args: argparse.Namespace) -> Any:
    from ..models import VideoRequest

    multi = None
    if args.multi_prompt is not None:
        try:
            multi = json.loads(args.multi_prompt.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"--multi-prompt: cannot read {args.multi_prompt}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise UsageError(f"--multi-prompt: {args.multi_prompt} is not JSON: {exc}") from None
    if args.voices and not args.audio:
        raise UsageError("--voice needs --audio (voices are only used in videos with sound)")
    if args.out is not None:
        _check_out(args.out)
    return VideoRequest.build(
        prompt=args.prompt,
        image=args.image,
        image_tail=args.tail,
        resolution=args.resolution,
        duration=args.duration,
        generate_audio=True if args.audio else None,
        negative_prompt=args.negative_prompt,
        voice_ids=args.voices,
        multi_prompt=multi,
    )


def _check_out(out: Path) -> None:
    """Refuse an --out the video could never be copied to, before anything is sent."""
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file name ending in .mp4")
    folder = out.absolute().parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None or not existing.is_dir():
        raise UsageError(f"--out {out}: {existing} is a file, so the folder {folder} cannot exist")
    if not os.access(existing, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"--out {out}: no permission to write there")


@contextlib.contextmanager
def _backend(args: argparse.Namespace) -> Iterator[tuple[str | None, str | None]]:
    """(api_key, base_url): the environment's, or an in-process simulator's."""
    if not args.simulator:
        yield None, args.base_url
        return
    from ..simulator import Simulator

    with Simulator(time_scale=args.time_scale) as sim:
        yield sim.api_key, sim.base_url


async def _generate(args: argparse.Namespace) -> int:
    from ..client._async import AsyncClient
    from ..runner import Runner
    from ._spend import budget_from, dry_run, warnings_in_one_line

    warnings_in_one_line()
    request = _request_from(args)
    budget = budget_from(args.budget)
    history = _history_for(args)  # a history that cannot be opened fails before any upload
    if args.dry_run:
        return dry_run(request, history, budget)
    with _backend(args) as (key, base_url):
        async with AsyncClient(key, base_url) as client:
            runner = Runner(
                client, history, max_in_flight=1, wait_timeout=args.timeout, budget=budget
            )
            runner.check_budget(request)  # BudgetExceeded before any upload
            prepared = await client.prepare(request)  # every input problem raises here
            with _ProgressDisplay(enabled=sys.stderr.isatty()) as display:
                runner.subscribe(display.update)
                record = await runner.run(prepared)
            return _report(args, record, history)


def _report(args: argparse.Namespace, record: Any, history: Any) -> int:
    task_json: dict[str, Any] = dict(record.raw or {})
    task_json.setdefault("id", record.task_id)
    task_json["status"] = record.status
    task_json["local_id"] = record.local_id
    task_json["video_path"] = str(record.video_path) if record.video_path else None
    copy_error = None
    if args.out is not None and record.video_path is not None:
        try:
            with atomic_path(args.out) as part:
                shutil.copyfile(record.video_path, part)
            task_json["video_path"] = str(args.out)
        except OSError as exc:  # checked before sending; the disk may have changed since
            copy_error = f"the video is saved at {record.video_path} but could not be copied to "
            copy_error += f"--out {args.out} ({_one_line(exc)})"
    if args.json:
        print(json.dumps(task_json, ensure_ascii=False, default=str))
    elif record.succeeded and (task_json["video_path"] or record.video_url):
        print(task_json["video_path"] or record.video_url)
    if copy_error:
        print(f"kling-studio: {copy_error}", file=sys.stderr)
        return EXIT_FAILED
    if record.status == "completed" and record.video_path is not None:
        return EXIT_OK
    print(failure_line(record), file=sys.stderr)
    return EXIT_FAILED


def failure_line(record: Any) -> str:
    """What `generate` prints when the task did not end with a saved video."""
    from ..history._view import view

    words = " ".join(view(record).line().split())  # one line, whatever the server wrote
    return f"kling-studio: task {record.task_id or record.local_id} {words}"


def history_line(record: Any) -> str:
    """One task of `kling-studio history`: when, who, status, id, video, prompt, error code."""
    from ..history._view import view

    seen = view(record)
    video = str(record.video_path) if record.video_path else "-"
    line = (
        f"{record.submitted_at:%Y-%m-%d %H:%M}  {record.user or '-':<12}  {seen.status:<10}  "
        f"{record.task_id or '-':<36}  {video}  {record.prompt[:60]!r}"
    )
    return f"{line}  {seen.error_code}" if seen.error_code else line


async def _resume(args: argparse.Namespace) -> int:
    from ..client._async import AsyncClient
    from ..runner import Runner

    history = _history_for(args)
    with _backend(args) as (key, base_url):
        async with AsyncClient(key, base_url) as client:
            await _check_can_follow(client, history)
            runner = Runner(client, history, max_in_flight=16, wait_timeout=args.timeout)
            with _ProgressDisplay(enabled=sys.stderr.isatty()) as display:
                runner.subscribe(display.update)
                resumed = await runner.resume()
                await runner.join()
    records = [history[local_id] for local_id in resumed]
    missed = [r for r in records if not _followed(r) or runner.unsaved(r.local_id)]
    if args.json:
        print(json.dumps([r.to_row() for r in records], ensure_ascii=False, default=str))
    else:
        unknown = history.count(status="unknown")
        print(f"resumed {len(resumed)} task(s); {unknown} create(s) with an unknown outcome")
    if missed:
        reasons = {r.local_id: runner.problem(r.local_id) for r in missed}
        print(f"kling-studio: {_not_followed(missed, reasons)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _followed(record: Any) -> bool:
    """Followed to the end: FoxAPI's final word is in the history, and a video is saved."""
    return bool(record.done and (record.status != "completed" or record.video_path))


def _not_followed(records: Sequence[Any], reasons: dict[str, str | None] | None = None) -> str:
    shown = []
    for r in records[:5]:
        reason = (reasons or {}).get(r.local_id)
        shown.append(f"{r.task_id or r.local_id} ({r.status}{': ' + reason if reason else ''})")
    more = f" and {len(records) - 5} more" if len(records) > 5 else ""
    return (
        f"{len(records)} task(s) not followed to the end: {', '.join(shown)}{more}; "
        "run `kling-studio resume` again to pick them up"
    )


async def _check_can_follow(client: Any, history: Any) -> None:
    """Before following anything: a key, and an API that answers (else say what is left)."""
    waiting = [r for r in history.unfinished() if r.task_id and r.status != "submitting"]
    if not waiting:
        return
    if not client.has_key:
        raise ConfigurationError(
            "no API key: set FOXAPI_API_KEY (or use --simulator for simulated tasks); "
            + _not_followed(waiting)
        )
    try:
        await client.get(waiting[0].task_id)
    except (TransportError, AuthenticationError) as exc:
        raise KlingStudioError(
            f"cannot reach FoxAPI at {client.base_url} ({_one_line(exc)}); "
            + _not_followed(waiting)
        ) from None
    except (APIError, InputError):
        pass  # about that one task (e.g. unknown there): the others may be fine


def _history(args: argparse.Namespace) -> int:
    history = _history_for(args)
    if args.action == "migrate":
        return _migrate(args, history)
    if args.to:
        raise UsageError("--to is for `kling-studio history migrate --to URL`")
    filters: dict[str, Any] = {"status": args.status} if args.status else {}
    if args.user:
        filters["user"] = args.user
    try:
        if args.csv:
            history.df(**filters).to_csv(sys.stdout)
            return EXIT_OK
        records = history.records(**filters)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps([r.to_row() for r in records], ensure_ascii=False, default=str))
        return EXIT_OK
    for r in records:
        print(history_line(r))
    return EXIT_OK


def _migrate(args: argparse.Namespace, source: Any) -> int:
    from ..history._migrate import copy_history
    from ..history._store import History

    if not args.to:
        raise UsageError("history migrate needs --to URL (the history to copy into)")
    target = History(args.to)
    if target.location.display == source.location.display:
        raise UsageError("history migrate: --to names the history being copied")
    done = copy_history(source, target)
    print(
        f"copied {done.tasks} task(s) and {done.videos} video(s) from "
        f"{source.location.display} to {target.location.display}; "
        f"{done.skipped} were there already"
    )
    return EXIT_OK


class _ProgressDisplay:
    """A tqdm bar on a terminal; status lines otherwise (for logs)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bars: dict[str, Any] = {}
        self._last: dict[str, str] = {}

    def __enter__(self) -> _ProgressDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        for bar in self._bars.values():
            bar.close()

    def update(self, card: dict[str, Any]) -> None:
        local_id, status = card["local_id"], card["status"]
        if not self.enabled:
            if self._last.get(local_id) != status:
                self._last[local_id] = status
                print(f"{card.get('task_id') or local_id}: {status}", file=sys.stderr)
            return
        from tqdm import tqdm

        bar = self._bars.get(local_id)
        if bar is None:
            bar = self._bars[local_id] = tqdm(
                total=100, unit="%", file=sys.stderr, desc=card["prompt"][:24], leave=True
            )
        bar.n = int(card["progress"])
        bar.set_postfix_str(status)
        bar.refresh()
