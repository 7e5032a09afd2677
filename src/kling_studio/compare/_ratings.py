"""Judging a comparison: a 1-5 rating, a winner mark and a note per task and per person (the
history's user: `History(user=...)` / `Studio(user=...)`); nobody's call changes another's."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from ..errors import InputError
from ..history._ratings import Judgement
from ..history._records import TaskRecord
from ..history._store import History

log = logging.getLogger("kling_studio")

# --- ratings ----------------------------------------------------------------------------------

NOTE_MAX_CHARS: Final = 4000


def rate(
    history: History,
    local_id: str,
    *,
    rating: int | None = None,
    winner: bool | None = None,
    note: str | None = None,
    clear_rating: bool = False,
) -> TaskRecord:
    """Store the current user's judgement: a 1-5 rating, a winner mark, a note. None leaves a
    value unchanged; `clear_rating=True` removes the rating. Other people's stay as they are."""
    record = history.get(local_id)
    if record is None:
        raise InputError(f"no task {local_id!r} in the history", "local_id")
    if rating is not None and (
        isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
    ):
        raise InputError(f"a rating is a whole number from 1 to 5; got {rating!r}", "rating")
    if winner is not None and not isinstance(winner, bool):
        raise InputError(f"winner is True or False; got {winner!r}", "winner")
    if note is not None:
        if not isinstance(note, str):
            raise InputError("a note is text", "note")
        if len(note) > NOTE_MAX_CHARS:
            raise InputError(f"a note holds at most {NOTE_MAX_CHARS:,} characters", "note")
    history.set_rating(local_id, rating=rating, winner=winner, note=note, clear_rating=clear_rating)
    return history[local_id]


# --- everyone's judgements, summed up ---------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """What everyone thinks of one task: the mean and count of the ratings given, and each
    rater's rating (by user, alphabetically; only people who gave a rating)."""

    mean: float | None
    count: int
    by_user: dict[str, int]
    notes: dict[str, str]  # each person's note, where they wrote one
    winners: list[str]  # who marked it a winner


def summarise(judgements: list[Judgement]) -> Summary:
    by_user = {j.user: j.rating for j in judgements if j.rating is not None}
    mean = sum(by_user.values()) / len(by_user) if by_user else None
    return Summary(
        mean=mean,
        count=len(by_user),
        by_user=dict(sorted(by_user.items())),
        notes={j.user: j.note for j in judgements if j.note},
        winners=sorted(j.user for j in judgements if j.winner),
    )


def summaries(history: History, local_ids: list[str | None]) -> dict[str, Summary]:
    """Each task's Summary (tasks nobody judged get an empty one), in one query."""
    found = history.judgements(i for i in local_ids if i)
    return {local_id: summarise(found.get(local_id, [])) for local_id in local_ids if local_id}
