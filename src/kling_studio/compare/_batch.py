"""Running a batch: a checked table (`_batchtable.py`) becomes a comparison whose variants are its
rows, so it is shown, judged, summed up and exported like any other.

Nothing is paid twice. A row whose request (by hash, as comparisons reuse) finished before is
reused; a row whose task is still on its way, or whose create's outcome is unknown (a batch
killed half-way), is attached to that task and followed, never sent again; only the rest is sent,
after the whole batch passed the budgets. So running a killed batch's table again resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ..errors import KlingStudioError
from ..history._measures import MEASURE_COLUMNS
from ..history._records import MEASURE_DTYPES, TERMINAL, TaskRecord
from ..history._store import History
from ..history._view import view
from ..models import PreparedRequest
from ._batchtable import BatchRow, BatchTable
from ._measured import measured
from ._plan import DEFAULT_MAX_CONCURRENCY, differing_names
from ._planfile import Entry, Plan, check_group_id, plans_dir, save_plan
from ._run import Comparison, new_group_id, reusable

if TYPE_CHECKING:
    import pandas as pd

    from ..budget import Estimate
    from ..client._async import AsyncClient
    from ..runner import Runner
    from ..runner._budgeting import Budgeting

Progress = Callable[[int, int], None]
POLL_S: Final = 0.5  # how often a task another kernel follows is looked up in the history
RESULT_COLUMNS: Final = ("local_id", "task_id", "status", "video_path", "credits")


@dataclass
class Batch:
    """A batch being run: its table, its comparison, and where each row's task came from."""

    table: BatchTable
    comparison: Comparison
    sent: int = 0  # rows whose create this run sends
    reused: int = 0  # rows shown by a finished task of the history
    attached: dict[str, str] = field(default_factory=dict)  # label -> a task still on its way

    @property
    def group_id(self) -> str:
        return self.comparison.group_id

    def __repr__(self) -> str:
        return (
            f"Batch(group_id={self.group_id!r}, rows={len(self.table)}, sent={self.sent}, "
            f"reused={self.reused}, attached={len(self.attached)})"
        )


def on_its_way(history: History) -> dict[str, TaskRecord]:
    """Tasks not finished (sent, or whose create's outcome is unknown) by request hash: a row
    with the same request follows that task instead of paying again."""
    found: dict[str, TaskRecord] = {}
    for record in history.unfinished():
        found.setdefault(record.request_hash, record)
    return found


def plan_costs(budgeting: Budgeting, table: BatchTable, *, reuse: bool = True) -> dict[str, Any]:
    """What running `table` would do, sending nothing: rows to send, reuse, attach, and the
    estimate of the credits the sent ones reserve (`to_send`: those rows)."""
    history = budgeting.history
    live = on_its_way(history)
    to_send: list[BatchRow] = []
    reused = attached = 0
    for row in table.rows:
        if reuse and reusable(history, row.variant.hash) is not None:
            reused += 1
        elif row.variant.hash in live:
            attached += 1
        else:
            to_send.append(row)
    estimates: list[Estimate] = budgeting.estimates(*(r.variant.request for r in to_send))
    known = [e.credits for e in estimates if e.credits is not None]
    return {
        "rows": len(table),
        "send": len(to_send),
        "reuse": reused,
        "attach": attached,
        "credits": sum(known) if known else (0.0 if not to_send else None),
        "unknown_estimates": sum(e.credits is None for e in estimates),
        "per_row": {r.where: e.credits for r, e in zip(to_send, estimates, strict=True)},
        "to_send": to_send,
    }


