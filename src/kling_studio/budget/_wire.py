"""A refused budget on the wire: the class gateway answers 402 with error code
`budget_exceeded` and these fields beside the message, and the client raises the same
`BudgetExceeded` a local budget raises (so the studio shows it beside Generate either way)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from ..errors import InputError
from ._budget import Budget, BudgetExceeded

BUDGET_EXCEEDED: Final = "budget_exceeded"  # the error code of a 402 that a budget refused


def refusal_fields(exc: BudgetExceeded) -> dict[str, Any]:
    """What the gateway sends in the error object besides message, type and code."""
    budget = exc.budget
    return {
        "budget": {
            "credits": budget.credits,
            "tasks": budget.tasks,
            "per": budget.per,
            "action": budget.action,
        },
        "spent_credits": exc.spent_credits,
        "spent_tasks": exc.spent_tasks,
        "resets_at": exc.resets_at.isoformat() if exc.resets_at is not None else None,
    }


def refusal_from(message: str, fields: dict[str, Any]) -> BudgetExceeded:
    """The BudgetExceeded an error object describes; odd fields fall back to what the message
    alone says (the message is what a person reads)."""
    raw = fields.get("budget")
    raw = raw if isinstance(raw, dict) else {}
    try:
        budget = Budget(**{k: raw[k] for k in ("credits", "tasks", "per", "action") if k in raw})
    except (InputError, TypeError, ValueError, KeyError):
        budget = Budget(tasks=0, per="total")
    try:
        resets_at = datetime.fromisoformat(str(fields["resets_at"]))
    except (KeyError, TypeError, ValueError):
        resets_at = None
    return BudgetExceeded(
        message,
        spent_credits=_number(fields.get("spent_credits")),
        spent_tasks=int(_number(fields.get("spent_tasks"))),
        budget=budget,
        resets_at=resets_at,
    )


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
