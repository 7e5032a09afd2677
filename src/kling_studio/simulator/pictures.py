"""Getting a task's pictures, and judging them the way the upstream service would.

Only loopback is ever contacted: the simulator's own uploads are read directly, other
127.0.0.0/8 / localhost URLs are fetched with httpx, and any other host gets a generated
placeholder showing the URL instead (the machine has no internet, and tests must never leak).
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from PIL import Image, ImageDraw, ImageOps

from . import drawing

MAX_BYTES = 10 * 1024 * 1024
MIN_SIDE = 300
MAX_ASPECT = 2.5
FORMATS = {"JPEG": "JPG", "PNG": "PNG"}
WORKING_SIDE = 960  # pictures are shrunk to this before rendering: the output is small anyway
FETCH_TIMEOUT = 10.0


class PictureRejected(Exception):
    """The task fails with this code and message (an upstream rejection, not a 4xx)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Picture:
    image: Image.Image  # RGB, at most WORKING_SIDE on its long side
    digest: str  # identifies the content, for the render cache
    source: str  # "own", "loopback" or "placeholder"


# Returns the bytes of one of the simulator's own uploads, None when the URL is not one.
OwnFiles = Callable[[str], bytes | None]


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: never resolved, never contacted


def load(url: str, field: str, own_files: OwnFiles) -> Picture:
    data = own_files(url)
    source = "own"
    if data is None:
        if not is_loopback_host(urlsplit(url).hostname):
            return placeholder(url, field)
        data = _fetch(url, field)
        source = "loopback"
    image = check(data, field)
    return Picture(image, hashlib.sha256(data).hexdigest(), source)


def _fetch(url: str, field: str) -> bytes:
    # trust_env=False: a proxy from the environment must not carry the request elsewhere.
    try:
        with (
            httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=False, trust_env=False) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise PictureRejected(
                    "image_fetch_failed",
                    f"could not fetch {field}: the server answered HTTP {response.status_code}",
                )
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise PictureRejected("invalid_image", _too_big(field, len(data), partial=True))
            return bytes(data)
    except httpx.HTTPError as exc:
        raise PictureRejected("image_fetch_failed", f"could not fetch {field}: {exc}") from None


def _too_big(field: str, size: int, partial: bool = False) -> str:
    more = "more than " if partial else ""
    return f"{field} is {more}{size / 1024 / 1024:.1f} MB; at most 10 MB is accepted"


def check(data: bytes, field: str) -> Image.Image:
    """Decode and apply docs/contract.md section 6; returns an RGB working copy."""
    if len(data) > MAX_BYTES:
        raise PictureRejected("invalid_image", _too_big(field, len(data)))
    try:
        opened = Image.open(io.BytesIO(data))
        kind = opened.format or "unknown"
        if kind not in FORMATS:
            raise PictureRejected(
                "invalid_image", f"{field} is a {kind} picture; only JPG and PNG are accepted"
            )
        opened.load()
    except PictureRejected:
        raise
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise PictureRejected(
            "invalid_image", f"{field} could not be decoded as a JPG or PNG picture"
        ) from None
    image: Image.Image = ImageOps.exif_transpose(opened)
    width, height = image.size
    if min(width, height) < MIN_SIDE:
        raise PictureRejected(
            "invalid_image",
            f"{field} is {width}x{height} px; each side must be at least {MIN_SIDE} px",
        )
    if max(width / height, height / width) > MAX_ASPECT:
        raise PictureRejected(
            "invalid_image",
            f"{field} is {width}x{height} px (aspect {width / height:.2f}); "
            "the aspect ratio must be between 1:2.5 and 2.5:1",
        )
    working = image.convert("RGB")
    working.thumbnail((WORKING_SIDE, WORKING_SIDE))
    return working


def placeholder(url: str, field: str) -> Picture:
    """A stand-in for a picture on a host we must not contact: the URL, drawn."""
    digest = hashlib.sha256(url.encode("utf-8", "replace")).hexdigest()
    hue = int(digest[:2], 16)
    image = Image.new("RGB", (640, 360))
    draw = ImageDraw.Draw(image)
    for y in range(360):  # a vertical gradient tinted by the URL, so two URLs look different
        shade = 40 + y * 80 // 360
        draw.line([(0, y), (640, y)], fill=(shade, (hue + shade) % 256 // 2, 255 - shade))
    title = drawing.font(26)
    body = drawing.font(20)
    draw.text((24, 24), f"{field} (not fetched)", font=title, fill=(255, 255, 255))
    for i, line in enumerate(drawing.wrap(url, body, 592, 8)):
        draw.text((24, 80 + i * 28), line, font=body, fill=(255, 255, 210))
    return Picture(image, "url:" + digest, "placeholder")
