"""A comparison as one self-contained HTML page (inline CSS, thumbnails as data: JPEGs, every
string escaped)."""

from __future__ import annotations

import base64
import html
import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from .._files import atomic_path
from ..history._records import TaskRecord
from ..history._store import History
from ..media._posters import POSTER_MAX_SIDE, ensure_poster, poster_jpeg
from ..pictures import is_url, load_local_picture
from ._blind import BlindView, blind_view
from ._measured import measures_html
from ._plan import PARAM_NAMES
from ._planfile import Entry, load_plan
from ._ratings import Summary, summaries
from ._run import Comparison
from ._table import variant_view

log = logging.getLogger("kling_studio")

# --- the HTML report ------------------------------------------------------------------------

THUMB_MAX_SIDE: Final = POSTER_MAX_SIDE  # cells show the videos' posters as they are


def video_thumbnail(path: str | os.PathLike[str], max_side: int = THUMB_MAX_SIDE) -> bytes | None:
    """The first frame of a video as a small JPEG (PyAV), or None if it can't be decoded."""
    return poster_jpeg(path, max_side)


def _poster(record: TaskRecord) -> bytes | None:
    """The video's saved poster (made now for a video saved before posters existed)."""
    path = ensure_poster(record.video_path) if record.has_video else None
    try:
        return path.read_bytes() if path is not None else None
    except OSError:
        return None


def picture_thumbnail(source: Any, max_side: int = THUMB_MAX_SIDE) -> bytes | None:
    """A small JPEG of a local picture (URLs are not fetched: the report is made offline)."""
    if source is None or is_url(source):
        return None
    try:
        return load_local_picture(source, "image").thumbnail_jpeg(max_side)
    except Exception as exc:
        log.info("no thumbnail from the picture: %s", exc)
        return None


def _data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _e(value: Any) -> str:
    """Every string that reaches the report goes through here."""
    return html.escape("" if value is None else str(value), quote=True)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:16px 0 4px}
