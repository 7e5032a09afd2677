"""Pictures: load a first or last frame from a URL, a path, bytes or a PIL image, and check it.

The checks are docs/contract.md section 6: JPG/PNG, at most 10 MB, each side at least 300 px, aspect
ratio between 1:2.5 and 2.5:1. Local pictures are checked here, before any byte is sent.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from . import contract as c
from .errors import InputError, Problem

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

PictureSource: TypeAlias = "str | os.PathLike[str] | bytes | bytearray | memoryview | PILImage"

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png"}
_EXTENSION = {"JPEG": ".jpg", "PNG": ".png"}


@dataclass(frozen=True)
class Picture:
    """A local picture's bytes and what Pillow read from them."""

    data: bytes
    format: str
    width: int
    height: int
    name: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def mime(self) -> str:
        return _MIME.get(self.format, "application/octet-stream")

    @cached_property
    def sha256(self) -> str:
        """Hex digest of the bytes, computed once (a 10 MB picture is hashed by several steps)."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def upload_name(self) -> str:
        """A safe file name for the upload: derived from the content, not from the user's name."""
        return f"{self.sha256[:16]}{_EXTENSION.get(self.format, '.bin')}"

    def problems(self, field: str) -> list[Problem]:
        return picture_problems(field, self.format, self.width, self.height, self.size)

    def thumbnail_jpeg(self, max_side: int = 160) -> bytes:
        from PIL import Image, ImageOps

        with Image.open(io.BytesIO(self.data)) as im:
            im.thumbnail((max_side, max_side))  # in place first: a JPEG is decoded scaled down
            return jpeg_thumbnail(ImageOps.exif_transpose(im) or im, max_side)


def jpeg_thumbnail(image: PILImage, max_side: int, quality: int = 80) -> bytes:
    """A small JPEG of `image` whose longer side is at most `max_side` (the one copy of this:
    picture thumbs, video posters and the HTML report all use it)."""
    small = image.copy()
    small.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    _eight_bit(small).convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def picture_problems(
    field: str, fmt: str | None, width: int, height: int, size: int
) -> list[Problem]:
    """Which rules of section 6 a picture breaks, each said as what to fix."""
    out: list[Problem] = []
    if fmt not in c.PICTURE_FORMATS:
        out.append(Problem(field, f"must be a JPG or PNG picture; this one is {fmt or 'unknown'}"))
    if size > c.PICTURE_MAX_BYTES:
        out.append(
            Problem(
                field,
                f"is {size / 1048576:.1f} MB; the limit is 10 MB — export it smaller or as JPG",
            )
        )
    if min(width, height) < c.PICTURE_MIN_SIDE:
        out.append(
            Problem(
                field,
                f"is {width}x{height} px; each side must be at least {c.PICTURE_MIN_SIDE} px",
            )
        )
    if width and height:
        ratio = width / height
        if not c.ASPECT_MIN - 1e-9 <= ratio <= c.ASPECT_MAX + 1e-9:
            out.append(
                Problem(
                    field,
                    f"has aspect ratio {ratio:.2f}:1 ({width}x{height}); it must lie between "
                    "1:2.5 and 2.5:1 — crop it",
                )
            )
    return out


def is_url(value: object) -> bool:
    """A picture FoxAPI fetches itself: http(s), and data: URLs only if the contract allows."""
    schemes = ("http://", "https://", "data:") if c.DATA_URLS_ACCEPTED else ("http://", "https://")
    return isinstance(value, str) and value.lower().startswith(schemes)


