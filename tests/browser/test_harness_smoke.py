"""Proves the browser harness end to end in JupyterLab and Notebook 7: the kernel is the
project's .venv Python, an inline anywidget renders, and a click makes a round trip through
Python."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from . import harness

SMOKE_WIDGET = '''
import anywidget
import traitlets


class SmokeWidget(anywidget.AnyWidget):
    _esm = """
    export default {
      render({ model, el }) {
        const button = document.createElement("button");
        button.dataset.testid = "smoke-button";
        const echo = document.createElement("span");
        echo.dataset.testid = "smoke-echo";
        const update = () => {
          button.textContent = `count ${model.get("count")}`;
          echo.textContent = model.get("echo");
        };
        button.addEventListener("click", () => {
          model.set("count", model.get("count") + 1);
          model.save_changes();
        });
        model.on("change:count", update);
        model.on("change:echo", update);
        update();
        el.append(button, echo);
        return () => {
          model.off("change:count", update);
          model.off("change:echo", update);
        };
      }
    };
    """
    count = traitlets.Int(0).tag(sync=True)
    echo = traitlets.Unicode("python saw 0").tag(sync=True)

    @traitlets.observe("count")
    def _echo(self, change):
        self.echo = f"python saw {change['new']}"


w = SmokeWidget()
w
'''

WHERE_AM_I = (
    "import os, sys\n"
    "print('EXE=' + sys.executable)\n"
    "print('PREFIX=' + sys.prefix)\n"
    "print('HOME=' + os.environ.get('KLING_STUDIO_HOME', ''))\n"
    "print('KEY=' + os.environ.get('FOXAPI_API_KEY', '<unset>'))"
)


def _output_value(page: Page, key: str) -> str:
    text = page.locator(".jp-OutputArea-output", has_text=f"{key}=").first.inner_text()
    match = re.search(rf"^{key}=(.*)$", text, re.MULTILINE)
    assert match, f"no {key}= line in {text!r}"
    return match.group(1).strip()


@pytest.mark.browser
@pytest.mark.parametrize("ui", harness.UIS)
def test_smoke(
    ui: harness.UI,
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    tmp_path: Path,
) -> None:
    t0 = time.monotonic()
    src = harness.make_notebook(tmp_path / f"smoke-{ui}.ipynb", [WHERE_AM_I, SMOKE_WIDGET])
    name = harness.copy_notebook(src, jupyter_server)

    harness.open_notebook(page, jupyter_server, name, ui)
    t_open = time.monotonic()
    result = harness.run_all(page, ui)
    assert (result.expected, result.sent, result.replies) == (2, 2, 2)

    button = harness.wait_for_widget(page, "[data-testid=smoke-button]")
    echo = page.locator("[data-testid=smoke-echo]")
    expect(button).to_have_text("count 0")
    expect(echo).to_have_text("python saw 0")
    button.click()
    expect(button).to_have_text("count 1")
    expect(echo).to_have_text("python saw 1")  # set by the Python observer, synced back
    button.click()
    expect(echo).to_have_text("python saw 2")
    t_done = time.monotonic()

    shot = harness.screenshot(page, f"smoke-{ui}")
    assert shot.stat().st_size > 0

    # The kernel is the project's .venv Python, with the server's environment.
    venv = harness.REPO / ".venv"
    assert Path(_output_value(page, "PREFIX")).resolve() == venv.resolve()
    assert Path(_output_value(page, "EXE")).parent.resolve() == (venv / "bin").resolve()
    assert _output_value(page, "HOME") == str(jupyter_server.kling_home)
    assert _output_value(page, "KEY") == "<unset>"

    console_log.assert_no_errors()
    print(
        f"\n[{ui}] open+idle {t_open - t0:.1f}s, run all {result.seconds:.1f}s, "
        f"widget+clicks {t_done - t_open - result.seconds:.1f}s, total {t_done - t0:.1f}s"
    )


@pytest.mark.browser
def test_per_notebook_env_and_run_all_command(
    page: Page, jupyter_server: harness.JupyterServer, tmp_path: Path
) -> None:
    """`copy_notebook(env=...)` reaches the kernel; `run_all(via="command")` works; a failing
    cell fails run_all with its error."""
    src = harness.make_notebook(
        tmp_path / "env.ipynb", [WHERE_AM_I, "raise ValueError('boom from the kernel')"]
    )
    name = harness.copy_notebook(
        src, jupyter_server, env={"FOXAPI_API_KEY": "test-key", "KLING_STUDIO_HOME": "/nowhere"}
    )
    harness.open_in_lab(page, jupyter_server, name)
    with pytest.raises(AssertionError, match="ValueError: boom from the kernel"):
        harness.run_all(page, "lab", via="command")
    assert _output_value(page, "KEY") == "test-key"
    assert _output_value(page, "HOME") == "/nowhere"
    assert Path(_output_value(page, "PREFIX")).resolve() == (harness.REPO / ".venv").resolve()


@pytest.mark.browser
async def test_async_test_runs_beside_sync_playwright(browser: object) -> None:
    """An async test in this package still gets an event loop while Playwright is alive."""
    assert browser is not None
    await asyncio.sleep(0.01)


@pytest.mark.browser
def test_page_still_works_after_an_async_test(page: Page) -> None:
    page.set_content("<p data-testid='x'>ok</p>")
    expect(page.get_by_test_id("x")).to_have_text("ok")


@pytest.mark.parametrize("required", [False, True])
def test_missing_chromium_skips_or_fails(required: bool, tmp_path: Path) -> None:
    """Without Chromium, browser tests are skipped, or fail under KLING_STUDIO_REQUIRE_BROWSER=1,
    before any Jupyter server starts."""
    env = {k: v for k, v in os.environ.items() if k != harness.ENV_REQUIRE_BROWSER}
    env[harness.ENV_CHROMIUM] = str(tmp_path / "no-chromium")
    env[harness.ENV_ARTIFACTS] = str(tmp_path / "artifacts")
    if required:
        env[harness.ENV_REQUIRE_BROWSER] = "1"
    test_id = f"{Path(__file__).relative_to(harness.REPO)}::test_smoke"
    t0 = time.monotonic()
    # Without the project's addopts and nbval: nbval's imports alone take ~3 s here.
    quick = ["-o", "addopts=", "-p", "no:nbval", "-p", "no:cacheprovider"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", test_id, "-q", "-rsE", *quick],
        cwd=harness.REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert "apt-get install -y chromium" in out, out
    if required:
        assert proc.returncode != 0, out
        assert "2 errors" in out, out
    else:
        assert proc.returncode == 0, out
        assert "2 skipped" in out, out
    assert time.monotonic() - t0 < 30, "a missing browser should not start a Jupyter server"
    assert not (tmp_path / "artifacts").exists()


def test_server_env_keeps_secrets_and_user_settings_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FOXAPI_API_KEY", "real-secret")
    monkeypatch.setenv("FOXAPI_BASE_URL", "https://example.invalid")
    monkeypatch.setenv("JUPYTER_PATH", "/somewhere/else")
    monkeypatch.setenv("KLING_STUDIO_PASSED_THROUGH", "yes")
    env = harness.server_env(tmp_path, {"KLING_STUDIO_HOME": "/h"})
    assert not [k for k in env if k.startswith("FOXAPI_")]
    assert "JUPYTER_PATH" not in env
    assert env["JUPYTER_CONFIG_DIR"] == str(tmp_path / "config")
    assert env["IPYTHONDIR"] == str(tmp_path / "ipython")
    assert env["KLING_STUDIO_PASSED_THROUGH"] == "yes"
    assert env["KLING_STUDIO_HOME"] == "/h"
