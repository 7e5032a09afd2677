"""Write js/protocol.gen.ts from kling_studio/studio/_protocol.py (the one declaration).

    .venv/bin/python scripts/gen_protocol.py          # rewrite the file
    .venv/bin/python scripts/gen_protocol.py --check  # exit 1 if the committed file is stale

tests/studio/test_protocol.py runs the same comparison, so CI fails on drift.
"""

from __future__ import annotations

import json
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, NotRequired, Union, get_args, get_origin, is_typeddict

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "js" / "protocol.gen.ts"

HEADER = """\
// GENERATED from src/kling_studio/studio/_protocol.py by scripts/gen_protocol.py: do not edit.
// Change the Python declaration, then run `.venv/bin/python scripts/gen_protocol.py`.
/* eslint-disable */
"""


def render() -> str:
    from kling_studio.studio import _protocol as p

    aliases = {name: tp for name, tp in p.ALIASES.items()}
    out = [HEADER]
    for name, tp in aliases.items():
        out.append(f"export type {name} = {_ts(tp, aliases, top=name)};\n")
    out.append("\n")
    for shape in p.SHAPES:
        out.append(_interface(shape, aliases))
    out.append("/** The request kinds the front end may send, with their fields. */\n")
    out.append("export interface Requests {\n")
    for kind, (request, _reply) in p.REQUESTS.items():
        out.append(f"  {kind}: {request.__name__};\n")
    out.append(
        "}\n\n/** The `data` of each request's `ok: true` reply. */\nexport interface Replies {\n"
    )
    for kind, (_request, reply) in p.REQUESTS.items():
        out.append(f"  {kind}: {reply.__name__ if reply else 'null'};\n")
    out.append("}\n\n")
    out.append("export type RequestKind = keyof Requests;\n")
    out.append(
        "/** A request as sent: its kind, its fields, and the req_id the Rpc adds. */\n"
        "export type Request = { [K in RequestKind]: { kind: K; req_id?: string } & Requests[K] }"
        "[RequestKind];\n"
    )
    out.append(f"export type Push = {' | '.join(m.__name__ for m in p.PUSHES)};\n\n")
    out.append(f"export const DEFAULT_RULES: Rules = {_json(p.default_rules())};\n\n")
    out.append(f"export const EMPTY_FORM: Form = {_json(p.default_form())};\n\n")
    types_of = {
        "TASK_STATUSES": "TaskStatus",
        "RECORD_STATUSES": "RecordStatus",
        "TICKING_STATUSES": "TaskStatus",
        "VIDEO_STATES": "VideoState",
        "REQUEST_KINDS": "RequestKind",
    }
    for name, value in p.CONSTANTS.items():
        line = json.dumps(value, ensure_ascii=False)
        out.append(f"export const {name}: readonly {types_of[name]}[] = {line};\n")
    return "".join(out)


def _interface(shape: Any, aliases: dict[str, Any]) -> str:
    hints = typing.get_type_hints(shape, include_extras=True)
    doc = (shape.__doc__ or "").strip()
    lines = (
        [f"/** {' '.join(doc.split())} */\n"] if doc and not doc.startswith(shape.__name__) else []
    )
    lines.append(f"export interface {shape.__name__} {{\n")
    for field, tp in hints.items():
        # __optional_keys__ misses NotRequired under postponed annotations before Python 3.12.
        optional = field in shape.__optional_keys__ or get_origin(tp) is NotRequired
        if get_origin(tp) is NotRequired:
            tp = get_args(tp)[0]
        lines.append(f"  {field}{'?' if optional else ''}: {_ts(tp, aliases)};\n")
    lines.append("}\n\n")
    return "".join(lines)


def _ts(tp: Any, aliases: dict[str, Any], top: str | None = None) -> str:
    for name, alias in aliases.items():
        if name != top and tp == alias:
            return name
    if tp is str:
        return "string"
    if tp is int or tp is float:
        return "number"
    if tp is bool:
        return "boolean"
    if tp is type(None):
        return "null"
    if tp is Any or tp is object:
        return "unknown"
    if is_typeddict(tp):
        return str(tp.__name__)
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return " | ".join(json.dumps(a) for a in args)
    if origin is Union or origin is types.UnionType:
        parts = [_ts(a, aliases) for a in args]
        return " | ".join(dict.fromkeys(parts))  # int | float is one "number"
    if origin is list:
        inner = _ts(args[0], aliases)
        return f"({inner})[]" if "|" in inner else f"{inner}[]"
    if origin is dict:
        return f"Record<string, {_ts(args[1], aliases)}>"
    raise TypeError(f"no TypeScript for {tp!r}: extend scripts/gen_protocol.py")


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.is_file() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run scripts/gen_protocol.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
