"""The one vocabulary of task statuses, for the history, the runner, every view and the front end.

FoxAPI reports five words (docs/contract.md section 2: the seed's four plus `cancelled` from an
older page). The history adds three of its own, and a comparison two for variants that have no
task yet. What a person sees is smaller still (`shown`): a refused create and a cancelled task
are both "failed", with the error saying why. The front end receives these words from
`js/protocol.gen.ts`, generated from this module.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal, cast


class Status(StrEnum):
    """Every status word a task or a comparison variant can carry."""

    SUBMITTING = "submitting"  # journalled; the create is about to be (or is being) sent
    PENDING = "pending"  # FoxAPI accepted the task and queued it
    PROCESSING = "processing"  # FoxAPI is rendering it
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"  # the create was sent but its answer was lost: a task may exist (billed)
    REJECTED = "rejected"  # FoxAPI refused the create (e.g. HTTP 402/422): no task exists
    QUEUED = "queued"  # a comparison variant waiting for a slot of its grid
    NOT_SENT = "not_sent"  # a comparison variant whose run stopped before it was started


# The history's statuses, in order (the categorical order of `History.df()`).
RECORD_STATUSES: Final = (
    Status.SUBMITTING,
    Status.PENDING,
    Status.PROCESSING,
    Status.COMPLETED,
    Status.FAILED,
    Status.CANCELLED,
    Status.UNKNOWN,
    Status.REJECTED,
)
# What FoxAPI may say (anything else is read as "still working").
SERVER_STATUSES: Final = frozenset(
    {Status.PENDING, Status.PROCESSING, Status.COMPLETED, Status.FAILED, Status.CANCELLED}
)
# FoxAPI's final words: a task in one of these is never polled again.
SERVER_TERMINAL: Final = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})
# A record in one of these never changes status again.
TERMINAL: Final = SERVER_TERMINAL | {Status.REJECTED}
# Still on its way: the runner (or a resume) follows these.
ACTIVE: Final = frozenset({Status.SUBMITTING, Status.PENDING, Status.PROCESSING})

# What a person sees, in cards, history rows, comparison cells, the CLI and the DataFrames.
SHOWN: Final = (
    Status.SUBMITTING,
    Status.PENDING,
    Status.PROCESSING,
    Status.COMPLETED,
    Status.FAILED,
    Status.UNKNOWN,
    Status.QUEUED,
    Status.NOT_SENT,
)
_SHOWN_AS: Final = {Status.REJECTED: Status.FAILED, Status.CANCELLED: Status.FAILED}
# The same words as types (the front end's `TaskStatus` and `RecordStatus`); a test keeps them
# equal to the tuples above.
ShownStatus = Literal[
    "submitting", "pending", "processing", "completed", "failed", "unknown", "queued", "not_sent"
]
RecordStatus = Literal[
    "submitting", "pending", "processing", "completed", "failed", "cancelled", "unknown", "rejected"
]
# Shown with a progress bar and a running clock (`unknown` too: kling-studio keeps looking).
TICKING: Final = frozenset(
    {Status.QUEUED, Status.SUBMITTING, Status.PENDING, Status.PROCESSING, Status.UNKNOWN}
)


def shown(status: str) -> ShownStatus:
    """The word a person sees for a status (a word outside the vocabulary reads as `unknown`)."""
    try:
        word = Status(status)
    except ValueError:
        word = Status.UNKNOWN
    return cast(ShownStatus, str(_SHOWN_AS.get(word, word)))
