"""A spending limit and its verdict: pure, so it is tested on a fixed clock.

The limit counts what the user's tasks *reserved* in the history (see `_ledger.task_cost`), so
every kernel and process of that user on the same history shares it. Where the check runs
against the history (in the same transaction as the journal row that reserves the task), see
`History.journal`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import InputError, KlingStudioError

Per = Literal["session", "day", "total"]
Action = Literal["refuse", "warn"]
PERIODS: Final = ("session", "day", "total")
ACTIONS: Final = ("refuse", "warn")


class BudgetExceeded(KlingStudioError):
    """A task would take the spend past a budget. Nothing was sent."""

    def __init__(
        self,
        message: str,
        *,
        spent_credits: float,
        spent_tasks: int,
        budget: Budget,
        resets_at: datetime | None,
    ) -> None:
        super().__init__(message)
        self.spent_credits = spent_credits
        self.spent_tasks = spent_tasks
        self.budget = budget
        self.resets_at = resets_at


class BudgetWarning(UserWarning):
    """A budget with action="warn" was passed; the task was sent all the same."""


@dataclass(frozen=True)
class Budget:
    """At most `credits` credits and/or `tasks` tasks per session, calendar day or in total.

    `action="refuse"` (the default) stops a task before any request is sent; `"warn"` lets it
    through with a `BudgetWarning`. A task whose cost cannot be estimated yet counts at
    `unknown_task_credits` until FoxAPI reports its figure.
    """

    credits: float | None = None
    tasks: int | None = None
    per: Per = "session"
    action: Action = "refuse"
    unknown_task_credits: float = 50.0

    def __post_init__(self) -> None:
        if self.credits is None and self.tasks is None:
            raise InputError("a budget needs a limit: credits=, tasks= or both", "budget")
        if self.credits is not None and (
            isinstance(self.credits, bool)
            or not isinstance(self.credits, int | float)
            or self.credits < 0
        ):
            raise InputError(f"credits is a number >= 0; got {self.credits!r}", "budget.credits")
        if self.tasks is not None and (
            isinstance(self.tasks, bool) or not isinstance(self.tasks, int) or self.tasks < 0
        ):
            raise InputError(f"tasks is a whole number >= 0; got {self.tasks!r}", "budget.tasks")
        if self.per not in PERIODS:
            raise InputError(f"per is one of {', '.join(PERIODS)}; got {self.per!r}", "budget.per")
        if self.action not in ACTIONS:
            raise InputError(
                f"action is one of {', '.join(ACTIONS)}; got {self.action!r}", "budget.action"
            )
        if (
            isinstance(self.unknown_task_credits, bool)
            or not isinstance(self.unknown_task_credits, int | float)
            or self.unknown_task_credits < 0
        ):
            raise InputError("unknown_task_credits is a number >= 0", "budget.unknown_task_credits")

    def describe(self) -> str:
        limits = []
        if self.credits is not None:
            limits.append(f"{self.credits:g} credits")
        if self.tasks is not None:
            limits.append(f"{self.tasks} task{'s' if self.tasks != 1 else ''}")
        period = {"session": "this session", "day": "a day", "total": "in total"}[self.per]
        return f"{' and '.join(limits)} {period}"


DEFAULT_ZONE: Final = "UTC"  # a history's budget day until whoever sets budgets picks a zone


def budget_zone(name: object) -> ZoneInfo:
    """The IANA time zone called `name` (e.g. "Europe/Paris"), or a clear InputError."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(
            f'a budget time zone is an IANA name such as "UTC" or "Europe/Paris"; got {name!r}',
            "timezone",
        )
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f'unknown time zone {name!r}: give an IANA name such as "UTC", "Europe/Paris" or '
            '"America/New_York" (zoneinfo.available_timezones() lists them)',
            "timezone",
        ) from None


@dataclass(frozen=True)
class Window:
    """The stretch of time a budget counts: [start, resets_at); None means unbounded."""

    start: datetime | None
    resets_at: datetime | None


def window(per: Per, now: datetime, session_started: datetime, zone: tzinfo = UTC) -> Window:
    """Calendar days are days in `zone`: the history's budget time zone, never the kernel's
    own, so that every kernel of a class sees the same day whatever its `TZ`."""
    if per == "session":
        return Window(session_started, None)
    if per == "day":
        today = now.astimezone(zone).date()
        # From the date, not `replace(hour=0)`: a day is 23 or 25 hours across a DST change.
        start = datetime.combine(today, time(0), zone)
        return Window(start, datetime.combine(today + timedelta(days=1), time(0), zone))
    return Window(None, None)


@dataclass(frozen=True)
class Spend:
    """What already counts against a budget in its window."""

    credits: float
    tasks: int


def check(
    budget: Budget,
    spent: Spend,
    cost: float,
    *,
    resets_at: datetime | None,
    who: str,
    count: int = 1,
    set_by: str | None = None,
) -> None:
    """Raise `BudgetExceeded` (or warn) if `count` more tasks (one by default; a comparison's
    at once) costing `cost` in all go over the budget."""
    over = []
    if budget.tasks is not None and spent.tasks + count > budget.tasks:
        needs = f" and this needs {count}" if count > 1 else ""
        over.append(f"{spent.tasks} of {budget.tasks} tasks used{needs}")
    if budget.credits is not None and spent.credits + cost > budget.credits:
        what = "this task needs" if count == 1 else f"these {count} tasks need"
        over.append(
            f"{spent.credits:g} of {budget.credits:g} credits spent and {what} about {cost:g}"
        )
    if not over:
        return
    when = (
        f"it resets at {resets_at:%Y-%m-%d %H:%M %Z}"  # in the budget's zone, as counted
        if resets_at is not None
        else ("it lasts for this session" if budget.per == "session" else "it never resets")
    )
    raise_it = (
        "Raise it with a larger Budget(...)."
        if set_by is None
        else f"It was set in the history by {set_by}: ask them to raise it (History.set_budget)."
    )
    message = f"budget of {budget.describe()} for {who}: {'; '.join(over)}; {when}. {raise_it}"
    if budget.action == "warn":
        warnings.warn(message, BudgetWarning, stacklevel=3)
        return
    raise BudgetExceeded(
        message + " Nothing was sent.",
        spent_credits=spent.credits,
        spent_tasks=spent.tasks,
        budget=budget,
        resets_at=resets_at,
    )
