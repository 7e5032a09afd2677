"""A batch's table, read and checked before anything is sent: a CSV file or a DataFrame whose
columns are request fields (by their wire names or the command line's) and, besides them, any
columns a prompt may use as `{name}` templates. A cell left empty takes the default (the form's,
or the command line's). Every row is checked, and every bad row is named by its line (a CSV) or
its index (a DataFrame) with what to fix, all at once.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .. import contract as c
from ..errors import InputError, Problem
from ..models import VideoRequest
from ..pictures import Picture, is_url
from ._plan import (
    Variant,
    _compare_keys,
    identity_hash,
    load_once,
    request_params,
    variant_label,
)

if TYPE_CHECKING:
    import pandas as pd

# Column name -> request field: the wire names, the command line's and the Python names.
COLUMN_FIELDS: Final[dict[str, str]] = {
    "prompt": "prompt",
    "image": "image",
    "image_url": "image",
    "image_tail": "image_tail",
    "image_tail_url": "image_tail",
    "tail": "image_tail",
    "duration": "duration",
    "resolution": "resolution",
    "negative_prompt": "negative_prompt",
    "negative-prompt": "negative_prompt",
    "generate_audio": "generate_audio",
    "audio": "generate_audio",
    "voice_ids": "voice_ids",
    "voice": "voice_ids",
    "voices": "voice_ids",
}
FIELDS: Final = tuple(dict.fromkeys(COLUMN_FIELDS.values()))
_TRUE: Final = frozenset({"1", "true", "yes", "y", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "n", "off"})
MAX_ROWS: Final = 10_000


@dataclass(frozen=True)
class BatchRow:
    """One row of the table, checked: where it came from, its cells, and its variant."""

    where: str  # "line 3" (a CSV) or "row 2" (a DataFrame's index)
    cells: dict[str, Any]  # the row as given (text for a CSV), for the result table
    variant: Variant


@dataclass(frozen=True)
class BatchTable:
    """A checked table: its rows in order, its columns, and where it was read from."""

    rows: list[BatchRow]
    columns: list[str]
    source: str

    def __len__(self) -> int:
        return len(self.rows)


def read_table(
    table: pd.DataFrame | str | os.PathLike[str],
) -> tuple[list[str], list[tuple[str, dict[str, Any]]], Path | None]:
    """The table's columns and its rows, each with where it is (`line N` of a CSV, header being
    line 1; `row I` of a DataFrame), and the CSV's folder (relative picture paths start there)."""
    if isinstance(table, str | os.PathLike):
        path = Path(table).expanduser()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}", "table") from None
        except UnicodeDecodeError:
            raise InputError(f"{path} is not UTF-8 text; save it as CSV UTF-8", "table") from None
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise InputError(f"{path} has no header line naming its columns", "table")
            columns = [h.strip() for h in header]
            rows: list[tuple[str, dict[str, Any]]] = []
            start = reader.line_num + 1
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    if len(cells) > len(columns):
                        raise InputError(
                            f"line {start} of {path} has {len(cells)} cells but the header names "
                            f"{len(columns)} columns; quote cells that hold commas",
                            "table",
                        )
                    padded = cells + [""] * (len(columns) - len(cells))
                    rows.append((f"line {start}", dict(zip(columns, padded, strict=True))))
                start = reader.line_num + 1
        except csv.Error as exc:
            raise InputError(f"{path} is not a readable CSV file ({exc})", "table") from None
        return columns, rows, path.absolute().parent
    if hasattr(table, "to_dict") and hasattr(table, "columns"):
        columns = [str(col) for col in table.columns]
        records = table.to_dict(orient="records")
        rows = [
            (f"row {index}", {str(k): v for k, v in rec.items()})
            for index, rec in zip(table.index, records, strict=True)
        ]
        return columns, rows, None
    raise InputError(
        f"a batch table is a pandas DataFrame or a CSV file's path; got {type(table).__name__}",
        "table",
    )


def check_table(
    table: pd.DataFrame | str | os.PathLike[str],
    defaults: Mapping[str, Any] | None = None,
    *,
    picture_names: Mapping[str, str] | None = None,
) -> BatchTable:
    """Read and check every row (InputError naming each bad row and what to fix, all at once).

    `defaults` holds the request fields for empty cells and missing columns (the form's or the
    command line's), by their Python names. A prompt (the row's or the default) may use any
    other column as `{name}`; `{{` and `}}` are literal braces."""
    columns, raw_rows, folder = read_table(table)
    source = str(table) if isinstance(table, str | os.PathLike) else "DataFrame"
    fields, extras, problems = _columns(columns)
    if not raw_rows:
        problems.append(Problem("table", f"{source} has no rows"))
    if len(raw_rows) > MAX_ROWS:
        problems.append(Problem("table", f"{len(raw_rows)} rows; a batch holds {MAX_ROWS} at most"))
    if problems:
        raise InputError(problems)
    base = {k: v for k, v in (defaults or {}).items() if v is not None and v != ""}
    pictures: dict[Any, Picture | list[Problem]] = {}
    rows: list[BatchRow] = []
    for index, (where, cells) in enumerate(raw_rows):
        values, row_problems = _row_fields(cells, fields, extras, base, folder)
        request: VideoRequest | None = None
        if not row_problems:
            try:
                request = VideoRequest.build(**values)
            except InputError as exc:
                row_problems += exc.problems
        pics: dict[str, Picture] = {}
        if request is not None:
            row_problems += request.problems()
            row_problems += _load(request, pictures, pics)
        if row_problems or request is None:
            problems += [Problem(where, str(p)) for p in row_problems]
            continue
        variant = Variant(
            label=variant_label(index),
            request=request,
            params=request_params(request, pics, picture_names),
            hash=identity_hash(request, pics),
            keys=_compare_keys(request, pics),
        )
        rows.append(BatchRow(where, cells, variant))
    problems += _duplicates(rows)
    if problems:
        raise InputError(problems)
    return BatchTable(rows, columns, source)


