"""Budgets held by the history, against the simulator over loopback: N tasks go and the next
is refused with nothing sent, the estimate is replaced by FoxAPI's figure, failed tasks count,
a warning budget warns and sends, and a comparison over budget is refused whole."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from kling_studio import AsyncClient, Budget, BudgetExceeded, History, VideoRequest
from kling_studio.budget import BudgetWarning, billing_key_of
from kling_studio.history._budgets import Reservation
from kling_studio.models import PreparedRequest, Task
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from ..server_counts import api_requests, route_counts

PICTURE = make_picture(400, 300)


def request(prompt: str = "a red square", **fields: Any) -> VideoRequest:
    return VideoRequest.build(prompt=prompt, image=PICTURE, **fields)


async def test_n_tasks_go_and_the_next_is_refused_with_nothing_sent(
    sim: Simulator, location: str
) -> None:
    history = History(location, user="ana")
    async with AsyncClient(sim.api_key, sim.base_url) as client:
        runner = Runner(client, history, budget=Budget(tasks=2))
        for i in range(2):
            record = await runner.run(request(f"task {i}"))
            assert record.status == "completed"
        before = sim.stats()
        with pytest.raises(BudgetExceeded) as caught:
            runner.start(request("one too many"))
        after = sim.stats()
        await runner.aclose()
    assert api_requests(after) == api_requests(before)  # no upload, no create
    assert route_counts(after)["create"] == route_counts(before)["create"]
    assert history.count() == 2
    text = str(caught.value)
    assert "2 of 2 tasks used" in text and "ana" in text and "Nothing was sent" in text
    assert caught.value.spent_tasks == 2
    history.close()


async def test_an_unknown_cost_counts_at_the_stated_default_and_a_price_table_sets_it(
    sim: Simulator, location: str
) -> None:
    history = History(location, user="ana")
    key = billing_key_of(request())
    async with AsyncClient(sim.api_key, sim.base_url) as client:
        # Nothing known yet: the first task counts at 50 credits, over a 25-credit budget.
        runner = Runner(client, history, budget=Budget(credits=25))
        with pytest.raises(BudgetExceeded, match="needs about 50"):
            runner.start(request())
        # A price table (the simulator's tariff: 720p 5 s is 10 credits) lets two through.
        priced = Runner(client, history, budget=Budget(credits=25), prices={key: 10.0})
        first = await priced.run(request("one"))
        second = await priced.run(request("two"))
        with pytest.raises(BudgetExceeded, match="20 of 25 credits spent"):
            priced.start(request("three"))
        await runner.aclose()
        await priced.aclose()
    assert first.credits_reserved == 10 and second.credits_reserved == 10
    # Now FoxAPI's own figure is the estimate, whatever the table said.
    found = history.estimate(request(), prices={key: 99.0})
    assert (found.credits, found.source) == (10.0, "last task")
    history.close()


def test_the_estimate_counts_until_foxapis_figure_replaces_it(location: str) -> None:
    history = History(location, user="ana")
    budget = Budget(credits=100)
    req = request()
    prepared = PreparedRequest(req, req.payload("https://example.test/a.png", None))
    local_id = history.journal_submit(
        prepared, reservation=Reservation(budget, 7.0, history.started_at)
    )
    assert history.spent(budget).credits == 7.0
    history.mark_created(local_id, Task(id="t-1", status="pending", credits_reserved=12))
    assert history.spent(budget).credits == 12.0
    history.close()


async def test_a_failed_task_still_counts(sim: Simulator, location: str) -> None:
    history = History(location, user="ana")
    sim.set_faults("fail=1@create")
    try:
        async with AsyncClient(sim.api_key, sim.base_url) as client:
            runner = Runner(client, history, budget=Budget(tasks=1))
            record = await runner.run(request("doomed"))
            with pytest.raises(BudgetExceeded):
                runner.start(request("next"))
            await runner.aclose()
    finally:
        sim.set_faults("")
    assert record.status == "failed"
    spent = history.spent(Budget(tasks=5))
    assert spent.tasks == 1
    assert spent.credits == (record.credits_reserved if record.credits_reserved else 50.0)
    history.close()


async def test_a_warning_budget_warns_and_sends(sim: Simulator, tmp_path: Any) -> None:
    history = History(tmp_path / "h.sqlite3", user="ana")
    async with AsyncClient(sim.api_key, sim.base_url) as client:
        runner = Runner(client, history, budget=Budget(tasks=1, action="warn"))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the first is within budget: no warning
            await runner.run(request("first"))
        creates = route_counts(sim.stats())["create"]
        with pytest.warns(BudgetWarning, match="1 of 1 tasks used"):
            record = await runner.run(request("second"))
        await runner.aclose()
    assert record.status == "completed"
    assert route_counts(sim.stats())["create"] == creates + 1
    history.close()


async def test_a_comparison_over_budget_is_refused_whole(sim: Simulator, tmp_path: Any) -> None:
    from kling_studio.compare import plan_grid, run_grid

    history = History(tmp_path / "h.sqlite3", user="ana")
    async with AsyncClient(sim.api_key, sim.base_url) as client:
        runner = Runner(client, history, budget=Budget(tasks=3))
        grid = plan_grid(request(), prompts=["a", "b", "c", "d"])
        before = sim.stats()
        with pytest.raises(BudgetExceeded, match="0 of 3 tasks used and this needs 4"):
            await run_grid(runner, client, grid)
        assert api_requests(sim.stats()) == api_requests(before)
        await runner.aclose()
    assert history.count() == 0
    history.close()


def test_a_teachers_budget_is_stored_read_and_cleared(location: str) -> None:
    teacher = History(location, user="teacher")
    teacher.set_budget("ana", tasks=3, per="day")
    teacher.set_budget(None, credits=100)
    assert teacher.budget_for("ana") == Budget(tasks=3, per="day")
    assert teacher.budget_for("bo") == Budget(credits=100, per="day")
    assert set(teacher.budgets()) == {"ana", "*"}
    assert teacher.clear_budget("ana") is True
    assert teacher.budget_for("ana") == Budget(credits=100, per="day")
    assert teacher.clear_budget("ana") is False
    teacher.close()


async def test_a_budget_for_everyone_holds_a_user_without_their_own(
    sim: Simulator, location: str
) -> None:
    History(location, user="teacher").set_budget(None, tasks=0, per="total")
    history = History(location, user="ana")
    before = api_requests(sim.stats())
    async with AsyncClient(sim.api_key, sim.base_url) as client:
        runner = Runner(client, history)  # no budget of her own
        with pytest.raises(BudgetExceeded, match="set in the history by teacher") as caught:
            runner.start(request())
        await runner.aclose()
    assert "it never resets" in str(caught.value)
    assert api_requests(sim.stats()) == before
    history.close()
