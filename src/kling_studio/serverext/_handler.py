"""The Jupyter server's media route: ``GET/HEAD {base_url}kling-studio/media/<signed link>``.

Tornado's StaticFileHandler does the HTTP (Range with 206 and Content-Range, Accept-Ranges,
HEAD, If-Modified-Since); the Jupyter server authenticates and authorizes the request like its
own ``/files/``; this class only turns a signed link into the one file it names, and refuses any
other (``_links.verify``): no path from the URL ever reaches the file system.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from ._links import Link, LinkRefused, verify

#: The part of the route after the prefix: one path segment (the link), nothing else.
TOKEN_PATTERN = r"([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[a-z0-9]+)"


class MediaHandler(JupyterHandler, web.StaticFileHandler):
    """Serves the kling-studio video or poster a signed link names, with HTTP Range."""

    auth_resource = "contents"  # who may read files through /files/ may watch these

    def initialize(self, key: bytes) -> None:  # type: ignore[override]
        # The root is never used: every path comes from a verified link, not from the URL.
        web.StaticFileHandler.initialize(self, path=os.sep)
        self._key = key
        self._link: Link | None = None

    @property
    def content_security_policy(self) -> str:
        # Only videos and JPEGs are served, but confine anything else a browser might run.
        return str(super().content_security_policy) + "; sandbox"

    @web.authenticated
    @authorized
    def head(self, path: str) -> Awaitable[None]:  # type: ignore[override]
        self.check_xsrf_cookie()
        return web.StaticFileHandler.head(self, path)

    @web.authenticated
    @authorized
    def get(self, path: str, include_body: bool = True) -> Awaitable[None]:  # type: ignore[override]
        self.check_xsrf_cookie()
        return web.StaticFileHandler.get(self, path, include_body)

    def parse_url_path(self, url_path: str) -> str:
        try:
            self._link = verify(self._key, url_path)
        except (LinkRefused, ValueError, KeyError, TypeError) as exc:
            self.log.info("kling-studio media: refused a link (%s)", exc)
            raise web.HTTPError(403) from None
        return str(self._link.path)

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        return path  # already absolute: the verified link's

    def validate_absolute_path(self, root: str, absolute_path: str) -> str:
        # The signed path must still be a regular file (not replaced by a folder or a device).
        try:
            if not os.path.isfile(absolute_path):
                raise web.HTTPError(404)
        except OSError:
            raise web.HTTPError(404) from None
        return absolute_path

    def get_content_type(self) -> str:
        assert self._link is not None
        return self._link.mime

    def compute_etag(self) -> str | None:
        # From the file's size and time, not its content: tornado would hash the whole video.
        try:
            info = os.stat(str(self.absolute_path))
        except OSError:
            return None
        return f'"{info.st_size:x}-{info.st_mtime_ns:x}"'

    def set_extra_headers(self, path: str) -> None:
        # Links are per-file and signed for hours: the browser may keep what it read.
        self.set_header("Cache-Control", "private, max-age=3600")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish(f"{status_code}")  # no page, no detail about the link or the path
