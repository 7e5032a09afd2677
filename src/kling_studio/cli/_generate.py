"""`kling-studio generate`: a video from a first (and last) frame, followed to a saved file."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from .._files import atomic_path
from ._common import EXIT_FAILED, EXIT_OK, UsageError, backend, history_for, one_line
from ._terminal import ProgressDisplay, warnings_in_one_line


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


async def generate(args: argparse.Namespace) -> int:
    from ..client._async import AsyncClient
    from ..runner import Runner
    from ._spend import budget_from, dry_run

    warnings_in_one_line()
    request = _request_from(args)
    budget = budget_from(args.budget)
    history = history_for(args)  # a history that cannot be opened fails before any upload
    if args.out is not None:  # never copy over a file the history owns (another task's video)
        history.refuse_owned_path(args.out, "video copy", "--out")
    if args.dry_run:
        return dry_run(request, history, budget)
    with backend(args) as (key, base_url):
        async with AsyncClient(key, base_url) as client:
            runner = Runner(
                client, history, max_in_flight=1, wait_timeout=args.timeout, budget=budget
            )
            runner.check_budget(request)  # BudgetExceeded before any upload
            prepared = await client.prepare(request)  # every input problem raises here
            with ProgressDisplay(enabled=sys.stderr.isatty()) as display:
                runner.subscribe(display.update)
                record = await runner.run(prepared)
                await runner.measured()  # the video's measures, before this process ends
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
            copy_error += f"--out {args.out} ({one_line(exc)})"
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
