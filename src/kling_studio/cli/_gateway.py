"""`kling-studio gateway serve | user add | user budget | user revoke | user list`: the class
gateway (gateway/) and its students, administered through the class history's database."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from ._common import EXIT_OK, UsageError
from ._spend import budget_from


def configure_parser(parser: argparse.ArgumentParser, history_option: Any) -> None:
    sub = parser.add_subparsers(dest="gateway_command", required=True, parser_class=type(parser))
    serve = sub.add_parser("serve", help="serve FoxAPI's routes to students with the one key")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8710, help="port (0: any free one)")
    serve.add_argument(
        "--upstream",
        metavar="URL",
        help="the FoxAPI to forward to (default: FoxAPI); 'simulator': a built-in simulator",
    )
    serve.add_argument(
        "--timezone",
        help="the IANA zone whose midnight ends a budget's day (default: the class history's "
        "budget zone, UTC unless set)",
    )
    serve.add_argument(
        "--max-in-flight",
        type=int,
        metavar="N",
        help="at most N unfinished tasks per student (429 with Retry-After beyond)",
    )
    serve.add_argument(
        "--jupyterhub", action="store_true", help="also accept JupyterHub API tokens"
    )
    serve.add_argument(
        "--time-scale", type=float, default=1.0, help="with --upstream simulator: its speed"
    )
    user = sub.add_parser("user", help="the class's students: add, budget, revoke, list")
    users = user.add_subparsers(dest="user_command", required=True, parser_class=type(parser))
    add = users.add_parser("add", help="add a student; prints their token, once")
    add.add_argument("name")
    add.add_argument(
        "--budget", metavar="SPEC", help="e.g. credits=300,per=day or tasks=5,per=total"
    )
    budget = users.add_parser("budget", help="set a student's budget ('none': no budget)")
    budget.add_argument("name", help="a student, or '*' for everyone without their own")
    budget.add_argument("spec", metavar="SPEC")
    revoke = users.add_parser("revoke", help="refuse a student's token from now on")
    revoke.add_argument("name")
    listing = users.add_parser("list", help="students, budgets and spend (never tokens)")
    for command in (serve, user, add, budget, revoke, listing):
        history_option(command)


def gateway_command(args: argparse.Namespace) -> int:
    if args.gateway_command == "serve":
        from ..gateway import ServeOptions, serve

        return serve(
            ServeOptions(
                history=getattr(args, "history", None),
                host=args.host,
                port=args.port,
                upstream=args.upstream,
                timezone=args.timezone,
                max_in_flight=args.max_in_flight,
                jupyterhub=args.jupyterhub,
                time_scale=args.time_scale,
            )
        )
    from ..gateway import Students
    from ..history._store import History

    history = History(getattr(args, "history", None), user=_teacher())
    try:
        students = Students(history)
        command = args.user_command
        if command == "add":
            budget = _class_budget(args.budget) if args.budget else None
            token = students.add(args.name)
            if budget is not None:
                _set(history, args.name, budget)
            print(token, flush=True)
        elif command == "budget":
            if args.name != "*" and not students.exists(args.name):
                raise UsageError(f"no student {args.name!r} (see `kling-studio gateway user list`)")
            if args.spec.strip().lower() == "none":
                history.clear_budget(args.name)
            else:
                _set(history, args.name, _class_budget(args.spec))
        elif command == "revoke":
            if not students.revoke(args.name):
                raise UsageError(f"no student {args.name!r} with a token to revoke")
        else:
            _list(history, students)
    finally:
        history.close()
    return EXIT_OK


def _teacher() -> str:
    from ..config import resolve_user

    return resolve_user(None)


def _class_budget(spec: str) -> Any:
    """The CLI's --budget form; a class's day by default, never per session (a student's
    session is every request through the gateway)."""
    budget = budget_from(spec)
    if "per=" not in spec.replace(" ", ""):
        budget = dataclasses.replace(budget, per="day")
    if budget.per == "session":
        raise UsageError(f"{spec!r}: a class budget is per=day or per=total, not per session")
    return budget


def _set(history: Any, name: str, budget: Any) -> None:
    history.set_budget(
        name, credits=budget.credits, tasks=budget.tasks, per=budget.per, action=budget.action
    )


def _list(history: Any, students: Any) -> None:
    budgets = history.budgets()
    rows = []
    for student in students.all():
        budget = budgets.get(student.name) or budgets.get("*")
        spent = history.spent(budget, user=student.name) if budget else None
        rows.append(
            (
                student.name,
                "revoked" if student.revoked_at else "active",
                budget.describe() if budget else "no budget",
                f"{spent.credits:g} credits, {spent.tasks} tasks" if spent else "-",
            )
        )
    if not rows:
        print("no students yet: `kling-studio gateway user add NAME --history URL`")
        return
    header = ("student", "token", "budget", "spent in its window")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


__all__ = ["configure_parser", "gateway_command"]