def _columns(columns: list[str]) -> tuple[dict[str, str], list[str], list[Problem]]:
    """Column -> field for the field columns; the other (template) columns; problems."""
    fields: dict[str, str] = {}
    extras: list[str] = []
    problems: list[Problem] = []
    taken: dict[str, str] = {}
    for column in columns:
        name = column.strip()
        field = COLUMN_FIELDS.get(name.lower())
        if not name:
            problems.append(Problem("table", "a column has no name in the header"))
        elif field is None:
            if name in extras:
                problems.append(Problem("table", f"the column {name!r} is named twice"))
            extras.append(name)
        elif field in taken:
            problems.append(
                Problem(
                    "table",
                    f"the columns {taken[field]!r} and {column!r} both give {field}; keep one",
                )
            )
        else:
            taken[field] = column
            fields[column] = field
    return fields, extras, problems


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, str) and not value.strip()


def _row_fields(
    cells: Mapping[str, Any],
    fields: Mapping[str, str],
    extras: list[str],
    base: Mapping[str, Any],
    folder: Path | None,
) -> tuple[dict[str, Any], list[Problem]]:
    values = dict(base)
    problems: list[Problem] = []
    for column, field in fields.items():
        cell = cells.get(column)
        if _empty(cell):
            continue
        try:
            values[field] = _parse(field, cell, folder)
        except ValueError as exc:
            problems.append(Problem(field, str(exc)))
    prompt = values.get("prompt")
    if isinstance(prompt, str) and ("{" in prompt or "}" in prompt):
        try:
            values["prompt"] = _fill(prompt, cells, extras)
        except ValueError as exc:
            problems.append(Problem("prompt", str(exc)))
    if "image" not in values:
        problems.append(
            Problem("image", "is empty and there is no default: give an image column or --image")
        )
    if "prompt" not in values:
        problems.append(
            Problem("prompt", "is empty and there is no default: give a prompt column or --prompt")
        )
    return values, problems


def _parse(field: str, cell: Any, folder: Path | None) -> Any:
    """A cell as the field's value (text cells of a CSV, or a DataFrame's own types)."""
    text = str(cell).strip() if not isinstance(cell, bytes) else cell
    if field == "duration":
        try:
            number = float(cell)
        except (TypeError, ValueError):
            number = math.nan
        if math.isnan(number) or number != int(number):
            choices = " or ".join(str(d) for d in c.DURATIONS)
            raise ValueError(f"{cell!r} is not a whole number of seconds (use {choices})")
        return int(number)
    if field == "generate_audio":
        if isinstance(cell, bool):
            return cell
        word = str(text).lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ValueError(f"{cell!r} is not yes or no (use true/false, yes/no or 1/0)")
    if field == "voice_ids":
        if isinstance(cell, list | tuple):
            return [str(v) for v in cell]
        if str(text).startswith("["):
            try:
                found = json.loads(str(text))
            except json.JSONDecodeError:
                raise ValueError(f"{cell!r} is not a JSON list of voice ids") from None
            return [str(v) for v in found]
        return [v.strip() for v in str(text).replace(";", ",").split(",") if v.strip()]
    if field in ("image", "image_tail") and isinstance(cell, str):
        text = cell.strip()
        if is_url(text) or folder is None:
            return text
        path = Path(text).expanduser()
        return str(path if path.is_absolute() else folder / path)
    if field == "resolution":
        return str(text)
    return cell if not isinstance(cell, str) else cell.strip()


def _fill(template: str, cells: Mapping[str, Any], extras: list[str]) -> str:
    """`template` with each `{name}` replaced by the row's `name` cell."""
    out = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"{exc} in the template {template!r:.80}; write {{{{ for a brace"
        ) from None
    for literal, name, spec, conversion in parsed:
        out.append(literal)
        if name is None:
            continue
        if spec or conversion or not name:
            raise ValueError(
                f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
                " is not a column name in braces; write {column}, or {{ for a brace"
            )
        if name not in extras:
            known = ", ".join(extras) if extras else "none besides the request fields"
            raise ValueError(f"{{{name}}} names no column of the table (columns: {known})")
        value = cells.get(name)
        if _empty(value):
            raise ValueError(f"{{{name}}} is used by the prompt but this row's {name} is empty")
        out.append(str(value).strip() if isinstance(value, str) else _plain_text(value))
    return "".join(out)


def _plain_text(value: Any) -> str:
    if isinstance(value, float) and value == int(value):
        return str(int(value))  # a number column read by pandas: 3, not 3.0
    return str(value)


def _load(
    request: VideoRequest,
    cache: dict[Any, Picture | list[Problem]],
    out: dict[str, Picture],
) -> list[Problem]:
    """Read the row's local pictures (each file once per table); their problems."""
    problems: list[Problem] = []
    for name in ("image", "image_tail"):
        source = getattr(request, name)
        if source is None or is_url(source):
            continue
        found = load_once(cache, name, source)
        if isinstance(found, Picture):
            out[name] = found
        else:
            problems += found
    return problems


def _duplicates(rows: list[BatchRow]) -> list[Problem]:
    first: dict[str, str] = {}
    problems = []
    for row in rows:
        if row.variant.hash in first:
            problems.append(
                Problem(
                    row.where,
                    f"sends the same request as {first[row.variant.hash]}; drop one of them",
                )
            )
        else:
            first[row.variant.hash] = row.where
    return problems
