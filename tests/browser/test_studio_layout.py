"""The studio's layout, keyboard and accessibility in a real browser (JupyterLab 4 and Notebook 7).

One notebook per UI: a history of 200 tasks, a studio on it, one video generated from Python.
Then, as a user would see it: the studio fits in about 900 px of height at 1280 px wide (the
gallery scrolls inside), the player plays the finished video, Tab reaches every control and shows
its focus, the arrow keys move in the gallery, Escape closes the selection mode, Ctrl+Enter
generates (and JupyterLab does not also run the cell), axe-core finds no serious or critical
violation in the light and the dark theme, and at 600 px wide the studio stacks. In JupyterLab the
notebook is then saved, exported with `jupyter nbconvert --to html`, and the page is opened: the
static fallback shows what was made. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from ..conftest import make_picture
from . import harness

AXE = harness.REPO / "node_modules" / "axe-core" / "axe.min.js"
HISTORY_ROWS = 200
MAX_HEIGHT = 900

SEED_CELL = """\
from kling_studio import Studio
from kling_studio.history._store import History
from kling_studio.models import PreparedRequest, Task, VideoRequest

SCENES = [
    "A red fox trots through fresh snow at dawn, the camera tracking low beside it",
    "Waves roll onto a black sand beach under a stormy sky, slow push in",
    "A paper boat drifts down a rain-soaked street, neon reflections",
    "Hot air balloons rise over a valley at sunrise, wide aerial shot",
    "A cat stretches on a sunny windowsill, dust motes in the light",
]
FRAME = "http://127.0.0.1:9/frame.jpg"  # never fetched: the tasks are only journalled
REFUSED = {{"code": "content_policy", "message": "The prompt was refused."}}
DONE = {{"status": "completed", "progress": 100, "results": [{{"url": "http://127.0.0.1:9/seed.mp4"}}]}}
history = History("history-{tag}.sqlite3")
requests = []
for scene in SCENES:
    request = VideoRequest.build(prompt=scene, image=FRAME)
    requests.append(PreparedRequest(request=request, payload=request.payload(FRAME, None)))
for n in range({rows}):
    local_id = history.journal_submit(requests[n % len(requests)])
    failed = n % 9 == 0
    answer = {{"status": "failed", "error": REFUSED}} if failed else DONE
    task = Task.from_api({{"id": f"task-seed-{{n}}", "object": "video.task", **answer}})
    history.update(local_id, task)
studio = Studio(simulator=True, history=history, time_scale=0.05, resume=False)
studio
"""

GENERATE_CELL = """\
studio.set_image("{picture}")
studio.update_form(prompt="A meadow in the wind, the camera rising slowly", duration=5)
record = studio.generate(timeout=240)
print(record.status)
"""

# Interactive elements inside the studio that Tab should reach: visible, enabled, not taken out of
# the tab order on purpose (tabindex=-1: the gallery's tiles share one tab stop, the hidden file
# inputs are reached through their drop zones).
TAB_TARGETS_JS = """(root) => {
  const sel = 'button, input, select, textarea, video[controls], [tabindex]';
  return [...root.querySelectorAll(sel)].filter((e) => {
    if (e.disabled || e.tabIndex < 0) return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
  }).map((e) => e.dataset.testid || e.getAttribute('aria-label') || e.outerHTML.slice(0, 80));
}"""

# The focused element inside the studio (or null), and whether it shows its focus.
FOCUSED_JS = """(root) => {
  const e = document.activeElement;
  if (!e || !root.contains(e)) return null;
  const s = getComputedStyle(e);
  const ring = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1;
  return {id: e.dataset.testid || e.getAttribute('aria-label') || e.outerHTML.slice(0, 80),
          ring, shadow: s.boxShadow !== 'none', video: e.tagName === 'VIDEO'};
}"""

# Tiles in the gallery's first row.
COLUMNS_JS = """(root) => {
  const l = [...root.querySelectorAll('.kls-tile')].slice(0, 20).map((t) => t.offsetLeft);
  let n = 1;
  while (n < l.length && l[n] > l[n - 1]) n++;
  return n;
}"""

AXE_RUN_JS = """async (root) => {
  const r = await axe.run(root, {resultTypes: ['violations']});
  return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary)}));
}"""


def set_theme(page: Page, dark: bool) -> None:
    theme = "JupyterLab Dark" if dark else "JupyterLab Light"
    page.evaluate(
        "(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme
    )
    expect(page.locator("body")).to_have_attribute("data-jp-theme-name", theme, timeout=20_000)
    page.wait_for_timeout(500)  # the theme's CSS variables settle


def axe_violations(page: Page, root: Locator) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    handle = root.element_handle()
    found: list[dict[str, Any]] = page.evaluate(AXE_RUN_JS, handle)
    return [v for v in found if v["impact"] in ("serious", "critical")]


def shoot(page: Page, root: Locator, name: str) -> None:
    """The studio alone (element screenshot) and the page around it. The window grows for it:
    JupyterLab's bars take part of a 900 px window, and the shot should show the whole studio."""
    size = page.viewport_size or {"width": 1280, "height": 900}
    tall = int(root.evaluate("(e) => e.getBoundingClientRect().height")) + 300
    page.set_viewport_size({"width": size["width"], "height": max(1200, tall)})
    root.scroll_into_view_if_needed()
    path = harness.artifacts_dir() / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(path))
    harness.screenshot(page, f"{name}-page")
    page.set_viewport_size(size)


