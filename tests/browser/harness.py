"""Helpers for real-browser tests: one Jupyter server, Chromium through Playwright, and the few
steps every widget test needs (copy a notebook in, open it in JupyterLab or Notebook 7, run all
cells, wait for a widget, take a screenshot).

The fixtures that use these live in ``conftest.py`` next to this file. See
``test_harness_smoke.py`` for a test that uses all of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from playwright.sync_api import ConsoleMessage, Error, Locator, Page, expect

REPO = Path(__file__).resolve().parents[2]

UI = Literal["lab", "notebook7"]
UIS: tuple[UI, ...] = ("lab", "notebook7")

#: The display name of ipykernel's ``python3`` kernelspec; per-notebook kernelspecs written by
#: ``copy_notebook(..., env=...)`` reuse it so that the idle patterns below hold for them too.
KERNEL_DISPLAY_NAME = "Python 3 (ipykernel)"
#: JupyterLab's status bar reads "Python 3 (ipykernel) | Idle" once a kernel is connected and idle.
LAB_KERNEL_IDLE = re.compile(r"^\s*" + re.escape(KERNEL_DISPLAY_NAME) + r" \| Idle\s*$")

#: Flags from /work/shared/testing/BROWSER.md: without the background-networking ones Chromium
#: keeps trying hosts that this network refuses.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
INSTALL_HINT = "install it with `apt-get update && apt-get install -y chromium` (as root)"

# Environment variables that shape the harness.
ENV_CHROMIUM = "KLING_STUDIO_CHROMIUM"  # path of the Chromium binary to use
ENV_REQUIRE_BROWSER = "KLING_STUDIO_REQUIRE_BROWSER"  # "1": missing Chromium fails, not skips
ENV_ARTIFACTS = "KLING_STUDIO_ARTIFACTS"  # screenshots go to $KLING_STUDIO_ARTIFACTS/screenshots

# Never handed to the Jupyter server (and so to its kernels): a real key or endpoint must not leak
# into tests. A test that wants one passes it per notebook:
# copy_notebook(..., env={"FOXAPI_API_KEY": ...}).
_SERVER_ENV_DROPPED_PREFIXES = ("FOXAPI_", "JUPYTER_", "JPY_")


# --------------------------------------------------------------------------------------------
# Chromium and artifacts
# --------------------------------------------------------------------------------------------


def find_chromium() -> str | None:
    """The Chromium to launch: $KLING_STUDIO_CHROMIUM if set (even if it does not exist),
    else /usr/bin/chromium, else `chromium` on PATH; None when there is none."""
    explicit = os.environ.get(ENV_CHROMIUM)
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def chromium_missing_reason() -> str:
    where = os.environ.get(ENV_CHROMIUM) or "/usr/bin/chromium (or `chromium` on PATH)"
    return (
        f"Chromium not found at {where}: {INSTALL_HINT}; `playwright install` cannot download "
        f"browsers here. Set {ENV_REQUIRE_BROWSER}=1 to make this a failure instead of a skip."
    )


def browser_required() -> bool:
    return os.environ.get(ENV_REQUIRE_BROWSER, "").strip() not in ("", "0")


def artifacts_dir() -> Path:
    return Path(os.environ.get(ENV_ARTIFACTS) or REPO / "artifacts")


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:150] or "page"


def screenshot(page: Page, name: str) -> Path:
    """Saves a PNG of the page as $KLING_STUDIO_ARTIFACTS/screenshots/NAME.png (CI keeps it)."""
    path = artifacts_dir() / "screenshots" / f"{_safe_name(name)}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path


# --------------------------------------------------------------------------------------------
# Console messages
# --------------------------------------------------------------------------------------------


#: Errors the front ends raise on their own, ignored by ConsoleLog.errors() unless asked not to.
KNOWN_FRONTEND_ERRORS: tuple[re.Pattern[str], ...] = (
    # Notebook 7.6.5, intermittently on page load, with every third-party extension disabled; gone
    # when "@jupyterlab/shortcuts-extension:shortcuts" is disabled: its pluginChanged listener
    # reads `plugins[id].schema` of a plugin the setting registry does not hold.
    re.compile(r"^TypeError: Cannot read properties of undefined \(reading 'schema'\)$"),
    # Notebook 7.6.5, once, on the same load (the notebook page has no file browser).
    re.compile(r"^Error: Command 'filebrowser:open-path' not registered\.$"),
)


@dataclass
class ConsoleLog:
    """What one page printed to its console, and its uncaught exceptions ("page errors")."""

    messages: list[tuple[str, str]] = field(default_factory=list)  # (type, text)
    page_errors: list[str] = field(default_factory=list)
    page_error_stacks: list[str] = field(default_factory=list)

    @classmethod
    def attach(cls, page: Page) -> ConsoleLog:
        """Starts collecting `page`'s console; `ConsoleLog.of(page)` finds the log again."""
        log = cls()
        page.on("console", log.on_console)
        page.on("pageerror", log.on_page_error)
        _CONSOLE_LOGS[page] = log
        return log

    @staticmethod
    def of(page: Page) -> ConsoleLog | None:
        return _CONSOLE_LOGS.get(page)

    def on_console(self, msg: ConsoleMessage) -> None:
        self.messages.append((msg.type, msg.text))

    def on_page_error(self, error: Error) -> None:
        self.page_errors.append(f"{error.name}: {error.message}")
        self.page_error_stacks.append(error.stack or "")

    def errors(
        self, ignore: Sequence[str | re.Pattern[str]] = (), *, include_known: bool = False
    ) -> list[str]:
        """Page errors and console messages of type "error", minus those matching `ignore` and
        (unless `include_known`) KNOWN_FRONTEND_ERRORS."""
        found = [*self.page_errors, *(text for kind, text in self.messages if kind == "error")]
        patterns = [*ignore, *(() if include_known else KNOWN_FRONTEND_ERRORS)]
        return [e for e in found if not any(re.search(p, e) for p in patterns)]

    def assert_no_errors(
        self, ignore: Sequence[str | re.Pattern[str]] = (), *, include_known: bool = False
    ) -> None:
        errors = self.errors(ignore, include_known=include_known)
        assert not errors, "errors in the browser console:\n" + "\n".join(errors)

    def dump(self) -> str:
        lines = [f"[{kind}] {text}" for kind, text in self.messages]
        lines += [f"[pageerror] {text}" for text in self.page_error_stacks]
        return "\n".join(lines)


