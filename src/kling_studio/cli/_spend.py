"""`kling-studio spend`, and `generate --budget / --dry-run`: the CLI's side of budgets."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import InputError


def budget_from(spec: str | None) -> Any:
    """`--budget tasks=3,per=day` as a Budget; a bad spec is a usage error."""
    if spec is None:
        return None
    from ..budget import Budget

    fields: dict[str, Any] = {}
    for item in spec.split(","):
        name, sep, value = (part.strip() for part in item.partition("="))
        if not sep or name not in ("credits", "tasks", "per", "action") or name in fields:
            raise InputError(
                f"--budget {spec!r}: give name=value items (credits, tasks, per, action) "
                "separated by commas, e.g. tasks=3,per=day",
                "budget",
            )
        try:
            fields[name] = {"credits": float, "tasks": int}.get(name, str)(value)
        except ValueError:
            raise InputError(f"--budget: {name} is a number; got {value!r}", "budget") from None
    try:
        return Budget(**fields)
    except InputError as exc:
        raise InputError(f"--budget: {exc}", exc.field) from None


def dry_run(request: Any, history: Any, budget: Any) -> int:
    """What the task would cost and whether a budget lets it through; nothing is sent."""
    from ..budget import BudgetExceeded

    request.check()
    found = history.estimate(request)
    if found.credits is None:
        print(
            f"would reserve: unknown until a first {found.key.describe()} task "
            "(dry run: nothing was sent)"
        )
    else:
        print(
            f"would reserve about {found.credits:g} credits ({found.source}, "
            f"{found.key.describe()}) (dry run: nothing was sent)"
        )
    try:
        history.check_budgets(budget, [found.credits])
    except BudgetExceeded as exc:
        print(f"kling-studio: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    return 0


def spend(history: Any, args: argparse.Namespace) -> int:
    """The ledger: tasks and credits (FoxAPI's figures; `estimated` while a figure is due)."""
    by = tuple(args.by) if args.by else ("day", "user")
    table = history.spend(by, user=args.user)
    if args.csv:
        table.to_csv(sys.stdout, index=False)
    elif args.json:
        print(table.to_json(orient="records"))
    elif table.empty:
        print("no tasks yet")
    else:
        print(table.to_string(index=False))
    return 0
