"""Budgets held by the history: the check-and-reserve that runs inside the journal's write
transaction, the budgets a teacher sets per user, estimates from past tasks, and spend tables.

Why in the journal's transaction: the spend a budget counts is the history's rows, so the check
and the row that reserves the new task must be one atomic step, or eight kernels of one user
pressing Generate at once would all see the same spend and all go. SQLite writes are
`BEGIN IMMEDIATE` (one writer at a time); on PostgreSQL the transaction first takes an advisory
lock keyed on the user, so that user's journal writes queue while other users' do not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Final, TypeVar

from ..budget import (
    DEFAULT_ZONE,
    BillingKey,
    Budget,
    Estimate,
    PriceTable,
    Spend,
    billing_key,
    billing_key_of,
    budget_zone,
    check,
    estimate,
    spend_frame,
    task_cost,
    window,
)
from ..budget._ledger import LOCAL_MODEL_PREFIX, NOT_BILLED, By
from ..config import resolve_user
from ..errors import HistoryError, InputError, KlingStudioError
from ._rows import iso, now, parse_time

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Connection

    from ..models import VideoRequest

_T = TypeVar("_T")
TIMEZONE_KEY: Final = "budget_timezone"  # the `settings` row of the zone a budget's day is in
EVERYONE: Final = "*"  # the `budgets.user` of a budget for every user without one of their own
ESTIMATE_LOOKBACK: Final = 200  # past tasks with the same model, resolution and duration read


@dataclass(frozen=True)
class Reservation:
    """What `History.journal_submit` needs to hold a new task to its budgets: the caller's
    budget (a Studio's or Runner's; a teacher's from the `budgets` table is added), the credits
    the task is expected to reserve (None: unknown, counted at the budget's stated default until
    FoxAPI reports its figure), when the caller's session started (for per="session"), and
    the zone whose days per="day" counts (None: the history's budget zone)."""

    budget: Budget | None
    estimate: float | None
    session_started: datetime
    timezone: str | None = None
    # At most this many of the user's tasks unfinished at once (the class gateway's
    # --max-in-flight), counted in the same transaction: InFlightLimit, nothing recorded.
    max_unfinished: int | None = None


class InFlightLimit(KlingStudioError):
    """The user already has `limit` unfinished tasks; nothing was recorded or sent."""

    def __init__(self, user: str, unfinished: int, limit: int) -> None:
        super().__init__(
            f"{user} has {unfinished} unfinished tasks, the most allowed at once ({limit}); "
            "try again when one has finished. Nothing was sent."
        )
        self.unfinished = unfinished
        self.limit = limit


def lock_key(user: str) -> int:
    """A signed 64-bit key for `pg_advisory_xact_lock`: one per user."""
    digest = hashlib.sha256(f"kling-studio budget\0{user}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def reserve(conn: Connection, user: str, reservation: Reservation) -> None:
    """Raise BudgetExceeded (or warn) before the journal row is inserted, in its transaction."""
    if conn.dialect.name == "postgresql":
        # First, before any read (so even under REPEATABLE READ the spend read below includes
        # the rows of whoever held the lock before), and held until commit: this user's next
        # journal write waits for this one. Other users' writes do not.
        from sqlalchemy import text

        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(user)})
    if reservation.max_unfinished is not None:
        _check_in_flight(conn, user, reservation.max_unfinished)
    teacher = _teacher_row(conn, user)
    checks: list[tuple[Budget, str | None]] = []
    if reservation.budget is not None:
        checks.append((reservation.budget, None))
    if teacher is not None:
        checks.append((teacher[0], teacher[1] or "someone"))
    if not checks:
        return
    zone = zone_of(conn, reservation.timezone)
    moment = now()
    rows = _spend_rows(conn, user, _earliest(checks, moment, reservation.session_started, zone))
    for budget, set_by in checks:
        win = window(budget.per, moment, reservation.session_started, zone)
        spent = spend_of(rows, budget, win.start)
        cost = budget.unknown_task_credits if reservation.estimate is None else reservation.estimate
        check(budget, spent, cost, resets_at=win.resets_at, who=user, set_by=set_by)


def _check_in_flight(conn: Connection, user: str, limit: int) -> None:
    from sqlalchemy import func, select

    from ._records import ACTIVE
    from ._schema import tasks

    query = select(func.count()).where(tasks.c.author == user, tasks.c.status.in_(sorted(ACTIVE)))
    unfinished = int(conn.execute(query).scalar_one())
    if unfinished >= limit:
        raise InFlightLimit(user, unfinished, limit)


def _earliest(
    checks: list[tuple[Budget, str | None]],
    moment: datetime,
    session_started: datetime,
    zone: tzinfo,
) -> datetime | None:
    starts = [window(b.per, moment, session_started, zone).start for b, _ in checks]
    return None if any(s is None for s in starts) else min(s for s in starts if s is not None)


def _spend_rows(conn: Connection, user: str, since: datetime | None) -> list[Any]:
    """The user's journalled tasks since `since` that may have cost something."""
    from sqlalchemy import select

    from ._schema import tasks

    query = select(
        tasks.c.status, tasks.c.credits_reserved, tasks.c.credits_estimate, tasks.c.submitted_at
    ).where(tasks.c.author == user, ~tasks.c.model.startswith(LOCAL_MODEL_PREFIX))
    if since is not None:
        query = query.where(tasks.c.submitted_at >= iso(since))
    return list(conn.execute(query))


def spend_of(rows: Iterable[Any], budget: Budget, since: datetime | None) -> Spend:
    """What counts against `budget` from `since` on (each task by `_ledger.task_cost`)."""
    start = iso(since) if since is not None else None
    credits, count = 0.0, 0
    for row in rows:
        if start is not None and row.submitted_at < start:
            continue
        if row.status in NOT_BILLED:
            continue
        count += 1
        credits += task_cost(
            row.status, row.credits_reserved, row.credits_estimate, budget.unknown_task_credits
        )
    return Spend(credits, count)


def stored_zone_name(conn: Connection) -> str:
    """The history's budget time zone as stored ("UTC" while none was set)."""
    from sqlalchemy import select

    from ._schema import settings

    query = select(settings.c.value).where(settings.c.key == TIMEZONE_KEY)
    value = conn.execute(query).scalar()
    return DEFAULT_ZONE if value is None else str(value)


def zone_of(conn: Connection, timezone: str | None) -> tzinfo:
    """`timezone` (a caller's choice), else the history's budget zone; never the kernel's."""
    if timezone is not None:
        return budget_zone(timezone)
    name = stored_zone_name(conn)
    try:
        return budget_zone(name)
    except InputError:
        raise HistoryError(
            f"The history's budget time zone {name!r} (settings row {TIMEZONE_KEY!r}) is not a "
            "time zone this machine knows: set a valid one with "
            'History.set_budget_timezone("UTC") (or an IANA name such as "Europe/Paris").'
        ) from None


def _teacher_row(conn: Connection, user: str) -> tuple[Budget, str | None] | None:
    """The budget set for this user, else the one set for everyone ('*'), with who set it."""
    from sqlalchemy import select

    from ._schema import budgets

    rows = {
        r.user: r for r in conn.execute(select(budgets).where(budgets.c.user.in_([user, EVERYONE])))
    }
    row = rows.get(user) or rows.get(EVERYONE)
    if row is None:
        return None
    budget = Budget(credits=row.credits, tasks=row.tasks, per=row.per, action=row.action)
    return budget, row.set_by


def _key_of_row(row: Any) -> BillingKey:
    try:
        voices = len(json.loads(row.payload or "{}").get("voice_ids") or ())
    except (ValueError, AttributeError):
        voices = 0
    return billing_key(
        model=row.model,
        resolution=row.resolution,
        duration=row.duration,
        generate_audio=bool(row.generate_audio),
        voices=voices,
    )


class Budgets:
    """The history's side of budgets (a mixin of History)."""

    user: str
    started_at: datetime

    def _run(self, work: Callable[[Connection], _T], *, write: bool) -> _T:
        raise NotImplementedError

    # --- the day a budget counts --------------------------------------------------------------

    @property
    def budget_timezone(self) -> str:
        """The time zone whose calendar days per="day" budgets and `spend()` count: one for
        the whole history ("UTC" unless whoever sets budgets chose another), whatever the time
        zone of the kernel reading it."""
        return self._run(stored_zone_name, write=False)

    def set_budget_timezone(self, zone: str) -> str:
        """Count budget days (and `spend()`'s days) in `zone`, an IANA name such as
        "Europe/Paris", for every kernel of this history; returns the name stored."""
        from sqlalchemy import delete, insert

        from ._schema import settings

        name = budget_zone(zone).key
        row = {"key": TIMEZONE_KEY, "value": name, "set_by": self.user, "set_at": iso(now())}

        def work(conn: Connection) -> None:
            conn.execute(delete(settings).where(settings.c.key == TIMEZONE_KEY))
            conn.execute(insert(settings).values(row))

        self._run(work, write=True)
        return name

    # --- budgets a teacher sets ---------------------------------------------------------------

    def set_budget(
        self,
        user: str | None = None,
        *,
        credits: float | None = None,
        tasks: int | None = None,
        per: str = "day",
        action: str = "refuse",
    ) -> Budget:
        """Cap a user's spend in this history (user=None or "*": everyone without a budget of
        their own). Every kernel of that user honours it, alongside any budget they pass.
        `per` is "day" (a calendar day) by default: a per-session budget would reset whenever
        the student restarts a kernel."""
        from sqlalchemy import delete, insert

        from ._schema import budgets

        who = _budget_user(user)
        budget = Budget(credits=credits, tasks=tasks, per=per, action=action)  # type: ignore[arg-type]
        row = {
            "user": who,
            "credits": budget.credits,
            "tasks": budget.tasks,
            "per": budget.per,
            "action": budget.action,
            "set_by": self.user,
            "set_at": iso(now()),
        }

        def work(conn: Connection) -> None:
            conn.execute(delete(budgets).where(budgets.c.user == who))
            conn.execute(insert(budgets).values(row))

        self._run(work, write=True)
        return budget

    def clear_budget(self, user: str | None = None) -> bool:
        """Remove the budget set for a user (or for everyone); True if there was one."""
        from sqlalchemy import delete

        from ._schema import budgets

        who = _budget_user(user)

        def work(conn: Connection) -> bool:
            return bool(conn.execute(delete(budgets).where(budgets.c.user == who)).rowcount)

        return self._run(work, write=True)

    def budgets(self) -> dict[str, Budget]:
        """Every budget set in this history, by user ("*": everyone)."""
        from sqlalchemy import select

        from ._schema import budgets

        def work(conn: Connection) -> dict[str, Budget]:
            return {
                r.user: Budget(credits=r.credits, tasks=r.tasks, per=r.per, action=r.action)
                for r in conn.execute(select(budgets).order_by(budgets.c.user))
            }

        return self._run(work, write=False)

    def budget_for(self, user: str | None = None) -> Budget | None:
        """The budget set for a user (default: this history's user), else for everyone."""
        who = resolve_user(user) if user not in (None, "me") else self.user

        def work(conn: Connection) -> Budget | None:
            found = _teacher_row(conn, who)
            return found[0] if found else None

        return self._run(work, write=False)

    def spent(
        self,
        budget: Budget,
        *,
        user: str | None = None,
        session_started: datetime | None = None,
        timezone: str | None = None,
    ) -> Spend:
        """What counts against `budget` now, for a user (default: this history's user); a day
        is one in `timezone` (default: the history's budget zone)."""
        who = self.user if user in (None, "me") else str(user)
        started = session_started or self.started_at
        if timezone is not None:
            budget_zone(timezone)  # a bad zone is refused before the history is read

        def work(conn: Connection) -> Spend:
            win = window(budget.per, now(), started, zone_of(conn, timezone))
            return spend_of(_spend_rows(conn, who, win.start), budget, win.start)

        return self._run(work, write=False)

    def check_budgets(
        self,
        budget: Budget | None,
        estimates: Sequence[float | None],
        *,
        session_started: datetime | None = None,
        timezone: str | None = None,
    ) -> None:
        """Refuse now, reserving nothing, what `journal_submit` would refuse: tasks costing
        `estimates` (None: unknown, at the budget's default) started together, e.g. a whole
        comparison. Only refusing budgets are asked here (a warning comes once, when the task
        is journalled). A day is one in `timezone` (default: the history's budget zone)."""
        who = self.user
        started = session_started or self.started_at
        if timezone is not None:
            budget_zone(timezone)

        def work(conn: Connection) -> None:
            teacher = _teacher_row(conn, who)
            found: list[tuple[Budget, str | None]] = []
            if budget is not None:
                found.append((budget, None))
            if teacher is not None:
                found.append((teacher[0], teacher[1] or "someone"))
            if not found or not estimates:
                return
            zone = zone_of(conn, timezone)
            moment = now()
            for each, set_by in found:
                if each.action != "refuse":
                    continue
                win = window(each.per, moment, started, zone)
                spent = spend_of(_spend_rows(conn, who, win.start), each, win.start)
                costs = [each.unknown_task_credits if e is None else e for e in estimates]
                check(
                    each,
                    spent,
                    sum(costs),
                    resets_at=win.resets_at,
                    who=who,
                    set_by=set_by,
                    count=len(costs),
                )

        self._run(work, write=False)

    # --- estimates and the ledger -------------------------------------------------------------

    def estimate(self, request: VideoRequest, prices: PriceTable | None = None) -> Estimate:
        """The credits `request` will reserve: FoxAPI's figure for the last task (anyone's) with
        the same billing settings, else `prices`, else unknown."""
        return self.estimate_key(billing_key_of(request), prices)

    def estimate_key(self, key: BillingKey, prices: PriceTable | None = None) -> Estimate:
        """The same, for billing settings (e.g. a form without pictures yet)."""
        from sqlalchemy import select

        from ._schema import tasks

        query = (
            select(
                tasks.c.model,
                tasks.c.resolution,
                tasks.c.duration,
                tasks.c.generate_audio,
                tasks.c.payload,
                tasks.c.credits_reserved,
            )
            .where(
                tasks.c.credits_reserved.is_not(None),
                tasks.c.model == key.model,
                tasks.c.resolution == key.resolution,
                tasks.c.duration == key.duration,
            )
            .order_by(tasks.c.submitted_at.desc())
            .limit(ESTIMATE_LOOKBACK)
        )

        def work(conn: Connection) -> list[tuple[BillingKey, float]]:
            return [(_key_of_row(r), float(r.credits_reserved)) for r in conn.execute(query)]

        return estimate(key, self._run(work, write=False), prices)

    def spend(
        self,
        by: By | tuple[By, ...] = ("day", "user"),
        *,
        user: str | None = None,
        timezone: str | None = None,
    ) -> pd.DataFrame:
        """The ledger as a table: tasks and credits by day and user (or by="settings", ...).

        `credits` are FoxAPI's figures (`usage.credits_reserved`); `estimated` the credits of
        tasks whose figure has not come yet, at the estimate made when they were sent. A `day`
        is one in `timezone` (default: the history's budget zone, the day budgets count)."""
        from sqlalchemy import select

        from ._schema import tasks

        query = select(
            tasks.c.submitted_at,
            tasks.c.author,
            tasks.c.status,
            tasks.c.credits_reserved,
            tasks.c.credits_estimate,
            tasks.c.model,
            tasks.c.resolution,
            tasks.c.duration,
            tasks.c.generate_audio,
            tasks.c.payload,
        ).where(~tasks.c.model.startswith(LOCAL_MODEL_PREFIX))
        if user is not None:
            query = query.where(tasks.c.author == (self.user if user == "me" else user))

        if timezone is not None:
            budget_zone(timezone)

        def work(conn: Connection) -> tuple[list[dict[str, Any]], tzinfo]:
            return [
                {
                    "submitted_at": parse_time(r.submitted_at),
                    "user": r.author,
                    "status": r.status,
                    "credits_reserved": r.credits_reserved,
                    "credits_estimate": r.credits_estimate,
                    "settings": f"{r.model} {_key_of_row(r).describe()}",
                }
                for r in conn.execute(query)
            ], zone_of(conn, timezone)

        rows, zone = self._run(work, write=False)
        return spend_frame(rows, by, zone)


def _budget_user(user: str | None) -> str:
    if user is None or user == EVERYONE:
        return EVERYONE
    if not isinstance(user, str) or not user.strip():
        raise InputError("user is a user name, or None / '*' for everyone", "user")
    return user.strip()
