"""Issue 6 point 5, the widget's part, in a real browser: where the input is at fault no request
is sent, the widget says why in a sentence, and it stays usable afterwards.

The studio talks to a simulator run by this test (its key and URL reach the kernel through the
notebook's kernelspec), so the test counts every request the widget caused: none while the input
is bad (a too-small picture, a GIF or a text file named .png, a prompt over 2,500 characters,
segments that do not add up to the duration, a voice id without audio), then exactly one upload
and one create once everything is fixed, and the task completes and plays.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from kling_studio.simulator import Simulator

from ..conftest import make_picture
from . import harness

NOTEBOOK_CELLS = [
    """from kling_studio import Studio

studio = Studio()  # FOXAPI_API_KEY and FOXAPI_BASE_URL: the test's simulator
assert studio.mode == "foxapi", studio
studio""",
]


def api_requests(sim: Simulator) -> dict[str, int]:
    requests: dict[str, int] = sim.stats()["requests"]
    return {route: requests.get(route, 0) for route in ("upload", "create", "get")}


NOTHING_SENT = {"upload": 0, "create": 0, "get": 0}


def pick(page: Page, name: str, data: bytes, mime: str = "image/png") -> None:
    page.locator("[data-testid=kls-image-input]").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )


def show_slot(page: Page) -> None:
    """Scrolls the first-frame slot to the top of the view (for the screenshots)."""
    page.locator(".kls-slot[data-slot=image]").evaluate(
        "(el) => el.scrollIntoView({block: 'start'})"
    )


def reasons(page: Page) -> Locator:
    return page.locator("[data-testid=kls-generate-reason] li")


def gif_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (800, 450), (90, 90, 200)).save(buf, format="GIF")
    return buf.getvalue()


@pytest.mark.browser
def test_bad_input_sends_nothing_and_the_widget_stays_usable(
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    tmp_path: Path,
) -> None:
    with Simulator(time_scale=0.05) as sim:
        source = harness.make_notebook(tmp_path / "bad_input.ipynb", NOTEBOOK_CELLS)
        env = {
            "FOXAPI_API_KEY": sim.api_key,
            "FOXAPI_BASE_URL": sim.base_url,
            "KLING_STUDIO_HOME": str(tmp_path / "home"),
        }
        name = harness.copy_notebook(source, jupyter_server, env=env)
        harness.open_notebook(page, jupyter_server, name, "lab")
        harness.run_all(page, "lab", timeout=60_000)
        harness.wait_for_widget(page, "[data-testid=kls-generate]")
        expect(page.locator("[data-testid=kls-backend]")).to_contain_text(sim.base_url)

        generate = page.locator("[data-testid=kls-generate]")
        checks = page.locator("[data-testid=kls-image-checks]")
        failed_checks = checks.locator("li[data-ok=false]")
        prompt = page.locator("[data-testid=kls-prompt]")
        prompt.fill("A red fox trots across fresh snow, low camera")

        # 1. A picture too small: the slot shows the failed check, Generate says why it can't.
        pick(page, "tiny.png", make_picture(200, 200, (200, 60, 40)))
        expect(failed_checks).to_have_count(1, timeout=15_000)
        expect(failed_checks).to_contain_text("at least 300 px")
        facts = page.locator(".kls-slot[data-slot=image] .kls-facts")
        expect(facts).to_contain_text("tiny.png")
        expect(generate).to_be_disabled()
        expect(reasons(page)).to_have_text(
            ["The first-frame picture fails its checks; see the picture."]
        )
        generate.click(force=True)  # a disabled button: the click goes nowhere
        assert api_requests(sim) == NOTHING_SENT
        show_slot(page)
        harness.screenshot(page, "bad-input-small-picture")

        # 2. A GIF and a text file, both named .png: refused here by their bytes, not sent.
        slot_message = page.locator(".kls-slot[data-slot=image] [role=status]")
        for file_name, data, said in (
            ("looks-like.png", gif_bytes(), "the bytes say GIF"),
            ("notes.png", b"just some text, not a picture\n", "the bytes say unknown format"),
        ):
            pick(page, file_name, data)
            expect(failed_checks.first).to_contain_text(said, timeout=15_000)
            expect(slot_message).to_have_text(
                "Not sent: this file can't be used. Choose a JPG or PNG within the limits."
            )
            expect(generate).to_be_disabled()
            expect(reasons(page)).to_have_text(
                ["The first-frame picture fails its checks; see the picture."]
            )
        # The refused file is not previewed (its bytes are not ours to show).
        expect(page.locator("[data-testid=kls-image-drop] img")).to_have_count(0)
        assert api_requests(sim) == NOTHING_SENT
        show_slot(page)
        harness.screenshot(page, "bad-input-not-a-picture")

        # A good picture: the slot's checks all pass.
        pick(page, "fox.png", make_picture(800, 450, (230, 230, 240)))
        expect(checks.locator("li[data-ok=true]")).to_have_count(4, timeout=15_000)
        expect(failed_checks).to_have_count(0)
        expect(generate).to_be_enabled()
        expect(reasons(page)).to_have_count(0)

        # 3. A prompt over 2,500 characters: the counter is over, Generate says by how much.
        prompt.fill("snow " * 520)  # 2,600 characters
        counter = page.locator("[data-testid=kls-prompt-count]")
        expect(counter).to_have_text("2,600 / 2,500")
        expect(counter).to_have_class(re.compile(r"\bkls-over\b"))
        expect(generate).to_be_disabled()
        expect(reasons(page)).to_have_text(["Prompt is 2,600 characters; the limit is 2,500."])
        assert api_requests(sim) == NOTHING_SENT
        harness.screenshot(page, "bad-input-long-prompt")
        prompt.fill("A red fox trots across fresh snow, low camera")
        expect(counter).not_to_have_class(re.compile(r"\bkls-over\b"))
        expect(generate).to_be_enabled()

        # 4. Multi-prompt segments adding up to 4 s for a 5 s video.
        page.locator("[data-testid=kls-duration]").select_option("5")
        page.locator("[data-testid=kls-segment-add]").click()
        page.locator("[data-testid=kls-segment-prompt]").fill("The fox stops and looks up")
        page.locator("[data-testid=kls-segment-seconds]").fill("4")
        expect(page.locator("[data-testid=kls-segments-sum]")).to_have_text("4 of 5 s")
        expect(generate).to_be_disabled()
        expect(reasons(page)).to_have_text(
            ["Segments add up to 4 s; the duration is 5 s. They must be equal."]
        )
        assert api_requests(sim) == NOTHING_SENT
        harness.screenshot(page, "bad-input-segments")
        page.locator("[data-testid=kls-segment-remove]").click()
        expect(page.locator("[data-testid=kls-segment]")).to_have_count(0)
        expect(generate).to_be_enabled()

        # 5. A voice id without audio. The voice inputs are disabled while audio is off, so only
        # Python can set this form; the widget still says what is wrong.
        harness.kernel_exec(
            page, 'studio.update_form(voice_ids=["voice-fox-1"], generate_audio=False)'
        )
        expect(page.locator("[data-testid=kls-voice-1]")).to_have_value("voice-fox-1")
        expect(page.locator("[data-testid=kls-voice-1]")).to_be_disabled()
        expect(generate).to_be_disabled()
        expect(reasons(page)).to_have_text(["Voice ids need audio: turn audio on or remove them."])
        # Python refuses the same form before any request, had it been asked directly.
        refused = harness.kernel_exec(
            page,
            "from kling_studio import InputError\n"
            "try:\n    studio.submit()\nexcept InputError as exc:\n    print('refused:', exc)",
        )
        assert refused.startswith("refused:") and "voice_ids" in refused, refused
        assert api_requests(sim) == NOTHING_SENT
        harness.screenshot(page, "bad-input-voice-without-audio")
        # The user's way out: clear the voice id (audio on enables the input), audio off again.
        page.locator("[data-testid=kls-audio]").check()
        page.locator("[data-testid=kls-voice-1]").fill("")
        page.locator("[data-testid=kls-audio]").uncheck()
        expect(generate).to_be_enabled()
        expect(reasons(page)).to_have_count(0)
        assert api_requests(sim) == NOTHING_SENT

        # 6. Everything fixed: Generate sends one upload and one create; the task plays.
        form: dict[str, Any] = json.loads(
            harness.kernel_exec(page, "import json; print(json.dumps(studio.form))")
        )
        assert form["voice_ids"] == [] and form["multi_prompt"] == [], form
        generate.click()
        card = page.locator("[data-testid=kls-card]").first
        expect(card).to_be_visible(timeout=30_000)
        expect(card).to_contain_text("A red fox trots across fresh snow")
        expect(card).to_have_attribute("data-status", "completed", timeout=60_000)
        # The task started here plays in the player.
        stage = page.locator("[data-testid=kls-stage]")
        expect(stage).to_have_attribute("data-local-id", card.get_attribute("data-local-id") or "")
        video = stage.locator("[data-testid=kls-video]")
        expect(video).to_be_visible(timeout=30_000)
        handle = video.element_handle()
        assert handle is not None
        page.wait_for_function("(v) => v.readyState >= 2", arg=handle, timeout=30_000)
        handle.evaluate("(v) => { v.muted = true; return v.play(); }")
        page.wait_for_function("(v) => v.currentTime > 0.3 && !v.paused", arg=handle)
        sent = api_requests(sim)
        assert sent["upload"] == 1 and sent["create"] == 1, sent
        assert [t["body"]["prompt"] for t in sim.created_tasks()] == [
            "A red fox trots across fresh snow, low camera"
        ]
        card.scroll_into_view_if_needed()
        harness.screenshot(page, "bad-input-fixed-and-played")

    console_log.assert_no_errors()
