"""Where the player gets a video from, best first: a signed store URL (the history's
`video_signer`), the Jupyter server's media route for a file on this machine (when the server
that started this kernel has kling-studio's extension: its key is in the runtime folder), else
nothing here and the bytes go through the websocket (docs/widget-protocol.md, "Video")."""

from __future__ import annotations

import os
from pathlib import Path

from ..serverext._links import find_key, kernel_runtime_dir, sign

#: Set to "0" to never offer the media route (e.g. behind a proxy that blocks it).
ENV_MEDIA_ROUTE = "KLING_STUDIO_MEDIA_ROUTE"


def _key() -> bytes | None:
    if os.environ.get(ENV_MEDIA_ROUTE, "").strip() == "0":
        return None
    runtime = kernel_runtime_dir()
    return find_key(runtime) if runtime is not None else None


def media_routes_available() -> bool:
    """Whether this kernel's Jupyter server has the media route (and it is not turned off)."""
    return _key() is not None


def media_route(path: Path) -> str | None:
    """The route (relative to the Jupyter page's base URL) that serves `path`, or None when
    this kernel's server has no media route (not Jupyter, or the extension is off)."""
    key = _key()
    return sign(key, path) if key is not None else None
