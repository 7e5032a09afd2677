"""The studio in a real browser (JupyterLab 4 and Notebook 7): run the quickstart, then do what a
user does — pick a picture through the picker, type a prompt, press Generate, watch the progress
move, and see the video play."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ..conftest import make_picture
from . import harness

QUICKSTART = harness.REPO / "notebooks" / "01_quickstart.ipynb"

VIDEO_STATE_JS = """(v) => ({
  readyState: v.readyState, duration: v.duration, currentTime: v.currentTime,
  paused: v.paused, src: v.currentSrc || v.src, error: v.error && v.error.code
})"""


def play(page: Page, video_locator: object) -> dict[str, float]:
    """Start a video (muted, as a page may autoplay) and wait until it really advances."""
    handle = video_locator.element_handle(timeout=30_000)  # type: ignore[attr-defined]
    assert handle is not None
    page.wait_for_function("(v) => v.readyState >= 2", arg=handle, timeout=30_000)
    handle.evaluate("(v) => { v.muted = true; return v.play(); }")
    page.wait_for_function("(v) => v.currentTime > 0.3 && !v.paused", arg=handle, timeout=30_000)
    state: dict[str, float] = handle.evaluate(VIDEO_STATE_JS)
    return state


@pytest.mark.browser
@pytest.mark.parametrize("ui", harness.UIS)
def test_quickstart_then_generate_from_the_widget(
    ui: harness.UI,
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    tmp_path: Path,
) -> None:
    name = harness.copy_notebook(QUICKSTART, jupyter_server)
    harness.open_notebook(page, jupyter_server, name, ui)
    harness.run_all(page, ui, timeout=240_000)

    backend = harness.wait_for_widget(page, "[data-testid=kls-backend]")
    expect(backend).to_contain_text("Simulator")

    # The quickstart ends with a finished video in the widget (generated from Python).
    first_card = page.locator("[data-testid=kls-card][data-status=completed]").first
    expect(first_card).to_be_visible(timeout=60_000)
    first_card.locator(".kls-prompt").click()
    stage = page.locator("[data-testid=kls-stage]")
    expect(stage).to_have_attribute(
        "data-local-id", first_card.get_attribute("data-local-id") or ""
    )
    quickstart_video = stage.locator("[data-testid=kls-video]")
    state = play(page, quickstart_video)
    assert 4.5 <= state["duration"] <= 5.5, state
    backend.scroll_into_view_if_needed()
    harness.screenshot(page, f"studio-{ui}-quickstart")

    # A user picks a picture through the picker, types a prompt, and presses Generate.
    picture = tmp_path / "meadow.png"
    picture.write_bytes(make_picture(800, 450, (60, 160, 80)))
    page.locator("[data-testid=kls-image-input]").set_input_files(str(picture))
    checks = page.locator("[data-testid=kls-image-checks]")
    expect(checks).to_contain_text("800", timeout=15_000)
    page.locator("[data-testid=kls-prompt]").fill("A meadow in the wind, the camera rising slowly")
    page.locator("[data-testid=kls-duration]").select_option("10")
    cards_before = page.locator("[data-testid=kls-card]").count()
    generate = page.locator("[data-testid=kls-generate]")
    expect(generate).to_be_enabled(timeout=10_000)
    generate.click()

    cards = page.locator("[data-testid=kls-card]")
    expect(cards).to_have_count(cards_before + 1, timeout=30_000)
    card = cards.first  # newest first
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = card.get_attribute("data-status") or ""
        progress = card.locator("[data-testid=kls-progress]").get_attribute("aria-valuenow") or ""
        if not seen or seen[-1] != (status, progress):
            seen.append((status, progress))
        if status in ("completed", "failed"):
            break
        if status == "processing" and len(seen) == 3:
            harness.screenshot(page, f"studio-{ui}-progress")
        time.sleep(0.1)
    assert seen[-1][0] == "completed", seen
    # The bar moved: it showed at least one value strictly between the start and the end
    # (sampling every 0.1 s on a busy machine may miss some, never all, of an 18 s task's).
    middle = {int(p) for s, p in seen if p.isdigit() and s == "processing" and 0 < int(p) < 100}
    assert middle, f"progress never moved: {seen}"

    # The task just started is the one in the player.
    expect(stage).to_have_attribute("data-local-id", card.get_attribute("data-local-id") or "")
    video = stage.locator("[data-testid=kls-video]")
    expect(video).to_be_visible(timeout=30_000)
    state = play(page, video)
    assert state["readyState"] >= 2
    assert 9.5 <= state["duration"] <= 10.5, state
    assert str(state["src"]).startswith(("blob:", "http://", "https://")), state
    harness.screenshot(page, f"studio-{ui}-generated")

    # The history table shows the new task first (the server's history is shared by both UIs).
    page.locator("[data-testid=kls-view-table]").click()
    rows = page.locator("[data-testid=kls-history-row]")
    expect(rows.first).to_contain_text("meadow", timeout=30_000)
    expect(rows.nth(1)).to_contain_text("calm lake")

    console_log.assert_no_errors()
