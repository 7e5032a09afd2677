"""A budget in a real browser: a studio with `budget=Budget(tasks=1)` shows the estimate beside
Generate and the spend in its header, lets one task through, and refuses the second Generate
beside the button with nothing sent (requests counted at the test's simulator)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kling_studio.simulator import Simulator

from ..conftest import make_picture
from . import harness

NOTEBOOK_CELLS = [
    """from kling_studio import Budget, Studio

studio = Studio(budget=Budget(tasks=1))  # FOXAPI_API_KEY and FOXAPI_BASE_URL: the simulator
studio""",
]


def api_requests(sim: Simulator) -> dict[str, int]:
    requests: dict[str, int] = sim.stats()["requests"]
    return {route: requests.get(route, 0) for route in ("upload", "create", "get")}


@pytest.mark.browser
def test_the_second_generate_over_budget_is_refused_beside_the_button(
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    tmp_path: Path,
) -> None:
    with Simulator(time_scale=0.05, render_width=160, fps=8) as sim:
        source = harness.make_notebook(tmp_path / "budget.ipynb", NOTEBOOK_CELLS)
        env = {
            "FOXAPI_API_KEY": sim.api_key,
            "FOXAPI_BASE_URL": sim.base_url,
            "KLING_STUDIO_HOME": str(tmp_path / "home"),
            "KLING_STUDIO_USER": "ana",
        }
        name = harness.copy_notebook(source, jupyter_server, env=env)
        harness.open_notebook(page, jupyter_server, name, "lab")
        harness.run_all(page, "lab", timeout=60_000)
        generate = harness.wait_for_widget(page, "[data-testid=kls-generate]")
        spending = page.locator("[data-testid=kls-spending]")
        estimate = page.locator("[data-testid=kls-estimate]")
        reasons = page.locator("[data-testid=kls-generate-reason] li")
        expect(spending).to_have_text("Spent 0 of 1 tasks this session")
        expect(spending).to_have_attribute("data-over", "false")
        expect(estimate).to_have_text("cost unknown until a first 720p 5 s task")

        page.locator("[data-testid=kls-image-input]").set_input_files(
            {"name": "fox.png", "mimeType": "image/png", "buffer": make_picture(800, 450)}
        )
        expect(page.locator("[data-testid=kls-image-checks] li[data-ok=true]")).to_have_count(
            4, timeout=15_000
        )
        page.locator("[data-testid=kls-prompt]").fill("A red fox trots across fresh snow")
        expect(generate).to_be_enabled()
        generate.click()
        card = page.locator("[data-testid=kls-card][data-status=completed]").first
        expect(card).to_be_visible(timeout=60_000)
        expect(spending).to_have_text("Spent 1 of 1 tasks this session", timeout=15_000)
        expect(spending).to_have_attribute("data-over", "true")
        expect(estimate).to_have_text("≈ 10 credits (from the last 720p 5 s task)")

        before = api_requests(sim)
        generate.click()
        refusal = reasons.filter(has_text="1 of 1 tasks used")
        expect(refusal).to_have_count(1, timeout=15_000)
        expect(refusal).to_contain_text("Nothing was sent")
        expect(refusal).to_have_attribute("data-kind", "error")
        expect(page.locator("[data-testid=kls-error]")).to_be_hidden()  # not a banner
        assert api_requests(sim) == before  # no upload, no create
        generate.scroll_into_view_if_needed()
        harness.screenshot(page, "budget-refused-beside-generate")
        console_log.assert_no_errors()
