"""Judging a comparison: a 1-5 rating, a winner mark and a note per task."""

from __future__ import annotations

import logging
from typing import Final

from ..errors import InputError
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
    """Store a judgement: a 1-5 rating, a winner mark, a note. None leaves a value unchanged;
    `clear_rating=True` removes the rating."""
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
    if clear_rating:
        # The store clears the three together: put back the two that stay.
        history.clear_rating(local_id)
        history.set_rating(
            local_id,
            winner=record.winner if winner is None else winner,
            note=record.note if note is None else note,
        )
    else:
        history.set_rating(local_id, rating=rating, winner=winner, note=note)
    return history[local_id]