.meta{color:#666;margin-bottom:16px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:16px;
margin-top:20px}
.cell{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px}
.cell.win{border:2px solid #c9a100}
.thumb{width:100%;aspect-ratio:16/9;object-fit:cover;background:#eee;border-radius:4px}
.nothumb{display:flex;align-items:center;justify-content:center;color:#888}
.label{font-size:22px;font-weight:700}.badge{font-size:12px;padding:1px 6px;border-radius:8px;
background:#eee;margin-left:6px}.winner{background:#ffe58a}
dl{display:grid;grid-template-columns:auto 1fr;gap:2px 8px;margin:8px 0}
dt{color:#666}dd{margin:0;overflow-wrap:anywhere}.stars{color:#c9a100;letter-spacing:1px}
.note{white-space:pre-wrap;background:#f4f4f4;padding:6px;border-radius:4px}
table{border-collapse:collapse;margin-top:24px;font-size:13px}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
"""


def render_html(
    history: History,
    group_id: str,
    *,
    comparison: Comparison | None = None,
    blind: bool = False,
) -> str:
    """The comparison as one self-contained HTML page: inline CSS, thumbnails as data: JPEGs,
    no script and no external resource (a Content-Security-Policy says so to the browser).

    `blind=True`: until the history's user has rated every variant, as blind judging shows it
    (`_blind.py`): their own shuffled order under neutral labels A, B, ..., without the
    parameters that differ nor the run times (a longer clip takes longer)."""
    if comparison is None or comparison.group_id != group_id:
        comparison = Comparison(history, load_plan(history, group_id))
    plan = comparison.plan
    by_id = {e.local_id: history.get(e.local_id) for e in plan.entries if e.local_id}
    shown = blind_view(plan.entries, by_id, user=history.user, group_id=plan.group_id, blind=blind)
    hide = not shown.revealed
    differing = [] if hide else plan.differing
    records = {e.label: by_id.get(e.local_id) if e.local_id else None for e in plan.entries}
    everyone = summaries(history, [e.local_id for e in plan.entries])
    judged = {e.label: everyone.get(e.local_id) if e.local_id else None for e in plan.entries}
    common = [
        n
        for n in PARAM_NAMES
        if n not in plan.differing and plan.entries and plan.entries[0].params.get(n) is not None
    ]
    cells = [
        _html_cell(
            comparison,
            entry,
            records[entry.label],
            judged[entry.label],
            differing,
            label=shown.labels[entry.label],
            times=not hide,
        )
        for entry in shown.entries
    ]
    first = plan.entries[0].params if plan.entries else {}
    common_rows = "".join(f"<dt>{_e(n)}</dt><dd>{_e(_shown(first.get(n)))}</dd>" for n in common)
    created = datetime.fromtimestamp(plan.created, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{_e(plan.title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(plan.title)}</h1>"
        f'<div class="meta">comparison {_e(plan.group_id)} · {_e(created)} · '
        f"{len(plan.entries)} variants, {sum(e.reused for e in plan.entries)} reused · "
        + (
            "judged blind: the settings that differ are shown once every variant is rated"
            if hide
            else f"differing: {_e(', '.join(plan.differing) or 'nothing')}"
        )
        + "</div>"
        f"<h2>Same for every variant</h2><dl>{common_rows}</dl>"
        f'<div class="grid">{"".join(cells)}</div>'
        f'<p class="meta">rating, winner and note: {_e(history.user)}\'s; mean and count: '
        "everyone's</p>"
        f"{_html_table(comparison, shown, records, judged, hide=hide)}"
        f"{measures_html(history, shown.entries, labels=shown.labels)}</body></html>\n"
    )


def _html_cell(
    comparison: Comparison,
    entry: Entry,
    record: TaskRecord | None,
    summary: Summary | None,
    differing: list[str],
    *,
    label: str,
    times: bool = True,
) -> str:
    jpeg = _poster(record) if record is not None else None
    if jpeg is None:
        jpeg = picture_thumbnail(comparison.picture_for(entry.label))
    if jpeg is not None:
        thumb = f'<img class="thumb" alt="{_e(label)}" src="{_data_url(jpeg)}">'
    else:
        thumb = '<div class="thumb nothumb">no preview</div>'
    seen = variant_view(comparison, entry, record)
    badges = f'<span class="badge">{_e(seen.status)}</span>'
    if entry.reused:
        badges += '<span class="badge">reused</span>'
    winner = bool(record and record.winner)
    if winner:
        badges += '<span class="badge winner">winner</span>'
    params = "".join(
        f"<dt>{_e(n)}</dt><dd>{_e(_shown(entry.params.get(n)))}</dd>" for n in differing
    )
    rating = record.rating if record else None
    stars = (
        f'<span class="stars">{"★" * rating}{"☆" * (5 - rating)}</span> {rating}/5'
        if rating
        else "not rated"
    )
    others = ""
    if summary is not None and summary.count:
        each = ", ".join(f"{user} {rating}" for user, rating in summary.by_user.items())
        others = (
            f"<dt>everyone</dt><dd>mean {summary.mean:.2f} of {summary.count} ({_e(each)})</dd>"
        )
    took = ""
    if record is not None and times:
        took = f"<dt>time</dt><dd>{record.elapsed:.1f} s</dd>"
    error = ": ".join(p for p in (seen.error_code, seen.error_message) if p)
    error_row = f"<dt>error</dt><dd>{_e(error)}</dd>" if error else ""
    note = record.note if record and record.note else ""
    note_html = f'<div class="note">{_e(note)}</div>' if note else ""
    return (
        f'<div class="cell{" win" if winner else ""}">{thumb}'
        f'<div><span class="label">{_e(label)}</span>{badges}</div>'
        f"<dl>{params}<dt>rating</dt><dd>{stars}</dd>{others}{took}{error_row}</dl>{note_html}</div>"
    )


def _html_table(
    comparison: Comparison,
    shown: BlindView,
    records: Mapping[str, TaskRecord | None],
    judged: Mapping[str, Summary | None],
    *,
    hide: bool,
) -> str:
    differing = [] if hide else comparison.plan.differing
    times = [] if hide else ["time (s)"]
    head = ["label", *differing, "status", "reused", *times, "rating", "winner", "note"]
    head += ["mean", "count", "each rater"]
    rows = []
    for entry in shown.entries:
        record = records[entry.label]
        summary = judged[entry.label]
        took = [] if hide else [f"{record.elapsed:.1f}" if record else ""]
        cells = [
            shown.labels[entry.label],
            *(_shown(entry.params.get(n)) for n in differing),
            comparison.status(entry, record),
            "yes" if entry.reused else "no",
            *took,
            str(record.rating) if record and record.rating else "",
            "yes" if record and record.winner else "",
            (record.note or "") if record else "",
            f"{summary.mean:.2f}" if summary and summary.mean is not None else "",
            str(summary.count) if summary else "0",
            ", ".join(f"{u}: {r}" for u, r in summary.by_user.items()) if summary else "",
        ]
        rows.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def export_html(
    history: History,
    group_id: str,
    path: str | os.PathLike[str],
    *,
    comparison: Comparison | None = None,
    blind: bool = False,
) -> Path:
    """Write the report (see render_html; `blind` as there) through a temporary file; returns
    its path."""
    target = history.refuse_owned_path(path, "comparison report")
    text = render_html(history, group_id, comparison=comparison, blind=blind)
    with atomic_path(target) as part:
        part.write_text(text, "utf-8")
    return target