_CONSOLE_LOGS: weakref.WeakKeyDictionary[Page, ConsoleLog] = weakref.WeakKeyDictionary()


# --------------------------------------------------------------------------------------------
# The Jupyter server
# --------------------------------------------------------------------------------------------


@dataclass
class JupyterServer:
    """One `jupyter lab` process serving both JupyterLab (/lab) and Notebook 7 (/tree,
    /notebooks) from `root_dir`, with its config, data, runtime and IPython folders under
    `base_dir`."""

    url: str
    port: int
    base_dir: Path
    root_dir: Path
    data_dir: Path
    kling_home: Path
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes]
    token: str = ""  # empty: no authentication (the default)

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        """Calls the server's REST API (auth and XSRF checks are off) and returns parsed JSON."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"token {self.token}")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def shutdown_kernels(self) -> None:
        """Ends every session and kernel, so that each test starts from none."""
        for session in self.api("GET", "/api/sessions"):
            with contextlib.suppress(urllib.error.HTTPError):
                self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            with contextlib.suppress(urllib.error.HTTPError):
                self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Shuts kernels down, then SIGTERM (SIGKILL after 10 s); kills leftover kernels by pid."""
        children: list[Any] = []
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.shutdown_kernels()
            with contextlib.suppress(Exception):
                import psutil

                children = psutil.Process(self.proc.pid).children(recursive=True)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for child in children:  # kernels run in sessions of their own: not killed with the server
            with contextlib.suppress(Exception):
                if child.is_running():
                    child.kill()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server_env(base_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server's environment: ours minus any FOXAPI_* (the key!), JUPYTER_* or JPY_* variable,
    plus private Jupyter/IPython folders under `base_dir` and `extra` (e.g. KLING_STUDIO_HOME)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SERVER_ENV_DROPPED_PREFIXES)}
    env.update(
        JUPYTER_CONFIG_DIR=str(base_dir / "config"),
        JUPYTER_DATA_DIR=str(base_dir / "data"),
        JUPYTER_RUNTIME_DIR=str(base_dir / "runtime"),
        IPYTHONDIR=str(base_dir / "ipython"),
    )
    env.update(extra or {})
    return env


