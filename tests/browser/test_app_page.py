"""`kling-studio app`: the studio alone as a web page (Voila), in a real browser: it renders with
no code on the page, generates a video on the simulator, and the video plays."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
from playwright.sync_api import Page, expect

from ..conftest import make_picture
from . import harness
from .app_process import kernels_of, running_app
from .test_studio import play


@pytest.mark.browser
def test_the_app_page_is_the_studio_alone_and_generates_a_video(
    page: Page, console_log: harness.ConsoleLog, tmp_path: Path
) -> None:
    history = tmp_path / "class.sqlite3"
    args = ("--simulator", "--time-scale", "0.05", "--history", str(history))
    hosts: set[str] = set()
    page.on(
        "request",
        lambda request: (
            hosts.add(urlsplit(request.url).hostname or "")
            if request.url.startswith(("http:", "https:", "ws:", "wss:"))
            else None
        ),
    )
    with running_app(args) as app:
        page.goto(app.url, timeout=90_000)
        backend = harness.wait_for_widget(page, "[data-testid=kls-backend]", timeout=90_000)
        expect(backend).to_contain_text("Simulator")
        # The widget's bundle loaded under Voila, and nothing of the notebook's code shows.
        expect(page.locator(".kls-root")).to_have_count(1)
        for code in (".jp-InputArea", ".jp-CodeMirrorEditor", ".cm-editor", ".jp-InputPrompt"):
            expect(page.locator(code)).to_have_count(0)
        assert "kling_studio" not in page.locator("body").inner_text()
        assert "from kling_studio.app._page import show" not in page.content()
        # The page's only output is the studio: no static fallback, no text beside it.
        expect(page.locator(".kls-fallback")).to_have_count(0)
        kernels = kernels_of(app)
        assert kernels, "Voila started no kernel"

        picture = tmp_path / "dunes.png"
        picture.write_bytes(make_picture(800, 450, (210, 170, 90)))
        page.locator("[data-testid=kls-image-input]").set_input_files(str(picture))
        expect(page.locator("[data-testid=kls-image-checks]")).to_contain_text(
            "800", timeout=15_000
        )
        page.locator("[data-testid=kls-prompt]").fill("Dunes at dusk, wind lifting the sand")
        generate = page.locator("[data-testid=kls-generate]")
        expect(generate).to_be_enabled(timeout=10_000)
        generate.click()

        card = page.locator("[data-testid=kls-card]").first
        expect(card).to_have_attribute("data-status", "completed", timeout=120_000)
        video = page.locator("[data-testid=kls-stage] [data-testid=kls-video]")
        expect(video).to_be_visible(timeout=30_000)
        state = play(page, video)
        assert 4.5 <= state["duration"] <= 5.5, state
        harness.screenshot(page, "app-page-generated")
        console_log.assert_no_errors()
        # The page loads nothing from outside the server (Voila's template has CDN links).
        assert hosts == {"127.0.0.1"}, hosts

    # The task is in the history the app was given (the kernel wrote it there).
    from kling_studio.history import History

    with History(history) as saved:
        records = saved.records()
    assert [r.prompt for r in records] == ["Dunes at dusk, wind lifting the sand"]
    assert records[0].status == "completed"
    # Stopping the app stops its kernel too: nothing left running on the shared machine.
    deadline = time.monotonic() + 20
    while any(psutil.pid_exists(pid) for pid in kernels) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(
        psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        for pid in kernels
    )


@pytest.mark.browser
def test_the_app_page_works_behind_the_class_gateway(
    page: Page, console_log: harness.ConsoleLog, tmp_path: Path
) -> None:
    """The app's kernel reads the gateway from the environment like any notebook: a student's
    gateway token as the key, the teacher's KLING_STUDIO_GATEWAY_URL; the header says so and the
    task lands in the class history as that student's."""
    from kling_studio.gateway import Students
    from kling_studio.history import History
    from kling_studio.simulator import Simulator

    from ..gateway.gateways import running_gateway

    upstream_key = "sk-upstream-behind-the-app-0123456789abcdef"
    class_history = tmp_path / "class.sqlite3"
    with History(class_history, user="teacher") as h:
        token = Students(h).add("ada")
    with (
        Simulator(time_scale=0.02, seed=9, api_keys=[upstream_key]) as upstream,
        running_gateway(str(class_history), upstream.base_url, upstream_key) as gateway,
    ):
        env = {
            "FOXAPI_API_KEY": token,
            "FOXAPI_BASE_URL": gateway.url,
            "KLING_STUDIO_GATEWAY_URL": gateway.url,
        }
        with running_app(("--history", str(tmp_path / "ada.sqlite3")), env=env) as app:
            page.goto(app.url, timeout=90_000)
            backend = harness.wait_for_widget(page, "[data-testid=kls-backend]", timeout=90_000)
            expect(backend).to_contain_text(f"Class gateway at {gateway.url}")
            expect(page.locator("[data-testid=kls-gateway]")).to_be_visible()
            assert token not in page.content()
            picture = tmp_path / "harbour.png"
            picture.write_bytes(make_picture(800, 450, (40, 90, 160)))
            page.locator("[data-testid=kls-image-input]").set_input_files(str(picture))
            page.locator("[data-testid=kls-prompt]").fill("A harbour at night, through the gateway")
            generate = page.locator("[data-testid=kls-generate]")
            expect(generate).to_be_enabled(timeout=15_000)
            generate.click()
            card = page.locator("[data-testid=kls-card]").first
            expect(card).to_have_attribute("data-status", "completed", timeout=120_000)
            play(page, page.locator("[data-testid=kls-stage] [data-testid=kls-video]"))
            harness.screenshot(page, "app-page-behind-the-gateway")
            console_log.assert_no_errors()
    with History(class_history) as saved:
        records = saved.records()
    assert [(r.prompt, r.user) for r in records] == [
        ("A harbour at night, through the gateway", "ada")
    ]
