"""Fixtures for real-browser tests in JupyterLab 4 and Notebook 7.

- `jupyter_server` (session): one `jupyter lab` for the whole run (it serves /lab, /tree and
  /notebooks), kernel = this Python (the project's .venv), no FOXAPI_API_KEY, KLING_STUDIO_HOME
  in a temporary folder. Override `jupyter_server_env` to add server-wide variables; pass `env=`
  to `harness.copy_notebook` for per-notebook ones. Its log ends up in
  $KLING_STUDIO_ARTIFACTS/jupyter-server.log (jupyter-server-gw0.log... under pytest-xdist,
  where each worker has its own server).
- `browser` (package): headless Chromium through Playwright's sync API.
- `page` (function): a fresh browser context; its console is collected in `console_log`; a
  failing test leaves a screenshot and the console in $KLING_STUDIO_ARTIFACTS/screenshots/.

Write browser tests as plain `def` functions: the sync Playwright API cannot run inside the event
loop of an `async def` test. While Playwright is alive it marks its own loop as the thread's
running loop, so an async test here runs with that mark hidden (see `_hide_playwright_loop`), and
Playwright is stopped at the end of this package so that async tests elsewhere never see it.

Without Chromium, tests marked `browser` (or using `browser`/`page`) are skipped, or fail when
KLING_STUDIO_REQUIRE_BROWSER=1 (CI sets it). KLING_STUDIO_CHROMIUM picks another binary.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from . import harness

_BROWSER_FIXTURES = {"browser", "page"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture: no Jupyter server is started for a test that cannot run.
    if item.get_closest_marker("browser") and harness.find_chromium() is None:
        _skip_or_fail()


def _skip_or_fail() -> None:
    reason = harness.chromium_missing_reason()
    if harness.browser_required():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)  # read by `page` to screenshot a failure
    return report


# The sync Playwright API leaves its loop registered as the thread's running loop between calls;
# pytest-asyncio then refuses to run a coroutine test ("Cannot run the event loop while another
# loop is running"). Hide it for the phases of async tests and restore it afterwards.
@contextlib.contextmanager
def _hide_playwright_loop(item: pytest.Item) -> Iterator[None]:
    running = asyncio._get_running_loop()
    if running is None or not inspect.iscoroutinefunction(getattr(item, "function", None)):
        yield
        return
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(running)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    with _hide_playwright_loop(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: pytest.FixtureRequest) -> Any:
    # The test item, also for a fixture of a wider scope (whose request.node is not the test).
    item = getattr(request, "_pyfuncitem", request.node)
    with _hide_playwright_loop(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Any:
    with _hide_playwright_loop(item):
        return (yield)


# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def jupyter_server_env() -> dict[str, str]:
    """Extra variables for the server and its kernels; override it in a conftest to add some.
    KLING_STUDIO_HOME defaults to `jupyter_server.kling_home` (a temporary folder)."""
    return {}


@pytest.fixture(scope="session")
def jupyter_server(jupyter_server_env: dict[str, str]) -> Iterator[harness.JupyterServer]:
    server = harness.start_jupyter_server(jupyter_server_env)
    try:
        yield server
    finally:
        server.stop()
        with contextlib.suppress(OSError):
            # One server per pytest-xdist worker, so one log each (gw0, gw1...).
            worker = os.environ.get("PYTEST_XDIST_WORKER", "")
            name = f"jupyter-server-{worker}.log" if worker else "jupyter-server.log"
            dest = harness.artifacts_dir() / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(server.log_path, dest)
        shutil.rmtree(server.base_dir, ignore_errors=True)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Package scope, not session: Playwright must be stopped before the async tests of other
    # folders run (see the module docstring).
    executable = harness.find_chromium()
    if executable is None:
        _skip_or_fail()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, args=list(harness.CHROMIUM_ARGS)
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    if inspect.iscoroutinefunction(request.function):
        pytest.fail(
            "`page` uses Playwright's sync API, which cannot run inside an async test's event "
            "loop: write the test as a plain `def`.",
            pytrace=False,
        )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    log = harness.ConsoleLog.attach(pg)
    try:
        yield pg
    finally:
        node = request.node
        failed = any(
            getattr(getattr(node, f"rep_{when}", None), "failed", False)
            for when in ("setup", "call")
        )
        if failed:
            with contextlib.suppress(Exception):
                shot = harness.screenshot(pg, f"FAILED-{node.nodeid}")
                shot.with_suffix(".console.txt").write_text(log.dump())
        context.close()
        if "jupyter_server" in request.fixturenames:
            # Each test starts with no kernel running (and none left consuming the 2 cores).
            with contextlib.suppress(Exception):
                request.getfixturevalue("jupyter_server").shutdown_kernels()


@pytest.fixture
def console_log(page: Page) -> harness.ConsoleLog:
    """Console messages and page errors of `page`: `console_log.assert_no_errors()`."""
    log = harness.ConsoleLog.of(page)
    assert log is not None
    return log
