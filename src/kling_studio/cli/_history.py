"""`kling-studio history`: past tasks as lines, JSON or CSV; `history migrate --to URL` copies
them into another history."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._common import EXIT_OK, UsageError, history_for


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


def history_command(args: argparse.Namespace) -> int:
    history = history_for(args)
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
