"""Spend you can see and cap: budgets, estimates before sending, and the credits ledger."""

from ._budget import Budget, BudgetExceeded, BudgetWarning, Spend, Window, check, window
from ._estimate import BillingKey, Estimate, PriceTable, billing_key, billing_key_of, estimate
from ._ledger import spend_frame, task_cost

__all__ = [
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
    "check",
    "estimate",
    "spend_frame",
    "task_cost",
    "window",
]
