"""Spend you can see and cap: budgets, estimates before sending, and the credits ledger."""

from ._budget import (
    DEFAULT_ZONE,
    Budget,
    BudgetExceeded,
    BudgetWarning,
    Spend,
    Window,
    budget_zone,
    check,
    window,
)
from ._estimate import BillingKey, Estimate, PriceTable, billing_key, billing_key_of, estimate
from ._ledger import spend_frame, task_cost

__all__ = [
    "DEFAULT_ZONE",
    "BillingKey",
    "Budget",
    "BudgetExceeded",
    "BudgetWarning",
    "Estimate",
    "PriceTable",
    "Spend",
    "Window",
    "billing_key",
    "billing_key_of",
    "budget_zone",
    "check",
    "estimate",
    "spend_frame",
    "task_cost",
    "window",
]
