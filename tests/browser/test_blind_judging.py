"""Blind judging in a real browser: a comparison run with `blind=True` shows neutral labels and
no settings, and nothing the page's widget model received (every state update and message, read
off the kernel connection) nor its DOM carries a card or history row of the compared tasks;
another person's rating shows as text in the mean and the list of raters; once the viewer has
rated every variant (with the page's own rating menus) the settings are revealed and the cards
come."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from . import harness

HOSTILE = "<img src=x onerror=alert(1)>"

NOTEBOOK_CELLS = [
    f"""from PIL import Image
from kling_studio import History, Studio
from kling_studio.compare import rate

studio = Studio(time_scale=0.05, user="ada")
studio.set_image(Image.new("RGB", (640, 360), (90, 120, 160)))
studio.update_form(prompt="A lake at dawn")
group_id = studio.compare(durations=[5, 10], blind=True)
studio.wait_all(120)
with History(studio.history.path, user={HOSTILE!r}) as other:
    for lid in studio.compare_df(group_id)["local_id"]:
        rate(other, lid, rating=3)
studio.show_comparison(group_id)
""",
    "studio",
]


# Keeps what the page's widget models receive: every comm_open / comm_msg on the kernel
# connection (state updates and custom messages), from before the cells run.
RECORD_COMMS_JS = """() => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  window.__klsComms = [];
  kernel.iopubMessage.connect((_, msg) => {
    const kind = msg.header.msg_type;
    if (kind === 'comm_open' || kind === 'comm_msg') {
      window.__klsComms.push(JSON.parse(JSON.stringify(msg.content.data || {})));
    }
  });
}"""


def received(page: Page) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(state updates, custom messages) the page's widget models got so far."""
    comms: list[dict[str, Any]] = page.evaluate("() => window.__klsComms")
    states = [c["state"] for c in comms if isinstance(c.get("state"), dict)]
    custom = [c["content"] for c in comms if c.get("method") == "custom"]
    return states, [m for m in custom if isinstance(m, dict)]


def assert_nothing_tells_the_variants_apart(page: Page) -> None:
    states, messages = received(page)
    assert any("comparison" in s for s in states)
    for state in states:
        if state.get("comparison"):
            value = state["comparison"]
            assert value["blind"] and not value["revealed"] and value["differing"] == []
            assert all(v["params"] == {} for v in value["variants"])
        if "history_count" in state:
            assert state["history_count"] == 0  # the compared tasks are not counted
    assert [m for m in messages if m.get("kind") == "task"] == []  # no card
    for reply in (m for m in messages if m.get("kind") == "reply"):
        data = reply.get("data") or {}
        if isinstance(data, dict):
            assert data.get("rows", []) == [] and data.get("cards", []) == [], reply
    assert page.locator("[data-testid=kls-card]").count() == 0
    assert page.locator("[data-testid=kls-history-row]").count() == 0


@pytest.mark.browser
def test_blind_judging_hides_settings_until_every_variant_is_rated(
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    tmp_path: Path,
) -> None:
    source = harness.make_notebook(tmp_path / "blind.ipynb", NOTEBOOK_CELLS)
    name = harness.copy_notebook(
        source, jupyter_server, env={"KLING_STUDIO_HOME": str(tmp_path / "home")}
    )
    harness.open_notebook(page, jupyter_server, name, "lab")
    page.evaluate(RECORD_COMMS_JS)
    harness.run_all(page, "lab", timeout=150_000)
    harness.wait_for_widget(page, "[data-testid=kls-root]")
    if page.locator("[data-testid=kls-compare-body]").is_hidden():
        page.locator("[data-testid=kls-tab-compare]").click()
    cells = page.locator("[data-testid=kls-compare-cell]")
    expect(cells).to_have_count(2)
    expect(page.locator("[data-testid=kls-compare-blind]")).to_be_checked()
    expect(page.locator("[data-testid=kls-compare-blind-note]")).to_contain_text("2 left to rate")
    expect(page.locator(".kls-compare-param")).to_have_count(0)
    everyone = page.locator("[data-testid=kls-compare-everyone]").first
    expect(everyone).to_have_text("mean 3 of 1 rating")
    expect(page.locator("[data-testid=kls-compare-raters] li").first).to_have_text(
        f"{HOSTILE}: 3/5"
    )
    assert page.locator("[data-testid=kls-root] img[src=x]").count() == 0
    # The gallery's pages and cards, as the page itself asks for them while judging.
    page.locator("[data-testid=kls-tab-create]").click()
    page.wait_for_timeout(1000)
    assert_nothing_tells_the_variants_apart(page)
    page.locator("[data-testid=kls-tab-compare]").click()

    for label in ("A", "B"):
        cell = page.locator(f"[data-testid=kls-compare-cell][data-label={label}]")
        cell.locator("[data-testid=kls-compare-rating]").select_option("4")
    expect(page.locator("[data-testid=kls-compare-blind-note]")).to_contain_text("Revealed")
    expect(page.locator(".kls-compare-param[data-param=duration]")).to_have_count(2)
    expect(everyone).to_have_text("mean 3.5 of 2 ratings")
    # Revealed: the held-back cards come (the settings with them).
    page.wait_for_function(
        "() => window.__klsComms.filter(c => c.method === 'custom' && c.content"
        " && c.content.kind === 'task').length >= 2",
        timeout=30_000,
    )
    harness.screenshot(page, "blind-judging-revealed")