def _write_user_settings(config_dir: Path) -> None:
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    # Keeps the "news" pop-up from covering the page (Lab and Notebook 7 read the same file).
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


def start_jupyter_server(
    extra_env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 60,
    *,
    token: str = "",
    base_url: str = "/",
) -> JupyterServer:
    """Starts `jupyter lab` from this Python's environment on a free loopback port, in fresh
    temporary folders, and waits until /api/status answers. Call `.stop()` and remove
    `.base_dir` when done (the `jupyter_server` fixture does both).

    `token` turns authentication on; `base_url` serves under a prefix such as a JupyterHub
    single-user server's `/user/NAME/` (`.url` then ends with it)."""
    base_dir = Path(tempfile.mkdtemp(prefix="kling-jupyter-"))
    root_dir = base_dir / "notebooks"
    kling_home = base_dir / "kling-home"
    for d in (root_dir, kling_home, base_dir / "config", base_dir / "data", base_dir / "runtime"):
        d.mkdir(parents=True, exist_ok=True)
    _write_user_settings(base_dir / "config")
    env = server_env(base_dir, {"KLING_STUDIO_HOME": str(kling_home), **(extra_env or {})})
    log_path = base_dir / "jupyter-server.log"
    last_error = ""
    for _attempt in range(3):  # a free port can be taken between _free_port() and the bind
        port = _free_port()
        cmd = [
            # `python` in ipykernel's kernelspec resolves to the server's own interpreter:
            # launching with sys.executable makes the kernel this (the project's .venv) Python.
            sys.executable,
            "-m",
            "jupyterlab",
            "--allow-root",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.base_url={base_url}",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            f"--ServerApp.root_dir={root_dir}",
            "--ServerApp.terminals_enabled=False",
            # window.jupyterapp: lets the harness read the kernel state and hook its messages.
            "--LabApp.expose_app_in_browser=True",
            "--JupyterNotebookApp.expose_app_in_browser=True",
            # If pytest dies without cleaning up, the orphans end themselves.
            "--ServerApp.shutdown_no_activity_timeout=900",
            "--MappingKernelManager.cull_idle_timeout=900",
            "--MappingKernelManager.cull_interval=60",
            *extra_args,
        ]
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=root_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = JupyterServer(
            url=f"http://127.0.0.1:{port}{base_url.rstrip('/')}",
            port=port,
            base_dir=base_dir,
            root_dir=root_dir,
            data_dir=base_dir / "data",
            kling_home=kling_home,
            env=env,
            log_path=log_path,
            proc=proc,
            token=token,
        )
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                server.api("GET", "/api/status", timeout=2)
            except (urllib.error.URLError, OSError, ValueError):
                time.sleep(0.1)
                continue
            if proc.poll() is None:
                return server
        server.stop()
        last_error = server.log_tail()
        if "address already in use" not in last_error.lower():
            break
    shutil.rmtree(base_dir, ignore_errors=True)
    raise RuntimeError(f"Jupyter server did not start; its log ends with:\n{last_error}")


# --------------------------------------------------------------------------------------------
# Notebooks
# --------------------------------------------------------------------------------------------


def make_notebook(path: Path, cells: Sequence[str]) -> Path:
    """Writes a notebook of code cells (with the python3 kernelspec) to `path`."""
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": uuid.uuid4().hex[:8],
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for source in cells
        ],
        "metadata": {
            "kernelspec": {
                "display_name": KERNEL_DISPLAY_NAME,
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1))
    return path


def copy_notebook(src: Path, server: JupyterServer, *, env: Mapping[str, str] | None = None) -> str:
    """Copies `src` into the server's notebook folder under a unique name; returns that name
    (relative to the notebook folder, as the URL helpers want it).

    With `env`, the copy gets a kernelspec of its own that runs the same Python with these
    variables added to the server's environment (e.g. {"FOXAPI_API_KEY": "test-key"} or
    {"KLING_STUDIO_HOME": str(tmp_path)}): one server, per-test kernel environments.
    Without it, the notebook runs on ipykernel's `python3` kernelspec.
    """
    nb = json.loads(Path(src).read_text())
    kernel_name = "python3"
    if env:
        kernel_name = f"kstest-{uuid.uuid4().hex[:10]}"
        spec_dir = server.data_dir / "kernels" / kernel_name
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": KERNEL_DISPLAY_NAME,
            "language": "python",
            "env": dict(env),
            "metadata": {"debugger": True},
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    nb.setdefault("metadata", {})["kernelspec"] = {
        "display_name": KERNEL_DISPLAY_NAME,
        "language": "python",
        "name": kernel_name,
    }
    name = f"{_safe_name(Path(src).stem)}-{uuid.uuid4().hex[:8]}.ipynb"
    (server.root_dir / name).write_text(json.dumps(nb, indent=1))
    return name


