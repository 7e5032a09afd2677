"""A real JupyterHub for the tests, on 127.0.0.1 and free ports, in a temporary folder.

The hub runs with the DummyAuthenticator and a fixed set of users, its proxy is npm's
configurable-http-proxy (a devDependency: `npm ci` brings it into node_modules/.bin), and an admin
service whose token the tests use to create users' API tokens through the hub's REST API, as a
single-user server's JUPYTERHUB_API_TOKEN is made. Both are project dependencies, so a missing one
is a failure, never a skip.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PROXY = REPO / "node_modules" / ".bin" / "configurable-http-proxy"
ADMIN_SERVICE = "kls-test-admin"
# The scopes of a single-user server's own token (JupyterHub's `server` role): what a student's
# kernel holds in JUPYTERHUB_API_TOKEN.
SERVER_TOKEN_SCOPES = ("users:activity!user", "access:servers!user")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Hub:
    """A running hub: its public URL (the proxy), its API, and the admin service's token."""

    url: str
    api_url: str
    admin_token: str
    folder: Path
    process: subprocess.Popen[bytes]

    def api(self, method: str, path: str, body: object = None, *, token: str | None = None) -> Any:
        """One call to the hub's REST API (as the admin service unless `token` is given)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.api_url}/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={"Authorization": f"token {token or self.admin_token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def new_token(self, user: str, scopes: Sequence[str] = SERVER_TOKEN_SCOPES) -> str:
        """A new API token of `user` with a single-user server's scopes."""
        answer = self.api(
            "POST", f"users/{user}/tokens", {"scopes": list(scopes), "note": "kls test"}
        )
        return str(answer["token"])

    def revoke_tokens(self, user: str) -> None:
        """Deletes every API token of `user` (as a hub admin revoking a student's access)."""
        for token in self.api("GET", f"users/{user}/tokens")["api_tokens"]:
            self.api("DELETE", f"users/{user}/tokens/{token['id']}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log(self) -> str:
        path = self.folder / "hub.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _config(
    *,
    port: int,
    hub_port: int,
    proxy_api_port: int,
    users: Sequence[str],
    admin_token: str,
    services: Sequence[Mapping[str, Any]],
) -> str:
    admin = {"name": ADMIN_SERVICE, "api_token": admin_token}
    return f"""
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{str(PROXY)!r}]
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {set(users)!r}
c.JupyterHub.db_url = "sqlite:///hub.sqlite"
c.JupyterHub.cookie_secret_file = "cookie_secret"
c.JupyterHub.pid_file = "hub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
c.JupyterHub.services = {[admin, *services]!r}
c.JupyterHub.load_roles = [
    {{"name": "kls-test-admin", "scopes": ["admin:users", "tokens", "list:users"],
     "services": [{ADMIN_SERVICE!r}]}},
]
"""


@contextmanager
def running_hub(
    users: Sequence[str] = ("ada", "bob"),
    *,
    services: Sequence[Mapping[str, Any]] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
) -> Iterator[Hub]:
    """A hub with `users` and `services` (extra c.JupyterHub.services entries, e.g. a managed
    gateway with a `command`), stopped and removed at the end."""
    if not PROXY.exists():
        raise RuntimeError(f"{PROXY} is missing: run `npm ci` (configurable-http-proxy)")
    folder = Path(tempfile.mkdtemp(prefix="kls-hub-"))
    port, hub_port, proxy_api_port = free_port(), free_port(), free_port()
    admin_token = secrets.token_hex(24)
    (folder / "jupyterhub_config.py").write_text(
        _config(
            port=port,
            hub_port=hub_port,
            proxy_api_port=proxy_api_port,
            users=users,
            admin_token=admin_token,
            services=services,
        )
    )
    child_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTERHUB_", "JUPYTER_", "JPY_", "FOXAPI_"))
    }
    child_env["PATH"] = f"{PROXY.parent}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
    child_env["PATH"] += os.environ.get("PATH", "")
    child_env.update(env or {})
    log = (folder / "hub.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyterhub"), "-f", "jupyterhub_config.py"],
        cwd=folder,
        env=child_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    hub = Hub(
        url=f"http://127.0.0.1:{port}",
        api_url=f"http://127.0.0.1:{hub_port}/hub/api",
        admin_token=admin_token,
        folder=folder,
        process=process,
    )
    try:
        _wait_ready(hub, timeout)
        yield hub
    finally:
        hub.stop()
        log.close()
        # The proxy is the hub's child; ending the hub's session group ends a proxy left behind.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(hub: Hub, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if hub.process.poll() is not None:
            raise RuntimeError(f"JupyterHub exited with {hub.process.returncode}:\n{hub.log()}")
        try:
            hub.api("GET", "users")
            # The proxy routes /hub/ once the hub has registered itself with it.
            urllib.request.urlopen(f"{hub.url}/hub/api/", timeout=5).close()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                late = f"JupyterHub not ready in {timeout:.0f} s:\n{hub.log()}"
                raise RuntimeError(late) from None
            time.sleep(0.2)
