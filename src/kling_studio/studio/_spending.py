"""What the studio shows of spend: the estimate next to Generate, the spend against the budgets
in the header, and a comparison plan's total. Figures come from the history (the ledger) and
the runner's budget; nothing here sends a request or holds a budget itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import contract as c
from ..budget import Budget, BudgetExceeded, Estimate, billing_key
from ..errors import KlingStudioError
from ._protocol import CostEstimate, PlanCosts, Spending

if TYPE_CHECKING:
    import pandas as pd

    from ..budget._ledger import By
    from ..compare import Grid
    from ..history._store import History
    from ..models import VideoRequest
    from ..pictures import Picture
    from ..runner import Runner

PERIOD_WORDS = {"session": "this session", "day": "today", "total": "in total"}


def form_estimate(runner: Runner, form: Mapping[str, Any]) -> Estimate:
    """The estimate for what the form would send (no picture needed to know its price)."""
    segments = form.get("multi_prompt") or []
    duration = form.get("duration") or None
    if segments:  # a multi-shot video lasts as long as its segments together
        duration = sum(int(s.get("duration") or 0) for s in segments) or duration
    key = billing_key(
        model=c.MODEL_IMAGE_TO_VIDEO,
        resolution=form.get("resolution") or None,
        duration=duration,
        generate_audio=bool(form.get("generate_audio")),
        voices=len([v for v in form.get("voice_ids") or [] if v]),
    )
    return runner.history.estimate_key(key, runner.budgeting.prices)


def estimate_shape(found: Estimate) -> CostEstimate:
    return {"credits": found.credits, "source": found.source, "text": estimate_text(found)}


def estimate_text(found: Estimate) -> str:
    what = found.key.describe()
    if found.credits is None:
        return f"cost unknown until a first {what} task"
    if found.source == "last task":
        return f"≈ {found.credits:g} credits (from the last {what} task)"
    return f"≈ {found.credits:g} credits ({what}, from your price table)"


def budgets_in_force(runner: Runner) -> list[tuple[Budget, str]]:
    """The runner's budget and the one set in the history for this user, with a label."""
    found: list[tuple[Budget, str]] = []
    if runner.budgeting.budget is not None:
        found.append((runner.budgeting.budget, ""))
    teacher = runner.history.budget_for()
    if teacher is not None:
        found.append((teacher, " (set in the history)"))
    return found


def spending_shape(runner: Runner) -> Spending | None:
    """`Spent 20 of 50 credits today · 2 of 3 tasks this session`; None without a budget."""
    parts: list[str] = []
    over = False
    for budget, label in budgets_in_force(runner):
        started = runner.budgeting.session_started
        spent = runner.history.spent(budget, session_started=started)
        period = PERIOD_WORDS[budget.per]
        if budget.credits is not None:
            parts.append(f"{spent.credits:g} of {budget.credits:g} credits {period}{label}")
            over = over or spent.credits >= budget.credits
        if budget.tasks is not None:
            parts.append(f"{spent.tasks} of {budget.tasks} tasks {period}{label}")
            over = over or spent.tasks >= budget.tasks
    if not parts:
        return None
    return {"text": "Spent " + " · ".join(parts), "over": over}


def plan_costs(runner: Runner, grid: Grid) -> PlanCosts:
    """A comparison plan's total estimate (variants reused from the history cost nothing),
    and whether running it would be refused whole."""
    from ..compare import reusable
    from ..runner._budgeting import total

    requests = [v.request for v in grid if reusable(runner.history, v.hash) is None]
    estimates = runner.budgeting.estimates(*requests)
    known, unknown = total(estimates)
    n = len(requests)
    tasks = f"{n} task{'s' if n != 1 else ''}"
    text = f"≈ {known:g} credits for {tasks}"
    if not n:
        text = "nothing to pay"
    elif unknown == n:
        text = f"cost unknown for {tasks} (no task with these settings yet)"
    elif unknown:
        text += f" ({unknown} of unknown cost)"
    over: str | None = None
    try:
        runner.history.check_budgets(
            runner.budgeting.budget,
            [e.credits for e in estimates],
            session_started=runner.budgeting.session_started,
        )
    except BudgetExceeded as exc:
        over = str(exc)
    except KlingStudioError:  # an unreadable history: the run itself will say so
        over = None
    return {"credits": float(known), "unknown": unknown, "cost_text": text, "over_budget": over}


class SpendingViews:
    """The studio's spend methods and the two traits they feed (a mixin of Studio)."""

    runner: Runner
    history: History
    form: dict[str, Any]
    _pictures: dict[str, Picture | str | None]

    if TYPE_CHECKING:  # Studio's and traitlets' own (a stub here would shadow them)

        def request(self, **overrides: Any) -> VideoRequest: ...

        def set_trait(self, name: str, value: Any) -> None: ...

    def spend(
        self, by: By | tuple[By, ...] = ("day", "user"), *, user: str | None = None
    ) -> pd.DataFrame:
        """The credits ledger as a DataFrame: tasks and credits (FoxAPI's figures; `estimated`
        for tasks whose figure has not come) by day and user, or by="settings"; `user="me"`
        for one's own."""
        return self.history.spend(by, user=user)

    def estimate_credits(self, **overrides: Any) -> Estimate:
        """The credits the form's task would reserve: FoxAPI's figure for the last task with
        the same billing settings, else the price table, else unknown. Sends nothing."""
        if overrides or self._pictures["image"] is not None:
            return self.runner.budgeting.estimate(self.request(**overrides))
        return form_estimate(self.runner, self.form)

    def _refresh_spending(self) -> None:
        try:
            estimate = estimate_shape(form_estimate(self.runner, self.form))
            spending = spending_shape(self.runner)
        except KlingStudioError:  # a busy or unreachable history: keep what is shown
            return
        self.set_trait("estimate", estimate)
        self.set_trait("spending", spending)
