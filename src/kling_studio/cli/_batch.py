"""`kling-studio batch FILE.csv`: a table of requests, checked whole before anything is sent, run
as one comparison; the table comes back with each row's task, status, video, credits and
measures (`--out results.csv`, `--json`). `--dry-run` prints the rows and the estimate and sends
nothing. Running the same table again pays nothing twice (compare/_batch.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from ._common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, backend, history_for

SHOWN_COLUMNS = ("status", "video_path", "credits", "first_frame_match", "motion", "flicker")


def defaults_from(args: argparse.Namespace) -> dict[str, Any]:
    """The command line's fields: the value of every cell a row leaves empty."""
    if args.voices and not args.audio:
        raise UsageError("--voice needs --audio (voices are only used in videos with sound)")
    return {
        "prompt": args.prompt,
        "image": args.image,
        "image_tail": args.tail,
        "resolution": args.resolution,
        "duration": args.duration,
        "generate_audio": True if args.audio else None,
        "negative_prompt": args.negative_prompt,
        "voice_ids": args.voices,
    }


def bad_rows(exc: InputError, source: str) -> int:
    """Every bad row on its own line (they were all found at once), exit 2."""
    print(
        f"kling-studio: {source}: {len(exc.problems)} problem(s), nothing was sent:",
        file=sys.stderr,
    )
    for problem in exc.problems:
        print(f"  {' '.join(str(problem).split())}", file=sys.stderr)
    return EXIT_USAGE


