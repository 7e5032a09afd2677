"""The runner's side of budgets: a refusal before anything is sent, and the reservation the
journal write checks again atomically (history/_budgets.py), so racing kernels never pass it.

Two checks, on purpose: `before_start` runs when a task is started, so a refusal reaches the
caller at once (from `Runner.start`) before a picture is uploaded; the journal write then checks
again in the transaction that reserves the task, which is what holds under concurrency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..budget import (
    BillingKey,
    Budget,
    BudgetExceeded,
    Estimate,
    PriceTable,
    billing_key_of,
    check_prices,
)
from ..history._budgets import Reservation
from ..history._rows import now
from ..history._store import History
from ..models import VideoRequest


@dataclass
class Budgeting:
    """A runner's budget (None: only what a teacher set in the history) and price table."""

    history: History
    budget: Budget | None = None
    prices: PriceTable | None = None
    session_started: datetime = field(default_factory=now)  # per="session" counts from here
    refused: dict[str, BudgetExceeded] = field(default_factory=dict)  # local id -> why

    def __post_init__(self) -> None:
        if self.budget is not None and not isinstance(self.budget, Budget):
            from ..errors import InputError

            raise InputError(
                f"budget is a kling_studio.Budget(...); got {type(self.budget).__name__}",
                "budget",
            )
        self.prices = check_prices(self.prices)

    def estimate(self, request: VideoRequest) -> Estimate:
        return self.history.estimate(request, self.prices)

    def estimates(self, *requests: VideoRequest) -> list[Estimate]:
        """Each request's estimate: one history read per billing key, however many variants
        of a grid share it."""
        by_key: dict[BillingKey, Estimate] = {}
        for request in requests:
            key = billing_key_of(request)
            if key not in by_key:
                by_key[key] = self.history.estimate_key(key, self.prices)
        return [by_key[billing_key_of(r)] for r in requests]

    def check(self, *requests: VideoRequest) -> list[Estimate]:
        """Raise BudgetExceeded if starting all of `requests` would go over; their estimates."""
        estimates = self.estimates(*requests)
        self.history.check_budgets(
            self.budget,
            [e.credits for e in estimates],
            session_started=self.session_started,
        )
        return estimates

    def before_start(self, request: VideoRequest) -> Reservation:
        """Refuse a task over budget before it is scheduled; else what its journal reserves."""
        (found,) = self.check(request)
        return Reservation(self.budget, found.credits, self.session_started)


def total(estimates: Sequence[Estimate]) -> tuple[float, int]:
    """The known credits of `estimates` added up, and how many are unknown."""
    known = sum(e.credits for e in estimates if e.credits is not None)
    return float(known), sum(e.credits is None for e in estimates)