async def run_batch(
    runner: Runner,
    client: AsyncClient,
    table: BatchTable,
    *,
    reuse: bool = True,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    title: str | None = None,
    group_id: str | None = None,
) -> Batch:
    """Start a checked batch; returns once every row is reused, attached or prepared.

    The budgets see every row to send before the first upload (BudgetExceeded: nothing sent),
    and each task is held to them again when it is journalled (runner/_budgeting.py). Call
    `runner.resume()` first to follow the tasks a killed run left (the CLI and studio do)."""
    history = runner.history
    group_id = check_group_id(group_id) if group_id else new_group_id().replace("ab-", "batch-")
    if (plans_dir(history) / f"{group_id}.json").exists() or history.comparison_plan(group_id):
        from ..errors import InputError

        raise InputError(f"a comparison {group_id!r} exists already; pick another id", "group_id")
    live = on_its_way(history)

    def found(hash_: str) -> tuple[TaskRecord | None, bool]:
        old = reusable(history, hash_) if reuse else None
        if old is not None:
            return old, False
        return live.get(hash_), True

    fresh = [r for r in table.rows if found(r.variant.hash)[0] is None]
    runner.check_budget(*[r.variant.request for r in fresh])
    batch_entries: list[Entry] = []
    jobs: list[tuple[Entry, PreparedRequest]] = []
    batch = Batch(table, Comparison(history, Plan(group_id, "", 0.0, [], [])))
    for row in table.rows:
        variant = row.variant
        entry = Entry(variant.label, {**variant.params, "row": row.where}, variant.hash)
        old, on_way = found(variant.hash)
        if old is None:
            prepared = await client.prepare(variant.request)
            entry.hash = prepared.hash
            old, on_way = found(prepared.hash)
            if old is None:
                jobs.append((entry, prepared))
        if old is not None:
            entry.local_id, entry.reused = old.local_id, True
            if on_way:
                batch.attached[entry.label] = old.local_id
        batch_entries.append(entry)
    differing = differing_names([r.variant.keys for r in table.rows])
    plan = Plan(
        group_id,
        title or f"batch of {len(table)} from {table.source}",
        time.time(),
        differing,
        batch_entries,
    )
    save_plan(history, plan)
    requests = {r.variant.label: r.variant.request for r in table.rows}
    batch.comparison = Comparison(history, plan, requests=requests, runner=runner)
    batch.sent = len(jobs)
    batch.reused = len(table) - len(jobs) - len(batch.attached)
    batch.comparison._start(runner, jobs, max_concurrency)
    return batch


def finished_rows(batch: Batch) -> int:
    """Rows whose task ended (or that never got one), for a progress bar."""
    done = 0
    for entry in batch.comparison.entries:
        if entry.local_id is None:
            done += batch.comparison.status(entry) == "failed"
            continue
        record = batch.comparison.history.get(entry.local_id)
        done += record is not None and record.status in TERMINAL
    return done


async def wait_batch(
    batch: Batch,
    runner: Runner,
    *,
    progress: Progress | None = None,
    timeout: float | None = None,
) -> None:
    """Wait until every row's task ended (attached ones included; a task another kernel
    follows is looked up in the history), calling `progress(done, total)` as rows end."""
    total = len(batch.table)
    last = -1

    def tick() -> None:
        nonlocal last
        done = finished_rows(batch)
        if progress is not None and done != last:
            last = done
            progress(done, total)

    async def attached(local_id: str) -> None:
        while True:
            with contextlib.suppress(KlingStudioError):
                await runner.finished(local_id)
            record = runner.history.get(local_id)
            if record is None or record.status in TERMINAL or record.status == "unknown":
                return
            await asyncio.sleep(POLL_S)  # followed by another kernel, or adopted later

    async def everything() -> None:
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(batch.comparison.wait())]
        waits += [asyncio.ensure_future(attached(i)) for i in batch.attached.values()]
        pending = set(waits)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=POLL_S)
            tick()
        for w in waits:
            w.result()

    tick()
    await asyncio.wait_for(everything(), timeout)
    await runner.measured()  # the result table carries them: measured once, not twice
    tick()


def batch_result(history: History, batch: Batch) -> pd.DataFrame:
    """The input table with, per row, `local_id`, `task_id`, `status` (as shown),
    `video_path`, `credits` (FoxAPI's credits_reserved) and the measures of its video."""
    import pandas as pd

    entries = batch.comparison.entries
    ids = [e.local_id for e in entries]
    found = measured(history, ids)
    rows = []
    for row, entry in zip(batch.table.rows, entries, strict=True):
        record = history.get(entry.local_id) if entry.local_id else None
        cells: dict[str, Any] = dict(row.cells)
        cells["local_id"] = entry.local_id
        cells["task_id"] = record.task_id if record else None
        cells["status"] = (
            str(view(record).status) if record else batch.comparison.status(entry, None)
        )
        cells["video_path"] = str(record.video_path) if record and record.has_video else None
        cells["credits"] = record.credits_reserved if record else None
        values: Mapping[str, Any] = found.get(entry.local_id or "") or {}
        for name in MEASURE_COLUMNS:
            cells[name] = values.get(name)
        rows.append(cells)
    columns = [*batch.table.columns]
    columns += [c for c in (*RESULT_COLUMNS, *MEASURE_COLUMNS) if c not in columns]
    df = pd.DataFrame(rows, columns=columns)
    for name, dtype in MEASURE_DTYPES.items():
        df[name] = pd.Series(list(df[name]), index=df.index, dtype="object").astype(dtype)  # type: ignore[call-overload]
    df["credits"] = df["credits"].astype("float64")
    return df
