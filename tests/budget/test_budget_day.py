"""A budget's day is the history's (UTC unless whoever sets budgets picks a zone), the same in
every kernel whatever its `TZ`: proved with real processes on SQLite and PostgreSQL, each
reading the spend, asking the budget check, reserving in the journal and grouping the ledger."""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection

from kling_studio import Budget, History, HistoryError, InputError, VideoRequest
from kling_studio.history._budgets import Reservation
from kling_studio.models import PreparedRequest

from ..kernel_processes import read_line, start_script

# Kernels on opposite sides of the date line: their local midnights are 14 h and 11 h away
# from UTC's, and 25 h from each other's.
KERNEL_ZONES = ("Pacific/Kiritimati", "Pacific/Pago_Pago")
HOURS = 48  # one task every hour over the last two days

KERNEL = textwrap.dedent(
    """
    import json, sys
    from kling_studio import Budget, BudgetExceeded, History, VideoRequest
    from kling_studio.history._budgets import Reservation
    from kling_studio.models import PreparedRequest

    def view(history):
        spent = history.spent(Budget(tasks=10_000, per="day")).tasks
        try:  # exactly at the limit: the next task is refused, and says when the day resets
            history.check_budgets(Budget(tasks=spent, per="day"), [1.0])
            resets = None
        except BudgetExceeded as exc:
            resets = exc.resets_at.isoformat()
        request = VideoRequest.build(prompt="one more", image="https://example.test/a.png")
        prepared = PreparedRequest(request, request.payload("https://example.test/a.png", None))
        full = Reservation(Budget(tasks=spent, per="day"), 1.0, history.started_at)
        try:  # the check made again in the journal's transaction
            history.journal_submit(prepared, reservation=full)
            reserved = True
        except BudgetExceeded:
            reserved = False
        days = history.spend("day").set_index("day")["tasks"].to_dict()
        return {"spent": spent, "resets": resets, "reserved": reserved, "days": days}

    history = History(sys.argv[1], user="ana")
    for _ in sys.stdin:  # each line: look again
        print(json.dumps(view(history)), flush=True)
    history.close()
    """
)


def request(prompt: str = "a task") -> PreparedRequest:
    req = VideoRequest.build(prompt=prompt, image="https://example.test/a.png")
    return PreparedRequest(req, req.payload("https://example.test/a.png", None))


def journal_at(history: History, *moments: datetime) -> None:
    """Tasks of the history's user as if sent at `moments`: one journalled, the rest copies
    written in one transaction (dozens of journal writes are slow on a busy machine)."""
    from sqlalchemy import select

    from kling_studio.history._rows import iso
    from kling_studio.history._schema import tasks

    local_id = history.journal_submit(request())

    def work(conn: Connection) -> None:
        row = dict(conn.execute(select(tasks).where(tasks.c.local_id == local_id)).mappings().one())
        conn.execute(tasks.delete().where(tasks.c.local_id == local_id))
        for i, moment in enumerate(moments):
            stamp = iso(moment)
            conn.execute(
                tasks.insert().values(row | {"local_id": f"{local_id}-{i}", "submitted_at": stamp})
            )

    history._run(work, write=True)


def look(kernels: list[subprocess.Popen[str]]) -> list[dict[str, object]]:
    """What each kernel sees of ana's day now."""
    for proc in kernels:
        assert proc.stdin is not None
        proc.stdin.write("look\n")
        proc.stdin.flush()
    return [json.loads(read_line(proc)) for proc in kernels]


def away_from_midnight(*zones: ZoneInfo) -> datetime:
    """Now, at least three minutes from a midnight in each of `zones` (so that the day the test
    expects is the day the kernels see)."""
    while True:
        moment = datetime.now(UTC)
        minutes = [moment.astimezone(z).hour * 60 + moment.astimezone(z).minute for z in zones]
        if all(3 <= m <= 24 * 60 - 4 for m in minutes):
            return moment
        time.sleep(30)


def test_every_kernel_counts_the_histories_day_whatever_its_tz(location: str) -> None:
    history = History(location, user="ana")
    now = away_from_midnight(ZoneInfo("UTC"), ZoneInfo("Asia/Tokyo"))
    moments = [now - timedelta(hours=h, minutes=30) for h in range(HOURS)]
    journal_at(history, *moments)
    kernels = [start_script(KERNEL, {"TZ": zone}, location) for zone in KERNEL_ZONES]
    try:
        # UTC by default; then whoever sets budgets picks Tokyo, and every kernel follows.
        for zone_name in (None, "Asia/Tokyo"):
            if zone_name is not None:
                assert history.set_budget_timezone(zone_name) == zone_name
            zone = ZoneInfo(zone_name or "UTC")
            midnight = datetime.combine(now.astimezone(zone).date(), datetime.min.time(), zone)
            expected = sum(moment >= midnight for moment in moments)
            assert 0 < expected < HOURS

            seen = look(kernels)

            for view in seen:
                assert view["spent"] == expected, zone_name
                assert view["resets"] == (midnight + timedelta(days=1)).isoformat()
                assert view["reserved"] is False  # the journal's own check counts the same day
            assert seen[0]["days"] == seen[1]["days"]
            days = seen[0]["days"]
            assert isinstance(days, dict)
            assert days[midnight.date().isoformat()] == expected
            assert sum(days.values()) == HOURS
    finally:
        for proc in kernels:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=60)
    history.close()


def test_the_budget_zone_is_kept_in_the_history_and_checked(location: str) -> None:
    history = History(location, user="mrs-k")
    assert history.budget_timezone == "UTC"
    with pytest.raises(InputError, match="unknown time zone 'Mars/Olympus'"):
        history.set_budget_timezone("Mars/Olympus")
    assert history.set_budget_timezone("Europe/Paris") == "Europe/Paris"
    history.close()
    again = History(location, user="ana")
    assert again.budget_timezone == "Europe/Paris"
    with pytest.raises(InputError, match="IANA"):
        again.spent(Budget(tasks=1, per="day"), timezone="Nowhere/Special")
    again.close()


def test_a_caller_may_count_another_zones_day(location: str) -> None:
    history = History(location, user="ana")
    now = away_from_midnight(ZoneInfo("UTC"))
    day = Budget(tasks=100, per="day")
    # Yesterday and today in every zone.
    journal_at(history, now - timedelta(days=1, hours=1), now - timedelta(minutes=1))
    assert history.spent(day).tasks == 1
    assert history.spent(day, timezone="UTC").tasks == 1
    assert history.spend(("day",), timezone="UTC")["tasks"].tolist() == [1, 1]
    history.close()


def test_a_bad_stored_zone_names_the_row_and_how_to_fix_it(location: str) -> None:
    from kling_studio.history._schema import settings

    history = History(location, user="ana")
    history.set_budget_timezone("UTC")
    history._run(
        lambda conn: conn.execute(settings.update().values(value="Atlantis/Capital")), write=True
    )
    budget = Budget(tasks=5, per="day")
    for attempt in (
        lambda: history.spent(budget),
        lambda: history.check_budgets(budget, [1.0]),
        lambda: history.journal_submit(
            request(), reservation=Reservation(budget, 1.0, history.started_at)
        ),
    ):
        with pytest.raises(HistoryError, match=r"'Atlantis/Capital'.*set_budget_timezone"):
            attempt()
    assert history.count() == 0  # nothing was journalled
    history.set_budget_timezone("UTC")  # the fix the message names
    assert history.spent(budget).tasks == 0
    history.close()
