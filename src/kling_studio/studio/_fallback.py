"""A small static view of what a studio made, for where no kernel runs.

A notebook saved after a run and opened without a kernel (`jupyter nbconvert --to html`, a code
host, JupyterLab before a kernel starts) cannot show the widget. So a studio, when displayed,
also displays this: one `text/html` output beside the widget's, with each task of the session as
a tiny inline poster, its prompt and its status — a few KB per task, never a video. It is
re-published (`update_display`, same display id) when a task starts or finishes, so the saved
output is the last state. Where the widget does render, a CSS rule in the fallback hides it
(`:has(.kls-root)`), so nobody sees both.

Everything from users or servers is escaped; a poster is used only if it is a base64 JPEG data
URL, and is re-encoded smaller here (decoded by Pillow: a hostile string never reaches the page).
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import re
import uuid
from typing import Any

from PIL import Image, UnidentifiedImageError

# The newest tasks kept (the output must stay small however long the session).
MAX_TASKS = 24
# Poster width in the fallback, px, and its JPEG quality: about 2-4 KB each.
POSTER_WIDTH = 160
POSTER_QUALITY = 60
PROMPT_CHARS = 160
JPEG_DATA_URL = re.compile(r"^data:image/jpeg;base64,([A-Za-z0-9+/]+={0,2})$")
# Statuses worth a new output (progress alone is not).
_SHOWN_FIELDS = ("status", "has_video", "poster")

# Hidden where the studio renders: in a Jupyter output area holding a live studio, the whole output
# item; elsewhere (VS Code), anywhere a live studio is on the page.
_STYLE = (
    "<style>"
    ".jp-OutputArea:has(.kls-root) .jp-OutputArea-child:has(.kls-fallback),"
    ".jp-OutputArea:has(.kls-root) .kls-fallback,"
    "body:not(:has(.jp-OutputArea)):has(.kls-root) .kls-fallback{display:none}"
    "</style>"
)


def small_poster(data_url: object) -> str | None:
    """Python's poster re-encoded as a small JPEG data URL; None if it is not a JPEG data URL."""
    if not isinstance(data_url, str):
        return None
    match = JPEG_DATA_URL.match(data_url)
    if match is None:
        return None
    try:
        with Image.open(io.BytesIO(base64.b64decode(match.group(1), validate=True))) as src:
            if src.format != "JPEG":
                return None
            small = src.convert("RGB")
            small.thumbnail((POSTER_WIDTH, POSTER_WIDTH * 2))
            out = io.BytesIO()
            small.save(out, "JPEG", quality=POSTER_QUALITY, optimize=True)
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _text(value: object, limit: int | None = None) -> str:
    s = "" if value is None else str(value)
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    return html.escape(s, quote=True)


def task_html(card: dict[str, Any], poster: str | None) -> str:
    status = str(card.get("status") or "unknown")
    settings = card.get("settings") or {}
    facts = " · ".join(
        x
        for x in (
            _text(card.get("user")) if card.get("user") else "",
            _text(settings.get("resolution")),
            f"{_text(settings.get('duration'))} s" if settings.get("duration") else "",
        )
        if x
    )
    error = card.get("error") or {}
    problem = ""
    if isinstance(error, dict) and error.get("message"):
        code = f"{_text(error.get('code'))}: " if error.get("code") else ""
        problem = (
            f'<div style="color:#b3261e;font-size:12px">{code}{_text(error["message"], 200)}</div>'
        )
    image = (
        f'<img src="{poster}" alt="" width="{POSTER_WIDTH}" '
        'style="display:block;width:100%;height:auto;border-radius:4px">'
        if poster
        else '<div style="aspect-ratio:16/9;background:#1f2530;border-radius:4px"></div>'
    )
    return (
        f'<li data-status="{_text(status)}" style="width:{POSTER_WIDTH}px;list-style:none">'
        f"{image}"
        '<div style="font-size:12px;font-weight:600;text-transform:capitalize">'
        f"{_text(status)}</div>"
        f'<div style="font-size:12px">{_text(card.get("prompt"), PROMPT_CHARS)}</div>'
        f'<div style="font-size:11px;color:#59636e">{facts}</div>{problem}</li>'
    )


class Fallback:
    """The static view of one studio's session: kept up to date as its tasks change."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.display_id = f"kling-studio-fallback-{uuid.uuid4().hex}"
        self._cards: dict[str, dict[str, Any]] = {}
        self._posters: dict[str, str | None] = {}
        self._shown = False

    def html(self) -> str:
        cards = sorted(self._cards.values(), key=lambda c: c.get("created") or 0, reverse=True)
        items = "".join(task_html(c, self._posters.get(c["local_id"])) for c in cards)
        body = (
            f'<ul style="display:flex;flex-wrap:wrap;gap:10px;padding:0;margin:6px 0">{items}</ul>'
            if items
            else "<div>No tasks in this session yet.</div>"
        )
        count = len(cards)
        note = f"{count} task{'s' if count != 1 else ''} of this session" if count else ""
        return (
            f'{_STYLE}<div class="kls-fallback" data-kls-fallback="1" '
            'style="font-family:system-ui,sans-serif;font-size:13px">'
            f"<div><strong>{_text(self.title)}</strong> — saved view"
            f"{' · ' + note if note else ''} (run the notebook for the live studio)</div>"
            f"{body}</div>"
        )

    def bundle(self) -> dict[str, str]:
        return {"text/html": self.html(), "text/plain": f"{self.title}: saved view"}

    def show(self) -> None:
        """Displays the fallback (after the widget's own output); later changes update it."""
        from IPython.display import display

        display(self.bundle(), raw=True, display_id=self.display_id)  # type: ignore[no-untyped-call]
        self._shown = True

    def task(self, card: dict[str, Any]) -> bool:
        """Takes a task's newest card; re-publishes when what the fallback shows changed."""
        local_id = card.get("local_id")
        if not isinstance(local_id, str):
            return False
        old = self._cards.get(local_id)
        self._cards[local_id] = card
        if old is not None and all(old.get(k) == card.get(k) for k in _SHOWN_FIELDS):
            return False
        if old is None or old.get("poster") != card.get("poster"):
            self._posters[local_id] = small_poster(card.get("poster"))
        for stale in sorted(self._cards.values(), key=lambda c: c.get("created") or 0)[:-MAX_TASKS]:
            self._cards.pop(stale["local_id"], None)
            self._posters.pop(stale["local_id"], None)
        if self._shown:
            from IPython.display import update_display

            update_display(  # type: ignore[no-untyped-call]
                self.bundle(), raw=True, display_id=self.display_id
            )
        return True