# --------------------------------------------------------------------------------------------
# Opening a notebook, running it, waiting for widgets
# --------------------------------------------------------------------------------------------

# True once the current document is `path` and its kernel is connected and idle. Needs
# window.jupyterapp (the server fixture turns expose_app_in_browser on).
_KERNEL_READY_JS = """(path) => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  const sc = w && w.sessionContext;
  const k = sc && sc.session && sc.session.kernel;
  return !!(k && sc.isReady && w.context && w.context.path === path
            && k.status === 'idle' && k.connectionStatus === 'connected');
}"""


def _wait_kernel_ready(page: Page, name: str, timeout: float) -> None:
    try:
        page.wait_for_function(_KERNEL_READY_JS, arg=name, timeout=timeout)
    except Error as exc:
        state = page.evaluate(
            """() => { const a = window.jupyterapp; const w = a && a.shell.currentWidget;
              const sc = w && w.sessionContext;
              return JSON.stringify({app: !!a, path: w && w.context && w.context.path,
                status: sc && sc.kernelDisplayStatus, name: sc && sc.kernelDisplayName}); }"""
        )
        raise AssertionError(f"kernel of {name} not idle within {timeout} ms: {state}") from exc


def open_in_lab(page: Page, server: JupyterServer, name: str, timeout: float = 90_000) -> None:
    """Opens NAME in JupyterLab with a fresh workspace, returns once its kernel is idle."""
    page.goto(f"{server.url}/lab/tree/{quote(name)}?reset")
    # The toolbar's execution indicator reads idle before any kernel exists, the status bar
    # only once one is connected.
    status = page.locator(".jp-StatusBar-TextItem", has_text=LAB_KERNEL_IDLE)
    expect(status).to_be_visible(timeout=timeout)
    _wait_kernel_ready(page, name, timeout)


def open_in_notebook7(
    page: Page, server: JupyterServer, name: str, timeout: float = 90_000
) -> None:
    """Opens NAME in Notebook 7, returns once its kernel is idle."""
    page.goto(f"{server.url}/notebooks/{quote(name)}")
    # Notebook 7 has no kernel status in a status bar: its toolbar's execution indicator only
    # appears once a kernel is connecting, and the kernel name reads "No Kernel" before.
    indicator = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    expect(indicator).to_be_visible(timeout=timeout)
    expect(page.locator(".jp-KernelName").first).to_have_text(KERNEL_DISPLAY_NAME)
    _wait_kernel_ready(page, name, timeout)


def open_notebook(
    page: Page, server: JupyterServer, name: str, ui: UI, timeout: float = 90_000
) -> None:
    """open_in_lab or open_in_notebook7, by `ui`."""
    if ui == "lab":
        open_in_lab(page, server, name, timeout)
    elif ui == "notebook7":
        open_in_notebook7(page, server, name, timeout)
    else:
        raise ValueError(f"unknown UI {ui!r}; expected one of {UIS}")


