"""Every number that limits spending is finite and >= 0, checked where it enters: Budget(...),
History.set_budget, the CLI's --budget, price tables, and the budgets table read back (where
SQLite turns a NaN into NULL). A NaN limit would never refuse: NaN compares false with all."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

from kling_studio import AsyncClient, Budget, History, HistoryError, InputError, VideoRequest
from kling_studio.budget import billing_key_of, limit_number
from kling_studio.cli._spend import budget_from
from kling_studio.history._budgets import Reservation
from kling_studio.history._rows import iso, now
from kling_studio.history._schema import budgets
from kling_studio.models import PreparedRequest
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..cli.test_cli import api_requests, run
from ..conftest import make_picture

NAN, INF = math.nan, math.inf
BAD_NUMBERS = [NAN, INF, -INF, -1.0, "10", None]


def request() -> VideoRequest:
    return VideoRequest.build(prompt="a field", image="https://example.test/a.png")


def prepared() -> PreparedRequest:
    req = request()
    return PreparedRequest(req, req.payload("https://example.test/a.png", None))


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_the_one_check_refuses_anything_but_a_finite_number_at_least_zero(value: Any) -> None:
    with pytest.raises(InputError, match="credits is a") as caught:
        limit_number(value, "credits", "budget.credits")
    assert caught.value.field == "budget.credits"


def test_the_one_check_takes_numbers_of_any_kind() -> None:
    import numpy as np

    assert limit_number(np.float64(2.5), "x", "x") == 2.5
    assert limit_number(np.int64(3), "x", "x") == 3.0
    assert limit_number(0, "x", "x") == 0.0


@pytest.mark.parametrize("value", [NAN, INF, -INF])
def test_a_budget_with_a_limit_that_never_refuses_is_refused(value: float) -> None:
    with pytest.raises(InputError, match=r"credits is a finite number >= 0; got (nan|inf|-inf)"):
        Budget(credits=value)
    with pytest.raises(InputError) as caught:
        Budget(tasks=3, unknown_task_credits=value)
    assert caught.value.field == "budget.unknown_task_credits"


@pytest.mark.parametrize("spec", ["credits=nan", "credits=NaN", "credits=inf", "credits=-inf"])
def test_the_command_lines_budget_refuses_nan_and_infinity(spec: str) -> None:
    with pytest.raises(InputError, match=r"--budget: .*credits is a finite number >= 0"):
        budget_from(spec)


def test_generate_with_a_nan_budget_is_a_usage_error_and_sends_nothing(
    sim: Simulator, tmp_path: Path
) -> None:
    frame = tmp_path / "first.png"
    frame.write_bytes(make_picture(64, 64))
    before = api_requests(sim)
    done = run(
        "generate",
        *("--image", str(frame), "--prompt", "x", "--history", str(tmp_path / "h.sqlite3")),
        *("--budget", "credits=nan,per=day"),
        server=sim,
    )
    assert done.returncode == 2
    assert "--budget" in done.stderr and "finite number >= 0" in done.stderr
    assert api_requests(sim) == before


def test_set_budget_refuses_nan_and_stores_nothing(location: str) -> None:
    history = History(location, user="mrs-k")
    for value in (NAN, INF):
        with pytest.raises(InputError, match="finite number >= 0"):
            history.set_budget("bo", credits=value)
    assert history.budgets() == {}
    history.close()


async def test_a_price_table_with_nan_or_infinity_is_refused_when_given(
    sim: Simulator, tmp_path: Path
) -> None:
    history = History(tmp_path / "h.sqlite3", user="ana")
    key = billing_key_of(request())
    async with AsyncClient(sim.api_key, sim.base_url) as client:
        for table in ({key: NAN}, {key: INF}, {key: -5.0}, {key: "10"}, [(key, 10.0)]):
            with pytest.raises(InputError, match="price") as caught:
                Runner(client, history, prices=table)  # type: ignore[arg-type]
            assert caught.value.field == "prices"
        # A function's answers are checked as they come (here: when estimating).
        runner = Runner(client, history, budget=Budget(credits=100), prices=lambda k: NAN)
        with pytest.raises(InputError, match=r"price table's figure for 720p 5 s is a finite"):
            runner.start(request())
        await runner.aclose()
    assert history.count() == 0
    history.close()


def store_budget_row(history: History, user: str, **limits: Any) -> None:
    """A row written behind set_budget's back (an old version, a SQL client, a spreadsheet)."""
    row = {"user": user, "per": "day", "action": "refuse", "set_by": "mrs-k", "set_at": iso(now())}
    row |= {"credits": None, "tasks": None} | limits
    history._run(lambda conn: conn.execute(budgets.insert().values(row)), write=True)


def test_sqlite_keeps_a_nan_as_null(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3", user="mrs-k")
    store_budget_row(history, "bo", credits=NAN)
    stored = history._run(lambda conn: conn.execute(budgets.select()).one(), write=False)
    assert stored.credits is None and stored.tasks is None  # no limit left at all
    history.close()


@pytest.mark.parametrize(
    ("user", "limits"),
    [
        ("bo", {"credits": NAN}),  # SQLite: NULL credits and no tasks; PostgreSQL: NaN
        ("*", {"credits": NAN}),
        ("bo", {"credits": INF}),
        ("bo", {"credits": -10.0}),
        ("bo", {"tasks": -1}),
    ],
)
def test_a_bad_stored_budget_names_its_row_and_the_fix_and_refuses_to_send(
    location: str, user: str, limits: dict[str, Any]
) -> None:
    history = History(location, user="bo")
    store_budget_row(history, user, **limits)
    who = "everyone ('*')" if user == "*" else "'bo'"
    fix = r"History\.clear_budget\(\)" if user == "*" else r"History\.clear_budget\('bo'\)"
    pattern = rf"budget for {re.escape(who)} \(budgets table, set by mrs-k\) is unusable: .*{fix}"
    for attempt in (
        history.budgets,
        history.budget_for,
        lambda: history.check_budgets(None, [10.0]),
        lambda: history.journal_submit(
            prepared(), reservation=Reservation(None, 10.0, history.started_at)
        ),
    ):
        with pytest.raises(HistoryError, match=pattern):
            attempt()
    assert history.count() == 0  # nothing journalled, so nothing would have been sent
    history.set_budget(None if user == "*" else user, credits=5)  # the fix it names
    assert history.budget_for() == Budget(credits=5, per="day")
    history.close()
