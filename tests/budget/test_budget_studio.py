"""The studio's spend: Studio(budget=...) refuses a Generate over budget with nothing sent and
answers the front end with the refusal; the estimate next to Generate, the spend in the header
and a comparison plan's total come from the ledger. The simulator is real; the front end is
replaced by recording what the widget sends (as in tests/studio/test_widget_backend.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kling_studio import Budget, BudgetExceeded, Studio
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from ..server_counts import api_requests
from ..studio.test_widget_backend import Recorder, ask


async def test_a_studio_over_budget_refuses_generate_and_shows_spend_and_estimates(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.set_faults(None)
    s = Studio(
        api_key=sim.api_key,
        base_url=sim.base_url,
        history=tmp_path / "h.sqlite3",
        user="ana",
        budget=Budget(tasks=1),
        resume=False,
    )
    try:
        s.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
        rec = Recorder()
        s.send = rec  # type: ignore[method-assign]
        assert s.spending == {"text": "Spent 0 of 1 tasks this session", "over": False}
        assert s.estimate is not None and s.estimate["credits"] is None
        assert s.estimate["text"] == "cost unknown until a first 720p 5 s task"
        s.set_image(make_picture())
        s.update_form(prompt="a calm lake")
        record = await s.agenerate(timeout=60)
        assert record.status == "completed" and record.credits_reserved == 10
        assert s.estimate == {
            "credits": 10.0,
            "source": "last task",
            "text": "≈ 10 credits (from the last 720p 5 s task)",
        }
        assert s.spending == {"text": "Spent 1 of 1 tasks this session", "over": True}

        before = api_requests(sim.stats())
        reply = await ask(s, rec, {"kind": "generate"})
        assert not reply["ok"]
        message = reply["error"]["message"]
        assert "1 of 1 tasks used" in message and "Nothing was sent" in message
        assert s.error is None  # answered beside Generate, not as a banner
        with pytest.raises(BudgetExceeded):
            await s.asubmit()
        assert api_requests(sim.stats()) == before  # no upload, no create
        assert s.history.count() == 1

        assert s.plan_comparison(durations=[5, 10])["unknown"] == 1  # 5 s is reused: free
        assert s.plan_comparison(durations=[5])["cost_text"] == "nothing to pay"  # all reused
        s.update_form(prompt="a stormy sea")
        plan = s.plan_comparison(durations=[5, 10])
        assert plan["credits"] == 10.0 and plan["unknown"] == 1  # 5 s: known; 10 s: not yet
        assert plan["cost_text"] == "≈ 10 credits for 2 tasks (1 of unknown cost)"
        assert plan["over_budget"] is not None and "1 of 1 tasks used" in plan["over_budget"]

        ledger = s.spend()
        assert list(ledger.columns) == [
            "day",
            "user",
            "tasks",
            "credits",
            "estimated",
            "unreported",
        ]
        assert ledger["tasks"].tolist() == [1] and ledger["credits"].tolist() == [10.0]
        assert s.spend(by="settings")["settings"].tolist() == ["kling-v3-image-to-video 720p 5 s"]
    finally:
        s.close()
