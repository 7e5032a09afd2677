"""The measures of a comparison's videos (media/_measures.py) beside its ratings: columns for
`compare_df` and its CSV, and the report's table. Videos saved before measures existed are
measured here, on first need (runner/_measuring.py)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from ..history._measures import MEASURE_COLUMNS
from ..history._records import MEASURE_DTYPES
from ..history._store import History
from ..runner._measuring import measure_missing

if TYPE_CHECKING:
    import pandas as pd

    from ._planfile import Entry

# How each measure reads, for people: a short heading and its format.
MEASURE_HEADINGS: Final[dict[str, tuple[str, str]]] = {
    "first_frame_match": ("first frame match", "{:.2f}"),
    "last_frame_match": ("last frame match", "{:.2f}"),
    "motion": ("motion (% width/s)", "{:.1f}"),
    "flicker": ("flicker", "{:.2f}"),
    "frozen_share": ("frozen", "{:.0%}"),
    "cuts": ("cuts", "{:d}"),
    "sharpness": ("sharpness", "{:.0f}"),
    "text_alignment": ("text alignment", "{:.3f}"),
    "aesthetic": ("aesthetic", "{:.2f}"),
}


def measured(history: History, local_ids: Sequence[str | None]) -> dict[str, dict[str, Any]]:
    """The measures of these tasks' videos by local id, measuring any not measured yet."""
    ids = [i for i in local_ids if i]
    measure_missing(history, ids)
    return history.measures_of(ids)


def with_measures(df: pd.DataFrame, history: History) -> pd.DataFrame:
    """`df` (a row per task, with `local_id`) with a column per measure (<NA> until measured)."""
    ids = [str(i) for i in df["local_id"] if isinstance(i, str)]
    found = measured(history, ids)
    for name, dtype in MEASURE_DTYPES.items():
        values = [
            (found.get(i) or {}).get(name) if isinstance(i, str) else None for i in df["local_id"]
        ]
        df[name] = pd_series(values, dtype, df.index)
    return df


def pd_series(values: list[Any], dtype: str, index: Any) -> pd.Series[Any]:
    import pandas as pd

    return pd.Series(values, index=index, dtype="object").astype(dtype)  # type: ignore[call-overload,no-any-return]


def shown_measure(name: str, value: Any) -> str:
    """A measure as a cell shows it ('' when there is none)."""
    if value is None:
        return ""
    _, pattern = MEASURE_HEADINGS[name]
    return pattern.format(int(value) if pattern == "{:d}" else float(value))


def measures_html(
    history: History, entries: Sequence[Entry], labels: Mapping[str, str] | None = None
) -> str:
    """The report's table of measures, a row per variant (empty when nothing is measured);
    `labels`: the names shown for the entries' labels (a blind report's neutral ones)."""
    found = measured(history, [e.local_id for e in entries])
    if not any(e.local_id in found for e in entries):
        return ""

    def has(name: str) -> bool:
        return any((found.get(e.local_id or "") or {}).get(name) is not None for e in entries)

    used = [n for n in MEASURE_COLUMNS if has(n)]
    head = "<th>label</th>" + "".join(
        f"<th>{html.escape(MEASURE_HEADINGS[n][0])}</th>" for n in used
    )
    rows = []
    for entry in entries:
        values = found.get(entry.local_id or "") or {}
        label = labels.get(entry.label, entry.label) if labels else entry.label
        cells = [label, *(shown_measure(n, values.get(n)) for n in used)]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return (
        '<h2>Measures</h2><p class="meta">computed from each video without any model '
        "(see docs/measures.md)</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