def collapse_lab_sidebar(page: Page, ui: harness.UI) -> None:
    """JupyterLab opens with the file browser; collapse it so the notebook has the width."""
    if ui == "lab":
        page.evaluate(
            "() => { const s = window.jupyterapp.shell; if (!s.leftCollapsed) s.collapseLeft(); }"
        )


def tab_through(
    page: Page, root: Locator, first: Locator, limit: int = 200
) -> list[dict[str, Any]]:
    """Focuses `first`, then presses Tab until focus leaves the studio; returns what had focus."""
    first.focus()
    handle = root.element_handle()
    seen: list[dict[str, Any]] = []
    for _ in range(limit):
        focused = page.evaluate(FOCUSED_JS, handle)
        if focused is None:
            break
        seen.append(focused)
        page.keyboard.press("Tab")
    return seen


@pytest.mark.browser
@pytest.mark.parametrize("ui", harness.UIS)
def test_studio_layout_keyboard_and_accessibility(
    ui: harness.UI,
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    tmp_path: Path,
) -> None:
    tag = f"{ui}-{tmp_path.name}"
    picture = f"meadow-{tag}.png"
    (jupyter_server.root_dir / picture).write_bytes(make_picture(960, 540, (70, 150, 90)))
    source = harness.make_notebook(
        tmp_path / f"layout-{ui}.ipynb",
        [SEED_CELL.format(tag=tag, rows=HISTORY_ROWS), GENERATE_CELL.format(picture=picture)],
    )
    name = harness.copy_notebook(source, jupyter_server)
    harness.open_notebook(page, jupyter_server, name, ui)
    collapse_lab_sidebar(page, ui)
    harness.run_all(page, ui, timeout=300_000)
    root = harness.wait_for_widget(page, "[data-testid=kls-root]")
    expect(root).to_have_attribute("data-layout", "wide")

    # The player shows the video made from Python, and it plays.
    stage = root.locator("[data-testid=kls-stage]")
    expect(stage).to_have_attribute("data-status", "completed", timeout=60_000)
    video = stage.locator("[data-testid=kls-video]")
    expect(video).to_be_visible(timeout=30_000)
    handle = video.element_handle()
    assert handle is not None
    page.wait_for_function("(v) => v.readyState >= 2 && v.duration > 4", arg=handle)

    # One gallery for the session's task and the history: 50 tiles (a page), the newest first.
    tiles = root.locator("[data-testid=kls-card]")
    expect(tiles).to_have_count(50, timeout=30_000)
    expect(tiles.first).to_contain_text("A meadow in the wind")
    expect(root.locator("[data-testid=kls-history-range]")).to_contain_text(
        f"of {HISTORY_ROWS + 1}"
    )

    # It fits: at 1280 px wide, about 900 px high whatever the history holds; the gallery scrolls.
    box = root.bounding_box()
    assert box is not None and box["height"] <= MAX_HEIGHT, box
    scroll = root.locator("[data-testid=kls-gallery-scroll]")
    assert scroll.evaluate("(e) => e.scrollHeight > e.clientHeight + 100")
    screen = stage.locator("[data-testid=kls-screen]").bounding_box()
    assert screen is not None and screen["width"] >= 500 and screen["height"] >= 280, screen
    page.mouse.move(0, 0)
    shoot(page, root, f"studio-{ui}-1280-light")

    # Every control is reachable with Tab, and shows where the focus is.
    seen = tab_through(page, root, root.locator("[data-testid=kls-tab-create]"))
    targets = set(page.evaluate(TAB_TARGETS_JS, root.element_handle()))
    reached = {s["id"] for s in seen}
    assert targets <= reached, sorted(targets - reached)
    # (A <video>'s own controls draw their focus inside the browser's shadow tree.)
    no_ring = [s["id"] for s in seen if not (s["ring"] or s["shadow"] or s["video"])]
    assert not no_ring, no_ring

    # The gallery moves with the arrow keys (one tab stop; ↓ goes a row down).
    opens = root.locator("[data-testid=kls-tile-open]")
    opens.first.focus()
    page.keyboard.press("ArrowRight")
    expect(opens.nth(1)).to_be_focused()
    columns = page.evaluate(COLUMNS_JS, root.element_handle())
    assert columns >= 3, columns
    page.keyboard.press("ArrowDown")
    expect(opens.nth(1 + columns)).to_be_focused()
    page.keyboard.press("Enter")
    local_id = tiles.nth(1 + columns).get_attribute("data-local-id")
    expect(stage).to_have_attribute("data-local-id", local_id or "")
    harness.screenshot(page, f"studio-{ui}-gallery-focus")

    # Ctrl+Enter generates from the prompt box; the notebook does not run the cell again.
    count_before = tiles.count()
    prompts = page.locator(".jp-InputPrompt").all_inner_texts()
    prompt_box = root.locator("[data-testid=kls-prompt]")
    prompt_box.fill("The meadow at night, fireflies rising")
    prompt_box.press("Control+Enter")
    expect(root.locator("[data-testid=kls-generate-reason]")).to_contain_text(
        "Task started", timeout=30_000
    )
    expect(tiles.first).to_contain_text("fireflies", timeout=30_000)
    expect(stage).to_contain_text("fireflies")
    # Still one page once the history is re-read: the oldest tile left it.
    expect(tiles).to_have_count(count_before)
    assert page.locator(".jp-InputPrompt").all_inner_texts() == prompts
    expect(stage).to_have_attribute("data-status", "completed", timeout=120_000)

    # Selection mode: pick the two clips with a video, Join offers them; Escape closes the mode.
    root.locator("[data-testid=kls-select-mode]").click()
    completed = root.locator("[data-testid=kls-card][data-status=completed] .kls-tile-prompt")
    completed.nth(0).click()
    completed.nth(1).click()
    expect(root.locator("[data-testid=kls-join]")).to_have_text("Join 2 clips")
    shoot(page, root, f"studio-{ui}-select")
    page.keyboard.press("Escape")
    expect(root.locator("[data-testid=kls-join]")).to_be_hidden()
    expect(root.locator("[data-testid=kls-select-mode]")).to_have_attribute("aria-pressed", "false")

    # axe-core: no serious or critical violation, light and dark.
    found = axe_violations(page, root)
    assert not found, found
    set_theme(page, dark=True)
    found = axe_violations(page, root)
    assert not found, found
    page.mouse.move(0, 0)
    shoot(page, root, f"studio-{ui}-1280-dark")
    set_theme(page, dark=False)

    # Table view, one click away.
    root.locator("[data-testid=kls-view-table]").click()
    expect(root.locator("[data-testid=kls-history-row]").first).to_contain_text("fireflies")
    found = axe_violations(page, root)
    assert not found, found
    shoot(page, root, f"studio-{ui}-table")
    root.locator("[data-testid=kls-view-gallery]").click()

    # About 600 px wide (a side panel): the studio stacks and nothing spills sideways.
    page.set_viewport_size({"width": 600, "height": 900})
    expect(root).to_have_attribute("data-layout", "narrow", timeout=10_000)
    assert root.evaluate("(e) => e.scrollWidth <= e.clientWidth + 1")
    screen = stage.locator("[data-testid=kls-screen]").bounding_box()
    box = root.bounding_box()
    assert screen is not None and box is not None and screen["width"] >= box["width"] - 20
    found = axe_violations(page, root)
    assert not found, found
    shoot(page, root, f"studio-{ui}-600-light")
    set_theme(page, dark=True)
    shoot(page, root, f"studio-{ui}-600-dark")
    set_theme(page, dark=False)
    page.set_viewport_size({"width": 1280, "height": 900})

    # The static fallback is there, updated by the run, and hidden while the widget renders.
    fallback = page.locator(".kls-fallback")
    expect(fallback).to_have_count(1)
    expect(fallback).to_be_hidden()
    assert "A meadow in the wind" in (fallback.text_content() or "")

    console_log.assert_no_errors()
    if ui == "lab":
        check_saved_notebook_exported_to_html(page, jupyter_server, name, tmp_path)