# Counts the execute requests the page sends and the replies it gets, from before Run All is
# triggered: an exact "all cells have run" that neither races a fast cell nor trusts saved
# execution counts.
_HOOK_RUN_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const kernel = w.sessionContext.session.kernel;
  const expected = w.content.widgets.filter(
    (c) => c.model.type === 'code' && c.model.sharedModel.getSource().trim() !== '').length;
  const st = {expected, sent: 0, replies: 0, errors: []};
  const onMessage = (_, {msg, direction}) => {
    const t = msg.header.msg_type;
    if (direction === 'send' && t === 'execute_request') st.sent += 1;
    if (direction === 'recv' && t === 'execute_reply') {
      st.replies += 1;
      const c = msg.content;
      if (c.status !== 'ok') {
        st.errors.push([c.status, c.ename || '', c.evalue || '',
                        (c.traceback || []).join('\\n')].join('\\n'));
      }
    }
  };
  kernel.anyMessage.connect(onMessage);
  st.stop = () => kernel.anyMessage.disconnect(onMessage);
  window.__klingRunAll = st;
  return expected;
}"""

_RUN_DONE_JS = """() => {
  const st = window.__klingRunAll;
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const allDone = st.sent >= st.expected && st.replies >= st.sent;
  const stopped = st.errors.length > 0 && st.replies >= st.sent && k.status === 'idle';
  return allDone || stopped;
}"""

_RUN_RESULT_JS = """() => {
  const st = window.__klingRunAll;
  st.stop();
  delete window.__klingRunAll;
  return {expected: st.expected, sent: st.sent, replies: st.replies, errors: st.errors};
}"""

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class RunAllResult:
    expected: int  # non-empty code cells
    sent: int  # execute requests sent
    replies: int
    errors: list[str]  # one per reply whose status is not "ok", ANSI colours stripped
    seconds: float


def run_all(
    page: Page,
    ui: UI,
    *,
    via: Literal["menu", "command"] = "menu",
    timeout: float = 120_000,
    check: bool = True,
) -> RunAllResult:
    """Runs all cells of the open notebook and waits until every one has replied.

    `via="menu"` clicks Run → Run All Cells in the menu bar (the same in Lab and Notebook 7);
    `via="command"` executes the command `runmenu:run-all` through window.jupyterapp. With
    `check`, a cell that raised fails the test with its traceback.
    """
    if ui not in UIS:
        raise ValueError(f"unknown UI {ui!r}; expected one of {UIS}")
    start = time.monotonic()
    page.evaluate(_HOOK_RUN_JS)
    if via == "menu":
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^\s*Run\s*$")).click()
        page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    elif via == "command":
        page.evaluate("() => { window.jupyterapp.commands.execute('runmenu:run-all'); }")
    else:
        raise ValueError(f"unknown via {via!r}")
    try:
        page.wait_for_function(_RUN_DONE_JS, timeout=timeout)
    finally:
        raw = page.evaluate(_RUN_RESULT_JS)
    result = RunAllResult(
        expected=raw["expected"],
        sent=raw["sent"],
        replies=raw["replies"],
        errors=[_ANSI.sub("", e) for e in raw["errors"]],
        seconds=time.monotonic() - start,
    )
    if check and result.errors:
        raise AssertionError("a cell failed during Run All:\n" + "\n\n".join(result.errors))
    return result


# Stderr outputs, and outputs that read like an error (e.g. ipywidgets' "Error displaying
# widget" or a model class that failed to load).
_WIDGET_TROUBLE_JS = """() => [...document.querySelectorAll('.jp-OutputArea-output')]
  .filter((e) => e.matches("[data-mime-type='application/vnd.jupyter.stderr']")
                 || /error|failed/i.test(e.textContent))
  .map((e) => e.textContent.trim().slice(0, 2000)).filter((t) => t).slice(0, 10)"""


def wait_for_widget(page: Page, selector: str, timeout: float = 30_000) -> Locator:
    """Waits until `selector` (e.g. "[data-testid=studio]") is visible; returns its locator.
    On a timeout the error lists the page's errors (e.g. one thrown by a widget's `render`),
    stderr outputs and error-like outputs."""
    locator = page.locator(selector).first
    try:
        locator.wait_for(state="visible", timeout=timeout)
    except Error as exc:
        log = ConsoleLog.of(page)
        trouble = [*(log.errors() if log else []), *page.evaluate(_WIDGET_TROUBLE_JS)]
        detail = "\n".join(trouble) or "(no error in the console, stderr or outputs)"
        raise AssertionError(f"{selector!r} not visible after {timeout} ms:\n{detail}") from exc
    return locator


# Runs code in the current notebook's kernel (as a cell would, without a cell); returns stdout.
KERNEL_EXEC_JS = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, store_history: false});
  const out = [];
  future.onIOPub = (msg) => {
    const c = msg.content;
    if (msg.header.msg_type === 'stream') out.push(c.text);
    if (msg.header.msg_type === 'error') out.push(c.ename + ': ' + c.evalue);
  };
  const reply = await future.done;
  return {status: reply.content.status, out: out.join('')};
}"""


def kernel_exec(page: Page, code: str) -> str:
    result = page.evaluate(KERNEL_EXEC_JS, code)
    assert result["status"] == "ok", result
    return str(result["out"])
