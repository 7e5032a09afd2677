"""Budgets, estimates and the ledger as pure rules, on a fixed clock."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kling_studio import InputError
from kling_studio.budget import (
    BillingKey,
    Budget,
    BudgetExceeded,
    BudgetWarning,
    Spend,
    billing_key,
    budget_zone,
    check,
    estimate,
    spend_frame,
    task_cost,
    window,
)

NOW = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "budget"),
        ({"credits": -1}, "budget.credits"),
        ({"credits": True}, "budget.credits"),
        ({"tasks": 2.5}, "budget.tasks"),
        ({"tasks": 3, "per": "week"}, "budget.per"),
        ({"tasks": 3, "action": "shout"}, "budget.action"),
    ],
)
def test_a_malformed_budget_says_which_part_to_fix(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as caught:
        Budget(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_n_tasks_let_n_through_and_refuse_the_next() -> None:
    budget = Budget(tasks=2)
    check(budget, Spend(0, 0), 10, resets_at=None, who="ana")
    check(budget, Spend(10, 1), 10, resets_at=None, who="ana")
    with pytest.raises(BudgetExceeded) as caught:
        check(budget, Spend(20, 2), 10, resets_at=None, who="ana")
    text = str(caught.value)
    assert "2 of 2 tasks used" in text and "ana" in text and "Nothing was sent" in text
    assert "this session" in text and "Budget(" in text
    assert caught.value.spent_tasks == 2


def test_a_refusal_says_who_can_raise_the_budget() -> None:
    with pytest.raises(BudgetExceeded, match=r"by mrs-k: ask them to raise it \(History"):
        check(Budget(tasks=1), Spend(0, 1), 5, resets_at=None, who="ana", set_by="mrs-k")


def test_credits_count_the_next_task_cost_too() -> None:
    budget = Budget(credits=30, per="day")
    resets = NOW + timedelta(hours=8)
    check(budget, Spend(20, 2), 10, resets_at=resets, who="ana")  # exactly at the limit: fine
    with pytest.raises(BudgetExceeded) as caught:
        check(budget, Spend(20, 2), 10.5, resets_at=resets, who="ana")
    assert "20 of 30 credits spent" in str(caught.value) and "resets at" in str(caught.value)
    assert caught.value.resets_at == resets


def test_warn_lets_the_task_through_with_a_warning() -> None:
    with pytest.warns(BudgetWarning, match="1 of 1 tasks used"):
        check(Budget(tasks=1, action="warn"), Spend(5, 1), 5, resets_at=None, who="ana")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(Budget(tasks=2, action="warn"), Spend(5, 1), 5, resets_at=None, who="ana")


def test_windows_session_day_and_total() -> None:
    started = NOW - timedelta(minutes=5)
    assert window("session", NOW, started).start == started
    day = window("day", NOW, started)  # UTC unless a zone is given
    assert (day.start, day.resets_at) == (
        datetime(2026, 11, 30, tzinfo=UTC),
        NOW + timedelta(hours=8.5),
    )
    total = window("total", NOW, started)
    assert total.start is None and total.resets_at is None


def test_a_day_is_a_calendar_day_of_the_zone_given_whatever_the_kernels_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")  # 15:30 UTC is 00:30 the next day in Tokyo
    day = window("day", NOW, NOW, tokyo)
    assert day.start == datetime(2026, 12, 1, tzinfo=tokyo)
    assert day.resets_at == datetime(2026, 12, 2, tzinfo=tokyo)
    assert day.start is not None and day.start.astimezone(UTC) == NOW - timedelta(minutes=30)


def test_a_day_across_a_daylight_saving_change_is_23_or_25_hours() -> None:
    paris = ZoneInfo("Europe/Paris")
    spring = window("day", datetime(2026, 3, 29, 12, tzinfo=UTC), NOW, paris)
    autumn = window("day", datetime(2026, 10, 25, 12, tzinfo=UTC), NOW, paris)
    for day, hours in ((spring, 23), (autumn, 25)):
        assert day.start is not None and day.resets_at is not None
        assert day.resets_at.astimezone(UTC) - day.start.astimezone(UTC) == timedelta(hours=hours)
        assert day.resets_at.hour == 0


def test_a_refusal_says_when_it_resets_in_the_budgets_zone() -> None:
    resets = datetime(2026, 12, 2, tzinfo=ZoneInfo("Asia/Tokyo"))
    with pytest.raises(BudgetExceeded, match="resets at 2026-12-02 00:00 JST"):
        check(Budget(tasks=1, per="day"), Spend(0, 1), 5, resets_at=resets, who="ana")


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "  ", "../etc/passwd", None, 3])
def test_an_unknown_time_zone_is_refused_with_what_to_give(name: object) -> None:
    with pytest.raises(InputError, match="IANA") as caught:
        budget_zone(name)
    assert caught.value.field == "timezone"


def test_4k_is_billed_without_audio_and_voices() -> None:
    a = billing_key(model=None, resolution="4k", duration=5, generate_audio=True, voices=2)
    b = billing_key(model=None, resolution="4k", duration=5, generate_audio=False, voices=0)
    assert a == b
    c = billing_key(model=None, resolution="1080p", duration=5, generate_audio=True, voices=0)
    d = billing_key(model=None, resolution="1080p", duration=5, generate_audio=False, voices=0)
    assert c != d


def test_the_estimate_is_the_last_figure_for_the_same_settings_else_the_table() -> None:
    key = billing_key(model=None, resolution="720p", duration=10, generate_audio=False, voices=0)
    other = key._replace(duration=5)
    seen = [(other, 10.0), (key, 21.0), (key, 19.0)]  # newest first
    assert estimate(key, seen).credits == 21.0
    assert estimate(key, seen).source == "last task"
    table = {key: 18.0}
    assert estimate(key, [], table).credits == 18.0
    assert estimate(key, [], lambda k: 17.0 if k.duration == 10 else None).credits == 17.0
    unknown = estimate(key, [(other, 10.0)])
    assert unknown.credits is None and unknown.source == "unknown"
    assert "unknown" in unknown.describe()


def test_what_a_task_counts_for() -> None:
    assert task_cost("rejected", None, 10, 50) == 0
    assert task_cost("failed", 12, 10, 50) == 12  # refunds unknown: counts until told otherwise
    assert task_cost("completed", 12, 10, 50) == 12
    assert task_cost("pending", None, 10, 50) == 10
    assert task_cost("unknown", None, None, 50) == 50


def test_spend_frame_groups_by_day_and_user() -> None:
    rows = [
        {"submitted_at": NOW, "user": "ana", "status": "completed", "credits_reserved": 10},
        {
            "submitted_at": NOW,
            "user": "ana",
            "status": "pending",
            "credits_reserved": None,
            "credits_estimate": 15,
        },
        {"submitted_at": NOW, "user": "bo", "status": "failed", "credits_reserved": 20},
        {"submitted_at": NOW, "user": "bo", "status": "rejected", "credits_reserved": None},
    ]
    df = spend_frame(rows, by="user")
    assert df["user"].tolist() == ["ana", "bo"]
    assert df["tasks"].tolist() == [2, 1]
    assert df["credits"].tolist() == [10.0, 20.0]
    assert df["estimated"].tolist() == [15.0, 0.0]
    assert list(spend_frame([], by=("day", "user")).columns) == [
        "day",
        "user",
        "tasks",
        "credits",
        "estimated",
        "unreported",
    ]
    with pytest.raises(ValueError, match="grouped by"):
        spend_frame(rows, by="month")  # type: ignore[arg-type]


def test_spend_days_are_days_of_the_zone_given() -> None:
    late = {"submitted_at": NOW, "user": "ana", "status": "completed", "credits_reserved": 10}
    assert spend_frame([late], by="day")["day"].tolist() == ["2026-11-30"]  # UTC by default
    tokyo = spend_frame([late], by="day", zone=ZoneInfo("Asia/Tokyo"))
    assert tokyo["day"].tolist() == ["2026-12-01"]


def test_billing_key_describes_itself() -> None:
    key = BillingKey("m", "1080p", 10, True, 1)
    assert key.describe() == "1080p 10 s + audio + 1 voice"
