"""The widget benchmark (benchmarks/widget.py) runs end to end on a tiny history and reports the
structure the README's table is made from. No timing is asserted: that is the benchmark's job.

Needs Chromium (/usr/bin/chromium or $KLING_STUDIO_CHROMIUM), Playwright and a built bundle;
skipped without them, unless KLING_STUDIO_REQUIRE_BROWSER=1 makes that a failure."""

from __future__ import annotations

import math
import os
from typing import Any

import pytest

from benchmarks import widget

ROWS = 120


def missing() -> str | None:
    """Why the benchmark cannot run here, or None."""
    if widget.chromium_path() is None:
        where = os.environ.get("KLING_STUDIO_CHROMIUM") or widget.CHROMIUM
        return f"no Chromium at {where} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (uv sync --group dev)"
    if not widget.BUNDLE.is_file():
        return f"no built bundle at {widget.BUNDLE} (npm run build)"
    return None


def require_browser() -> None:
    reason = missing()
    if reason is None:
        return
    if os.environ.get("KLING_STUDIO_REQUIRE_BROWSER", "").strip() not in ("", "0"):
        pytest.fail(f"{reason}, and KLING_STUDIO_REQUIRE_BROWSER=1", pytrace=False)
    pytest.skip(f"{reason}; set KLING_STUDIO_REQUIRE_BROWSER=1 to fail instead")


def finite(x: Any) -> bool:
    return isinstance(x, int | float) and math.isfinite(x) and x >= 0


def test_group_ticks_puts_trait_updates_with_their_card() -> None:
    def card(status: str) -> dict[str, Any]:
        return {"data": {"method": "custom", "content": {"kind": "task", "card": {"s": status}}}}

    def update(name: str) -> dict[str, Any]:
        return {"data": {"method": "update", "state": {name: 1}}}

    reply = {"data": {"method": "custom", "content": {"kind": "reply"}}}
    sent = [update("form"), card("a"), update("history_count"), update("history_rev"), card("b")]
    ticks = widget.group_ticks([*sent, reply])
    assert [len(t) for t in ticks] == [3, 1]


@pytest.mark.slow
def test_widget_benchmark_runs_and_reports_every_figure() -> None:
    require_browser()
    report = widget.run(rows=ROWS, runs=1, scroll_frames=4, time_scale=0.02)

    assert report["rows"] == ROWS and report["chromium"]
    render = report["render"]
    assert finite(render["widget"]["median_ms"]) and finite(render["naive"]["median_ms"])
    assert render["naive"]["rows_built"] == ROWS  # the baseline builds every row
    assert 0 < render["widget"]["rows_built"] <= ROWS
    assert render["widget"]["range"].endswith(f"of {ROWS}")
    assert finite(render["json_parse_ms"]) and render["reply_bytes"] > 0
    for side in ("widget", "naive"):
        scroll = report["scroll"][side]
        for jump in ("middle", "end"):
            assert scroll[jump]["frames"] >= 1 and finite(scroll[jump]["ms"])
        assert scroll["steady"]["frames"] == 4
        assert finite(scroll["steady"]["max_work_ms"])
    assert 0 < report["bundle"]["gzip"] < report["bundle"]["minified"]

    py = report["python"]
    assert py["history_rows"] == ROWS and py["task_status"] == "completed"
    assert py["events"] and all(e["bytes"] > 0 for e in py["events"])
    assert [p["page_size"] for p in py["pages"]] == list(widget.PAGE_SIZES)
    assert [p["rows"] for p in py["pages"]] == [min(ROWS, n) for n in widget.PAGE_SIZES]
    assert set(report["targets"]) == {"bundle_minified_bytes", "progress_tick_bytes", "render_ms"}
    assert all(isinstance(t["met"], bool) for t in report["targets"].values())

    table = widget.format_report(report)
    assert "(a) 120 rows" in table and "(d) progress tick" in table