def read_picture(data: bytes, field: str, name: str = "picture") -> Picture:
    """Identify bytes with Pillow; InputError when they are not a picture at all."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow only warns between its two limits; a picture that large is refused too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                fmt = im.format or "unknown"
                width, height = im.size
                if fmt in c.PICTURE_FORMATS:
                    # Decode every pixel: verify() alone passes a JPEG cut off mid-stream,
                    # which FoxAPI would only refuse after the task was paid for.
                    im.load()
                else:
                    im.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        limit = (Image.MAX_IMAGE_PIXELS or 0) / 1e6
        raise InputError(
            Problem(
                field,
                f"{name!r} has more than {limit:.0f} million pixels: too many to decode safely "
                "(a decompression bomb?); scale it down",
            )
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if not data:
            reason = "is empty"
        elif "truncated" in str(exc).lower():
            reason = "is cut short (a truncated or partly downloaded file); export it again"
        else:
            reason = f"is not a picture Pillow can read ({type(exc).__name__})"
        raise InputError(Problem(field, f"{name!r} {reason}")) from None
    return Picture(data=data, format=fmt, width=width, height=height, name=name)


def load_local_picture(source: Any, field: str) -> Picture:
    """Load a path, bytes or PIL image (not a URL) into a checked Picture."""
    if isinstance(source, bytes | bytearray | memoryview):
        pic = read_picture(bytes(source), field, name="bytes")
    elif isinstance(source, str | os.PathLike):
        text = os.fspath(source)
        if text.lower().startswith("data:"):
            raise InputError(
                Problem(
                    field,
                    "data: URLs are not accepted by FoxAPI; pass the file's path or its bytes "
                    "and kling-studio uploads it",
                )
            )
        path = Path(text).expanduser()
        if not path.is_file():
            raise InputError(
                Problem(field, f"no file at {text!r}; give an http(s) URL or an existing file")
            )
        size = path.stat().st_size
        if size > c.PICTURE_MAX_BYTES:  # don't read a huge file just to refuse it
            raise InputError(picture_problems(field, "JPEG", 300, 300, size))
        pic = read_picture(path.read_bytes(), field, name=path.name)
    elif _is_pil_image(source):
        pic = _encode_pil(source, field)
    else:
        raise InputError(
            Problem(
                field,
                "must be an http(s) URL, a path, bytes or a PIL image; "
                f"got {type(source).__name__}",
            )
        )
    problems = pic.problems(field)
    if problems:
        raise InputError(problems)
    return upright_and_plain(pic, field)


# Modes every decoder reads the same way. CMYK JPEGs come out inverted in some decoders,
# 16-bit and float PNGs are refused or clipped by others, and an EXIF rotation is ignored by
# many: such pictures are re-encoded before upload so that FoxAPI sees what the user sees.
_PLAIN_MODES = frozenset({"RGB", "RGBA", "L", "LA"})


def upright_and_plain(pic: Picture, field: str) -> Picture:
    """The picture as FoxAPI should see it: upright, 8-bit RGB(A) or grey. Plain pictures are
    returned unchanged (same bytes, same hash)."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(pic.data)) as im:
        orientation = im.getexif().get(0x0112, 1)
        if im.mode in _PLAIN_MODES and orientation in (1, None):
            return pic
        upright = ImageOps.exif_transpose(im) or im
        plain = _eight_bit(upright)
        has_alpha = plain.mode in ("RGBA", "LA", "PA") or "transparency" in plain.info
        plain = plain.convert("RGBA" if has_alpha else "RGB")
        buf = io.BytesIO()
        plain.save(buf, format="PNG")
        if buf.tell() > c.PICTURE_MAX_BYTES:
            buf = io.BytesIO()
            plain.convert("RGB").save(buf, format="JPEG", quality=92)
    fixed = read_picture(buf.getvalue(), field, name=pic.name)
    problems = fixed.problems(field)
    if problems:  # e.g. rotated, or larger once decoded: say so against the picture as seen
        raise InputError(problems)
    return replace(fixed, name=pic.name)


def _eight_bit(im: Any) -> Any:
    """16-bit and 32-bit grey as 8-bit grey (scaled, not clipped to white)."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if im.mode in ("I", "F"):
        lo, hi = im.getextrema()
        span = (hi - lo) or 1
        return im.point(lambda v: (v - lo) * (255 / span)).convert("L")
    return im


def _is_pil_image(value: object) -> bool:
    try:
        from PIL.Image import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return False
    return isinstance(value, Image)


def _encode_pil(image: Any, field: str) -> Picture:
    """PNG keeps the pixels exact; JPEG when PNG would break the 10 MB limit."""
    buf = io.BytesIO()
    plain = _eight_bit(image)
    rgb = plain if plain.mode in ("RGB", "RGBA", "L") else plain.convert("RGBA")
    rgb.save(buf, format="PNG", optimize=False)
    if buf.tell() > c.PICTURE_MAX_BYTES:
        buf = io.BytesIO()
        rgb.convert("RGB").save(buf, format="JPEG", quality=92)
    return read_picture(buf.getvalue(), field, name="image")


def describe_source(source: Any) -> str:
    """A short, JSON-safe description of a picture source for the history (never its bytes)."""
    if source is None:
        return ""
    if isinstance(source, str):
        return source if is_url(source) else os.path.basename(source) or source
    if isinstance(source, os.PathLike):
        return Path(os.fspath(source)).name
    if isinstance(source, bytes | bytearray | memoryview):
        digest = hashlib.sha256(bytes(source)).hexdigest()[:12]
        return f"<{len(bytes(source)):,} bytes sha256:{digest}>"
    if _is_pil_image(source):
        return f"<PIL image {source.size[0]}x{source.size[1]}>"
    return f"<{type(source).__name__}>"


def encode_pil(image: Any, field: str) -> Picture:
    """A PIL image as picture bytes (PNG keeps the pixels; JPEG when PNG would pass 10 MB),
    not yet checked against section 6 (the caller decides how to show its problems)."""
    return _encode_pil(image, field)
