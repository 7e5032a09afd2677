"""The Jupyter server extension kling-studio installs: one authenticated route that serves a
video or poster of a kling-studio history with HTTP Range, so the studio's player streams it
instead of pulling it through the kernel's websocket (docs/widget-protocol.md, "Video").

Enabled by ``etc/jupyter/jupyter_server_config.d/kling_studio.json`` in the wheel; turn it off
with ``jupyter server extension disable kling_studio.serverext``.
"""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "kling_studio.serverext"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from jupyter_server.utils import url_path_join

    from ._handler import TOKEN_PATTERN, MediaHandler
    from ._links import ROUTE_PREFIX, ensure_key

    web_app = server_app.web_app
    key = ensure_key(server_app.runtime_dir)
    route = url_path_join(web_app.settings["base_url"], ROUTE_PREFIX, TOKEN_PATTERN)
    web_app.add_handlers(".*$", [(route, MediaHandler, {"key": key})])
    server_app.log.info("kling-studio: videos and posters served at %s", route)
