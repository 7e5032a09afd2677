"""Issue 5 in a real browser: a 2x2 A/B comparison (two prompts x 5 s / 10 s) plays in sync.

The notebook runs the grid on the simulator from Python and shows the studio; the test then drives
the comparison's one control bar the way a user does (Play, the seek slider, Pause) and reads every
player's `currentTime` in one go: they stay within 0.25 s of each other, they advance while
playing, a seek puts all of them at the target, and only the leader has sound.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from . import harness

NOTEBOOK_CELLS = [
    """from PIL import Image, ImageDraw

def dusk(size=(640, 360)):
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(size[1]):
        t = y / size[1]
        draw.line([(0, y), (size[0], y)], fill=(int(200 - 120 * t), int(90 + 40 * t), 140))
    draw.ellipse([280, 120, 360, 200], fill=(255, 220, 150))
    return image
""",
    """from kling_studio import Studio

studio = Studio(time_scale=0.05)
studio.set_image(dusk())
studio.update_form(prompt="Dusk over the hills, the camera pans left")
group_id = studio.compare(
    prompts=["Dusk over the hills, the camera pans left", "Dusk over the hills, a bird crosses"],
    durations=[5, 10],
    confirm=True,
)
studio.wait_all(120)
print(studio.compare_df()[["label", "duration", "status"]].to_string(index=False))
""",
    "studio",
]

# Every player at one instant (a single evaluate, so no player moves between two reads).
PLAYERS_JS = """(els) => els.map((v) => ({
  t: v.currentTime, paused: v.paused, muted: v.muted, readyState: v.readyState,
  duration: v.duration, seeking: v.seeking, src: v.currentSrc || v.src
}))"""

TOLERANCE_S = 0.25


def players(page: Page) -> list[dict[str, float]]:
    result: list[dict[str, float]] = page.locator("[data-testid=kls-compare-video]").evaluate_all(
        PLAYERS_JS
    )
    return result


def spread(states: list[dict[str, float]]) -> float:
    times = [s["t"] for s in states]
    return max(times) - min(times)


def wait_settled(page: Page, timeout: float = 10.0) -> list[dict[str, float]]:
    """The players once none is seeking any more (a seek in flight reports its target early)."""
    deadline = time.monotonic() + timeout
    while True:
        states = players(page)
        if not any(s["seeking"] for s in states) or time.monotonic() > deadline:
            return states
        time.sleep(0.05)


def seek_to(page: Page, seconds: float) -> None:
    """Moves the shared seek slider as a drag does: input events, then change on release."""
    page.locator("[data-testid=kls-compare-seek]").evaluate(
        """(el, t) => {
          el.value = String(t);
          el.dispatchEvent(new Event('input', {bubbles: true}));
          el.dispatchEvent(new Event('change', {bubbles: true}));
        }""",
        seconds,
    )


@pytest.mark.browser
@pytest.mark.parametrize("ui", harness.UIS)
def test_a_2x2_comparison_plays_in_sync(
    ui: harness.UI,
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    tmp_path: Path,
) -> None:
    source = harness.make_notebook(tmp_path / "compare_sync.ipynb", NOTEBOOK_CELLS)
    # A history of its own: the grid is never "reused" from another test's tasks.
    name = harness.copy_notebook(
        source, jupyter_server, env={"KLING_STUDIO_HOME": str(tmp_path / "home")}
    )
    harness.open_notebook(page, jupyter_server, name, ui)
    harness.run_all(page, ui, timeout=150_000)

    harness.wait_for_widget(page, "[data-testid=kls-root]")
    if page.locator("[data-testid=kls-compare-body]").is_hidden():
        page.locator("[data-testid=kls-tab-compare]").click()
    expect(page.locator("[data-testid=kls-compare-body]")).to_be_visible()
    cells = page.locator("[data-testid=kls-compare-cell]")
    expect(cells).to_have_count(4)
    for i in range(4):
        expect(cells.nth(i)).to_have_attribute("data-status", "completed", timeout=30_000)
    videos = page.locator("[data-testid=kls-compare-video]")
    expect(videos).to_have_count(4, timeout=30_000)
    page.wait_for_function(
        """() => { const vs = [...document.querySelectorAll('[data-testid=kls-compare-video]')];
                   return vs.length === 4 && vs.every((v) => v.readyState >= 2); }""",
        timeout=30_000,
    )
    before = players(page)
    durations = sorted(round(s["duration"]) for s in before)
    assert durations == [5, 5, 10, 10], before
    # Streamed from the page's own Jupyter server (the media route), not pushed as blobs.
    route = f"{jupyter_server.url}/kling-studio/media/"
    assert all(str(s["src"]).startswith(route) for s in before), before
    assert sum(not s["muted"] for s in before) == 1, f"exactly one player has sound: {before}"
    # The leader (the one with sound) is the first cell's.
    assert not before[0]["muted"], before

    play = page.locator("[data-testid=kls-compare-play]")
    expect(play).to_be_enabled()
    # The control bar at the top of the view, the grid below it (for the screenshots).
    page.locator("[data-testid=kls-compare-controls]").evaluate(
        "(el) => el.scrollIntoView({block: 'start'})"
    )
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    time.sleep(1.5)
    playing = players(page)
    assert not any(s["paused"] for s in playing), playing
    assert all(s["t"] >= 0.8 for s in playing), f"not all players advanced: {playing}"
    assert spread(playing) <= TOLERANCE_S, f"out of sync after play: {playing}"
    time.sleep(0.5)
    later = players(page)
    assert all(b["t"] > a["t"] for a, b in zip(playing, later, strict=True)), (playing, later)
    assert spread(later) <= TOLERANCE_S, f"out of sync while playing: {later}"
    assert sum(not s["muted"] for s in later) == 1, later
    harness.screenshot(page, f"compare-sync-{ui}-playing")

    # A seek while playing: every player jumps to the target and they go on together.
    target = 2.5
    seek_to(page, target)
    seeked = wait_settled(page)
    assert spread(seeked) <= TOLERANCE_S, f"out of sync after a seek: {seeked}"
    assert all(abs(s["t"] - target) <= TOLERANCE_S for s in seeked), seeked
    time.sleep(0.7)
    after_seek = players(page)
    assert not any(s["paused"] for s in after_seek), after_seek
    assert all(s["t"] > target for s in after_seek), after_seek
    assert spread(after_seek) <= TOLERANCE_S, f"out of sync after a seek: {after_seek}"

    # Pause: every player stops, on the same frame.
    play.click()
    expect(play).to_have_attribute("aria-pressed", "false")
    expect(play).to_have_text("Play")
    paused = wait_settled(page)
    assert all(s["paused"] for s in paused), paused
    assert spread(paused) <= TOLERANCE_S, f"out of sync when paused: {paused}"
    time.sleep(0.3)
    still = players(page)
    assert [s["t"] for s in still] == [s["t"] for s in paused], (paused, still)

    # A seek while paused moves every frame and keeps them paused.
    seek_to(page, 1.0)
    moved = wait_settled(page)
    assert all(s["paused"] for s in moved), moved
    assert all(abs(s["t"] - 1.0) <= TOLERANCE_S for s in moved), moved
    expect(page.locator("[data-testid=kls-compare-time]")).to_contain_text("1.0")
    harness.screenshot(page, f"compare-sync-{ui}-paused")

    console_log.assert_no_errors()
