"""Where settings come from: arguments first, then environment variables, then defaults.

An empty environment variable counts as unset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ._secrets import API_KEY_ENV as API_KEY_ENV
from ._secrets import remember
from .contract import DEFAULT_BASE_URL
from .errors import ConfigurationError

BASE_URL_ENV = "FOXAPI_BASE_URL"
HOME_ENV = "KLING_STUDIO_HOME"
HISTORY_FILE = "history.sqlite3"
# Simulated tasks keep their own history (and videos) beside the real one, never mixed with it.
SIMULATOR_DIR = "simulator"
USER_ENV = "KLING_STUDIO_USER"
HUB_USER_ENV = "JUPYTERHUB_USER"
# A class gateway (`kling-studio gateway serve`): set by the teacher for every student's server
# (c.Spawner.environment); with no FOXAPI_API_KEY the hub's own token is the key.
GATEWAY_URL_ENV = "KLING_STUDIO_GATEWAY_URL"
HUB_TOKEN_ENV = "JUPYTERHUB_API_TOKEN"


def env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def resolve_api_key(api_key: str | None = None) -> str | None:
    """The key in use; remembered so that no message the package shows can hold it."""
    if api_key is not None and (not isinstance(api_key, str) or not api_key.strip()):
        raise ConfigurationError("api_key is empty or not text; pass a key or leave it out")
    key = api_key.strip() if api_key else env(API_KEY_ENV)
    remember(key)
    return key


def resolve_base_url(base_url: str | None = None) -> str:
    url = (base_url or env(BASE_URL_ENV) or DEFAULT_BASE_URL).strip().rstrip("/")
    if not url.lower().startswith(("http://", "https://")):
        raise ConfigurationError(f"base_url must start with http:// or https://; got {url!r}")
    return url


@dataclass(frozen=True)
class Service:
    """Where requests go and with which key; `gateway` when it is the class gateway named by
    KLING_STUDIO_GATEWAY_URL, `user` the hub's name for the person when the key is the hub's."""

    api_key: str | None = field(repr=False)
    base_url: str
    gateway: bool = False
    user: str | None = None


def resolve_service(api_key: str | None = None, base_url: str | None = None) -> Service:
    """The key and base URL together, since a class gateway decides both.

    A key (`api_key=` or FOXAPI_API_KEY) goes where `base_url=` or FOXAPI_BASE_URL says, as
    always. Without one, KLING_STUDIO_GATEWAY_URL names the class gateway and the JupyterHub
    server's own token (JUPYTERHUB_API_TOKEN) is the key: the gateway asks the hub who it is, so
    a student's notebook needs no code and holds no secret worth stealing."""
    key = resolve_api_key(api_key)
    gateway_url = env(GATEWAY_URL_ENV)
    if key is None and gateway_url is not None:
        hub_token = env(HUB_TOKEN_ENV)
        if hub_token is None:
            raise ConfigurationError(
                f"{GATEWAY_URL_ENV} names a class gateway but there is no key for it: set "
                f"{API_KEY_ENV} to your gateway token, or open the notebook on the class's "
                f"JupyterHub (which sets {HUB_TOKEN_ENV})"
            )
        remember(hub_token)
        url = resolve_base_url(base_url or gateway_url)
        return Service(hub_token, url, gateway=True, user=env(HUB_USER_ENV))
    url = resolve_base_url(base_url)
    on_gateway = gateway_url is not None and url == resolve_base_url(gateway_url)
    return Service(key, url, gateway=on_gateway)


def key_variable() -> str:
    """The environment variable that holds the key in use without an argument: the hub's token
    on a class gateway named by the environment, else FOXAPI_API_KEY. Teaching snippets name it
    (never its value)."""
    if env(API_KEY_ENV) is None and env(GATEWAY_URL_ENV) is not None:
        return HUB_TOKEN_ENV
    return API_KEY_ENV


def default_home() -> Path:
    """The data folder: KLING_STUDIO_HOME if set, else the platform's user data folder."""
    configured = env(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_path

    return user_data_path("kling-studio", appauthor=False)


def mask_key(key: str | None) -> str:
    """What may be shown of a key anywhere: only that one is set."""
    return "<set>" if key else "<not set>"


def history_path(home: Path | None = None, *, simulator: bool = False) -> Path:
    """The history file: in `home` (default_home() when None), or in its simulator folder."""
    folder = home if home is not None else default_home()
    return (folder / SIMULATOR_DIR if simulator else folder) / HISTORY_FILE


def resolve_user(user: str | None = None) -> str:
    """Who is working: `user=`, else KLING_STUDIO_USER, else JUPYTERHUB_USER (set in every
    JupyterHub kernel), else the login name. Recorded as the author of every task."""
    if user is not None:
        if not isinstance(user, str) or not user.strip():
            raise ConfigurationError("user is empty; pass a name or leave it out")
        return user.strip()
    found = env(USER_ENV) or env(HUB_USER_ENV)
    if found:
        return found
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"