async def batch(args: argparse.Namespace) -> int:
    from .. import compare as cmp
    from ..budget import BudgetExceeded
    from ..runner._budgeting import Budgeting
    from ._spend import budget_from
    from ._terminal import warnings_in_one_line

    warnings_in_one_line()
    defaults = defaults_from(args)
    if args.out is not None and args.out.is_dir():
        raise UsageError(f"--out {args.out} is a folder; give a file name ending in .csv")
    budget = budget_from(args.budget)
    try:
        table = cmp.check_table(args.table, defaults)
    except InputError as exc:
        return bad_rows(exc, str(args.table))
    history = history_for(args)
    if args.dry_run:
        budgeting = Budgeting(history, budget)
        costs = cmp.plan_costs(budgeting, table, reuse=not args.no_reuse)
        _print_plan(table, costs)
        try:
            budgeting.check(*[r.variant.request for r in costs["to_send"]])
        except BudgetExceeded as exc:
            print(f"kling-studio: {' '.join(str(exc).split())}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK
    return await _run(args, table, history, budget)


def _print_plan(table: Any, costs: dict[str, Any]) -> None:
    history_rows = {r.where for r in costs["to_send"]}
    print(f"{len(table)} row(s):")
    for row in table.rows:
        params = row.variant.params
        if row.where in history_rows:
            credits = costs["per_row"].get(row.where)
            what = f"send (~{credits:g} credits)" if credits is not None else "send (cost unknown)"
        else:
            what = "reuse or follow a task of the history (nothing paid)"
        print(
            f"  {row.where}: {params['prompt']!r:.70} {params['resolution']} "
            f"{params['duration']}s image={params['image']}"
            + (f" tail={params['image_tail']}" if params.get("image_tail") else "")
            + f" -> {what}"
        )
    total = costs["credits"]
    unknown = costs["unknown_estimates"]
    estimate = "unknown" if total is None else f"about {total:g} credits"
    if unknown and total is not None:
        estimate += f" plus {unknown} task(s) of unknown cost"
    print(
        f"would send {costs['send']} task(s), reuse {costs['reuse']}, follow {costs['attach']} "
        f"already on their way; would reserve {estimate} (dry run: nothing was sent)"
    )


async def _run(args: argparse.Namespace, table: Any, history: Any, budget: Any) -> int:
    from .. import compare as cmp
    from ..client._async import AsyncClient
    from ..runner import Runner

    with backend(args) as (key, base_url):
        async with AsyncClient(key, base_url) as client:
            runner = Runner(
                client,
                history,
                max_in_flight=max(args.max_concurrency, 1),
                wait_timeout=args.timeout,
                budget=budget,
            )
            try:
                await runner.resume()  # a killed run's tasks: followed, never sent again
                started = await cmp.run_batch(
                    runner,
                    client,
                    table,
                    reuse=not args.no_reuse,
                    max_concurrency=args.max_concurrency,
                )
                with _Progress(len(table), sys.stderr.isatty()) as bar:
                    await cmp.wait_batch(started, runner, progress=bar.update, timeout=args.timeout)
                await runner.join()
            finally:
                await runner.aclose()
    result = cmp.batch_result(history, started)
    if args.out is not None:
        from ..history._records import write_frame

        write_frame(result, args.out, "csv")
    if args.json:
        print(result.to_json(orient="records", force_ascii=False))
    else:
        shown = result[[c for c in SHOWN_COLUMNS if c in result.columns]].copy()
        shown.insert(0, "row", rows_of(table))
        print(shown.to_string(index=False))
        print(
            f"batch {started.group_id}: {started.sent} sent, {started.reused} reused, "
            f"{len(started.attached)} followed from an earlier run"
        )
    statuses = list(zip(rows_of(table), result["status"], strict=True))
    unknown = [w for w, s in statuses if s == "unknown"]
    failed = [w for w, s in statuses if s not in ("completed", "unknown")]
    if unknown:
        print(
            f"kling-studio: {len(unknown)} row(s) have a task whose create's outcome is unknown: "
            f"{_few(unknown)}; they are never sent again by themselves (`kling-studio history "
            "--status unknown` lists them)",
            file=sys.stderr,
        )
    if failed:
        print(
            f"kling-studio: {len(failed)} row(s) did not end with a video: {_few(failed)}; "
            "`kling-studio batch` with the same table again follows or retries them without "
            "paying twice for any",
            file=sys.stderr,
        )
    if unknown or failed:
        return EXIT_FAILED
    return EXIT_OK


def _few(rows: list[str]) -> str:
    return ", ".join(rows[:5]) + (" ..." if len(rows) > 5 else "")


def rows_of(table: Any) -> list[str]:
    return [r.where for r in table.rows]


class _Progress:
    """A tqdm bar of rows on a terminal; a line per change otherwise (for logs)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled
        self._bar: Any = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="row", desc="batch", file=sys.stderr)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def update(self, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.n = done
            self._bar.refresh()
        else:
            print(f"batch: {done}/{total} row(s) done", file=sys.stderr)


def add_parser(sub: Any, backend_options: Any, history_option: Any) -> argparse.ArgumentParser:
    """The `batch` command's options (its defaults are the fields of empty cells)."""
    from .. import contract as c

    bat: argparse.ArgumentParser = sub.add_parser(
        "batch",
        help="run a CSV of requests (one row each; other columns fill {name} in prompts)",
    )
    bat.add_argument("table", type=Path, metavar="FILE.csv", help="the rows to run")
    bat.add_argument("--prompt", help="for rows without one; may use {column} templates")
    bat.add_argument("--image", help="first frame for rows without one: URL or local file")
    bat.add_argument("--tail", help="last frame for rows without one: URL or local file")
    bat.add_argument("--negative-prompt")
    bat.add_argument("--resolution", choices=c.RESOLUTIONS)
    bat.add_argument("--duration", type=int, choices=c.DURATIONS)
    bat.add_argument("--audio", action="store_true", help="generate sound for rows without a say")
    bat.add_argument("--voice", action="append", dest="voices", metavar="ID", help="voice id")
    bat.add_argument(
        "--dry-run", action="store_true", help="print the rows and the estimate; send nothing"
    )
    bat.add_argument(
        "--budget",
        metavar="SPEC",
        help="refuse the whole batch before its first task if it takes your spend past this "
        "(as for generate: credits=N, tasks=N, per=session|day|total, action=refuse|warn)",
    )
    bat.add_argument("--out", type=Path, metavar="FILE.csv", help="write the result table here")
    bat.add_argument("--json", action="store_true", help="print the result table as JSON")
    bat.add_argument(
        "--max-concurrency", type=int, default=4, help="tasks of the batch in flight at once"
    )
    bat.add_argument(
        "--no-reuse",
        action="store_true",
        help="send rows again even when the same request finished before",
    )
    bat.add_argument(
        "--timeout", type=float, default=3600.0, help="deadline in seconds for the whole batch"
    )
    backend_options(bat)
    history_option(bat, argparse.SUPPRESS)
    return bat
