"""Links to a kling-studio video or poster that the Jupyter server's media route accepts.

The kernel and the server share one secret: a random key in a file of the Jupyter runtime
folder (mode 0600, made by whichever starts first). The kernel signs the absolute path of a file
its history owns, with the file's type and an expiry; the server serves a path only under a valid,
unexpired signature. A browser can neither name another file nor stretch a link's life, and a path
in a link cannot be edited (``..`` or any other change breaks the signature). Standard library
only: the kernel imports this with every video it shows, the server once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

KEY_FILE: Final = "kling-studio-media.key"
ROUTE_PREFIX: Final = "kling-studio/media/"
#: How long a link works. The player asks for a new one each time it loads a video, and falls
#: back to the bytes if a link dies while a page stays open.
LINK_SECONDS: Final = 6 * 3600
#: The only files the route serves, by suffix, with the Content-Type it sends.
MEDIA_TYPES: Final = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

_KEY_BYTES: Final = 32


class LinkRefused(Exception):
    """A link that is malformed, forged or expired (the route answers 403)."""


@dataclass(frozen=True)
class Link:
    path: Path
    mime: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _read_key(path: Path) -> bytes | None:
    """The key in `path`, or None when absent; a file others could read is not trusted."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077:
            raise PermissionError(f"{path} must be a regular file readable by its owner only")
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise PermissionError(f"{path} belongs to another user")
        key = f.read()
    if len(key) < _KEY_BYTES:
        raise PermissionError(f"{path} holds no usable key")
    return key


def ensure_key(runtime_dir: str | os.PathLike[str]) -> bytes:
    """The shared key, made now if this is the first server (or kernel) on `runtime_dir`."""
    folder = Path(runtime_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE
    key = _read_key(path)
    if key is not None:
        return key
    try:  # O_EXCL: two servers starting together make one key, never two
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = _read_key(path)
        if key is None:
            raise
        return key
    key = secrets.token_bytes(_KEY_BYTES)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def find_key(runtime_dir: str | os.PathLike[str]) -> bytes | None:
    """The shared key if a server with the route has made one in `runtime_dir`, else None."""
    try:
        return _read_key(Path(runtime_dir) / KEY_FILE)
    except OSError:
        return None


def kernel_runtime_dir() -> Path | None:
    """The runtime folder of the Jupyter server that started this kernel (the folder of its
    connection file); None outside a kernel: a script or the CLI has no page to play in."""
    # A kernel has imported ipykernel's app; importing it here would patch `comm` in a process
    # that is no kernel (ipykernel does so on import).
    kernelapp = sys.modules.get("ipykernel.kernelapp")
    app = getattr(kernelapp, "IPKernelApp", None)
    if app is None or not app.initialized():
        return None
    connection = str(getattr(app.instance(), "abs_connection_file", "") or "")
    return Path(connection).resolve().parent if connection else None


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, b"kling-studio media v1\0" + body, hashlib.sha256).digest()


def sign(key: bytes, path: str | os.PathLike[str], *, now: float | None = None) -> str | None:
    """The route (relative to the server's base URL) that serves the file at `path`; None for a
    file the route would not serve (not a video or poster)."""
    absolute = Path(path).resolve()
    mime = MEDIA_TYPES.get(absolute.suffix.lower())
    if mime is None:
        return None
    expires = int((time.time() if now is None else now) + LINK_SECONDS)
    body = json.dumps({"p": str(absolute), "x": expires}, separators=(",", ":")).encode()
    return f"{ROUTE_PREFIX}{_b64(body)}.{_b64(_mac(key, body))}{absolute.suffix.lower()}"


def verify(key: bytes, token: str, *, now: float | None = None) -> Link:
    """The file a route's last segment names, if its signature holds and it has not expired."""
    stem, dot, suffix = token.rpartition(".")
    body64, dot2, mac64 = stem.partition(".")
    if not (dot and dot2 and body64 and mac64):
        raise LinkRefused("malformed link")
    try:
        body, mac = _unb64(body64), _unb64(mac64)
    except ValueError as exc:
        raise LinkRefused("malformed link") from exc
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise LinkRefused("bad signature")
    fields = json.loads(body)
    path = Path(fields["p"])
    if int(fields["x"]) < (time.time() if now is None else now):
        raise LinkRefused("expired link")
    mime = MEDIA_TYPES.get(path.suffix.lower())
    if mime is None or not path.is_absolute() or f".{suffix}" != path.suffix.lower():
        raise LinkRefused("not a kling-studio video or poster")
    return Link(path, mime)
