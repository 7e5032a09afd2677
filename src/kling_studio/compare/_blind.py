"""Blind judging: the variants in an order of their own for each viewer, under neutral labels
(A, B, ... in that order) and without their parameters, until the viewer has rated every one,
so a judgement is not anchored on the settings. The order is stable for one viewer and one
comparison (seeded by both), so reopening it shows the same thing."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass

from ..history._records import TaskRecord
from ._plan import variant_label
from ._planfile import Entry


@dataclass(frozen=True)
class BlindView:
    """The entries in the order to show them, the label to show for each (by its real label),
    and whether the parameters may be shown (everything rated, or not blind at all)."""

    entries: list[Entry]
    labels: dict[str, str]
    revealed: bool


def blind_order(entries: list[Entry], user: str, group_id: str) -> list[Entry]:
    """The entries shuffled, the same way every time for this user and this comparison."""
    seed = hashlib.sha256(f"{user}\x00{group_id}".encode()).digest()
    shuffled = list(entries)
    random.Random(seed).shuffle(shuffled)
    return shuffled


def all_rated(entries: list[Entry], records: Mapping[str, TaskRecord | None]) -> bool:
    """The viewer (the history's user, whose rating a record carries) has rated every variant;
    a variant that has no task yet cannot be rated, so it keeps the comparison blind."""
    for entry in entries:
        record = records.get(entry.local_id) if entry.local_id else None
        if record is None or record.rating is None:
            return False
    return bool(entries)


def blind_view(
    entries: list[Entry],
    records: Mapping[str, TaskRecord | None],
    *,
    user: str,
    group_id: str,
    blind: bool,
) -> BlindView:
    """What to show: in blind mode, until everything is rated, the shuffled order under neutral
    labels with the parameters hidden; otherwise the plan as it is."""
    if not blind or all_rated(entries, records):
        return BlindView(list(entries), {e.label: e.label for e in entries}, True)
    shown = blind_order(entries, user, group_id)
    return BlindView(shown, {e.label: variant_label(i) for i, e in enumerate(shown)}, False)
