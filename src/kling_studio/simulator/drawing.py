"""Text on pictures: a font this machine has, any unicode made safe, wrapping by width."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from PIL import ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

# Tried in order; Pillow looks bare names up in the system font folders.
FONT_FILES = ("NotoSansCJK-Regular.ttc", "DejaVuSans.ttf", "LiberationSans-Regular.ttf")


@lru_cache(maxsize=16)
def font(size: int) -> Font:
    for name in FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size)
    except (OSError, TypeError, ImportError):  # Pillow without FreeType
        return ImageFont.load_default()


def clean(text: str) -> str:
    """Make arbitrary user text drawable: no lone surrogates, no control characters."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    kept = []
    for ch in text:
        if ch in "\n\t":
            kept.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            kept.append(ch)
    return " ".join("".join(kept).split())


def wrap(text: str, face: Font, width: int, max_lines: int) -> list[str]:
    """Greedy wrap by pixel width; words wider than a line (CJK runs, URLs) break anywhere."""
    lines: list[str] = []
    line = ""
    for word in clean(text).split(" "):
        if len(lines) > max_lines:
            break  # the rest would be cut anyway
        candidate = f"{line} {word}" if line else word
        if face.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for ch in word:
            if face.getlength(line + ch) > width and line:
                lines.append(line)
                line = ""
            line += ch
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and face.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines
