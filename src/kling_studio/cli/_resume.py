"""`kling-studio resume`: follow the history's unfinished tasks to the end and save their
videos, or say which are left and why."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    InputError,
    KlingStudioError,
    TransportError,
)
from ._common import EXIT_FAILED, EXIT_OK, backend, history_for, one_line
from ._terminal import ProgressDisplay


async def resume(args: argparse.Namespace) -> int:
    from ..client._async import AsyncClient
    from ..runner import Runner

    history = history_for(args)
    with backend(args) as (key, base_url):
        async with AsyncClient(key, base_url) as client:
            await _check_can_follow(client, history)
            runner = Runner(client, history, max_in_flight=16, wait_timeout=args.timeout)
            with ProgressDisplay(enabled=sys.stderr.isatty()) as display:
                runner.subscribe(display.update)
                resumed = await runner.resume()
                await runner.join()
                await runner.measured()
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
            f"cannot reach FoxAPI at {client.base_url} ({one_line(exc)}); " + _not_followed(waiting)
        ) from None
    except (APIError, InputError):
        pass  # about that one task (e.g. unknown there): the others may be fine
