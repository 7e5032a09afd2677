"""A comparison's plan on disk: labels, parameters and which task shows each variant, in a
small JSON file beside the history (a reused variant points at a task of another group, so
the history's `group_id` column alone cannot say which tasks a comparison shows)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._files import atomic_path
from ..errors import InputError, KlingStudioError
from ..history._records import TaskRecord
from ..history._store import History
from ._plan import differing_names, variant_label

log = logging.getLogger("kling_studio")

_GROUP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# --- the plan on disk -----------------------------------------------------------------------


@dataclass
class Entry:
    """One variant of a comparison and the task that shows it."""

    label: str
    params: dict[str, Any]
    hash: str
    local_id: str | None = None  # None until the variant is started
    reused: bool = False  # points at an older task with the same request hash

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "params": self.params,
            "hash": self.hash,
            "local_id": self.local_id,
            "reused": self.reused,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entry:
        return cls(
            label=str(data["label"]),
            params=dict(data.get("params") or {}),
            hash=str(data.get("hash") or ""),
            local_id=data.get("local_id"),
            reused=bool(data.get("reused")),
        )


@dataclass
class Plan:
    """What a comparison shows: its variants in order, and which parameters differ."""

    group_id: str
    title: str
    created: float
    differing: list[str]
    entries: list[Entry]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "group_id": self.group_id,
            "title": self.title,
            "created": self.created,
            "differing": self.differing,
            "variants": [e.to_json() for e in self.entries],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        return cls(
            group_id=str(data["group_id"]),
            title=str(data.get("title") or ""),
            created=float(data.get("created") or 0.0),
            differing=[str(n) for n in data.get("differing") or []],
            entries=[Entry.from_json(e) for e in data.get("variants") or []],
        )

    def entry(self, local_id: str) -> Entry | None:
        return next((e for e in self.entries if e.local_id == local_id), None)


def plans_dir(history: History) -> Path:
    """Beside the history file, named after it (two histories in one folder stay apart)."""
    return history.path.with_name(f"{history.path.stem}.comparisons")


def check_group_id(group_id: str) -> str:
    if not isinstance(group_id, str) or not _GROUP_ID.match(group_id) or ".." in group_id:
        raise InputError(
            "a group id is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            "group_id",
        )
    return group_id


def save_plan(history: History, plan: Plan) -> None:
    """Write through a temporary file, so a crash never leaves half a plan."""
    target = plans_dir(history) / f"{check_group_id(plan.group_id)}.json"
    with atomic_path(target) as part:
        part.write_text(json.dumps(plan.to_json(), ensure_ascii=False, indent=1), "utf-8")


def load_plan(history: History, group_id: str) -> Plan:
    """The plan of a comparison; for a group without one (tasks journalled with a group id by
    other code), a plan rebuilt from its tasks' `variant` column."""
    path = plans_dir(history) / f"{check_group_id(group_id)}.json"
    if path.is_file():
        try:
            return Plan.from_json(json.loads(path.read_text("utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise KlingStudioError(f"the comparison plan {path} is unreadable: {exc}") from exc
    records = history.records(group_id=group_id)
    if not records:
        raise InputError(f"no comparison {group_id!r} in this history", "group_id")
    entries = []
    for i, record in enumerate(reversed(records)):  # oldest first: the order they were started
        variant = record.variant or {}
        params = variant.get("params") if isinstance(variant.get("params"), dict) else None
        entries.append(
            Entry(
                label=str(variant.get("label") or variant_label(i)),
                params=params or _params_from_record(record),
                hash=record.request_hash,
                local_id=record.local_id,
            )
        )
    entries.sort(key=lambda e: (len(e.label), e.label))
    created = records[-1].submitted_at.timestamp()
    differing = differing_names([e.params for e in entries])
    return Plan(group_id, _title(differing, len(entries)), created, differing, entries)


def _params_from_record(record: TaskRecord) -> dict[str, Any]:
    return {
        "prompt": record.prompt,
        "negative_prompt": record.negative_prompt or "",
        "resolution": record.resolution,
        "duration": record.duration,
        "generate_audio": record.generate_audio,
        "image": record.image or None,
        "image_tail": record.image_tail,
        "voice_ids": record.payload.get("voice_ids"),
        "multi_prompt": record.request.get("multi_prompt"),
        "model": record.model,
    }


def latest_group_id(history: History) -> str | None:
    """The comparison created last in this history (by its plan), or None."""
    best: tuple[float, str] | None = None
    folder = plans_dir(history)
    if not folder.is_dir():
        return None
    for path in folder.glob("*.json"):
        try:
            data = json.loads(path.read_text("utf-8"))
            created = float(data.get("created") or 0.0)
            group_id = str(data["group_id"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if best is None or created > best[0]:
            best = (created, group_id)
    return best[1] if best else None


def _title(differing: Sequence[str], count: int) -> str:
    axes = " x ".join(differing) if differing else "one setting"
    return f"{count} variant{'s' if count != 1 else ''}: {axes}"