def check_saved_notebook_exported_to_html(
    page: Page, server: harness.JupyterServer, name: str, tmp_path: Path
) -> None:
    """Saves the notebook from JupyterLab, exports it with nbconvert, and looks at the page."""
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    saved = server.root_dir / name
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=20_000
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "html",
            "--output-dir",
            str(tmp_path),
            str(saved),
        ],
        check=True,
        capture_output=True,
    )
    html_path = tmp_path / saved.with_suffix(".html").name
    text = html_path.read_text()
    assert "<video" not in text and "data:video" not in text
    fallback_html = re.search(r'<div class="kls-fallback".*?</ul></div>', text, re.S)
    assert fallback_html is not None
    assert len(fallback_html.group(0)) < 8_000 * 3, len(fallback_html.group(0))
    # A page of its own: the export links scripts on CDNs, which this test must not reach.
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    try:
        show_exported_page(context.new_page(), html_path)
    finally:
        context.close()


def show_exported_page(page: Page, html_path: Path) -> None:
    page.goto(html_path.as_uri())
    fallback = page.locator(".kls-fallback")
    expect(fallback).to_be_visible()
    expect(fallback.locator("li[data-status=completed]")).to_have_count(2)
    expect(fallback).to_contain_text("A meadow in the wind")
    expect(fallback).to_contain_text("fireflies")
    fallback.scroll_into_view_if_needed()
    path = harness.artifacts_dir() / "screenshots" / "studio-nbconvert-fallback.png"
    fallback.screenshot(path=str(path))
