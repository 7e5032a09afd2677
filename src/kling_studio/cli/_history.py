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
    if args.to or args.to_videos or args.budgets:
        raise UsageError("--to, --to-videos and --budgets are for `kling-studio history migrate`")
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
    from ..history._migrate import copy_history, move_videos_to_store
    from ..history._store import History

    if not args.to:
        if not getattr(args, "videos", None):
            raise UsageError(
                "history migrate needs --to URL (the history to copy into) or --videos STORE "
                "(the store to move the database's videos into)"
            )
        moved = move_videos_to_store(source)
        pending = source.upload_pending()
        print(
            f"moved {moved.videos} video(s) of {moved.tasks} task(s) from "
            f"{source.location.display} into {source.videos}, each checked by hash; "
            f"uploaded {pending.uploaded} that waited on this machine ({pending.waiting} still "
            "wait); the database holds no video bytes"
        )
        return EXIT_OK
    target = History(args.to, videos=args.to_videos)
    if target.location.display == source.location.display:
        raise UsageError("history migrate: --to names the history being copied")
    done = copy_history(source, target, budgets=args.budgets)
    print(
        f"copied {done.tasks} task(s), {done.videos} video(s), {done.comparisons} "
        f"comparison(s) and {done.budgets} budget(s) from {source.location.display} to "
        f"{target.location.display} (videos in {target.videos}); "
        f"{done.skipped} task(s) were there already"
    )
    return EXIT_OK
