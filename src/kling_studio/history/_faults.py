"""Faults of a history that callers tell apart (light: importing this loads no database code)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import HistoryError


class HistoryBusy(HistoryError):
    """A write could not be made now (another program holds the write lock, or the disk is
    full); the same write may succeed later. Nothing was written."""


class HistoryUnreachable(HistoryBusy):
    """The database server could not be reached (connection refused, closed or timed out): a
    blip, not a lost history, so the same write may succeed once the server answers again.
    Whether a commit cut short landed is not known: a retried write must be idempotent (the
    journal's are: each sets a task's fields)."""


class HistoryGone(HistoryError):
    """The history file was deleted or replaced while this program had it open: nothing more
    can be saved into it."""


def file_identity(path: Path) -> tuple[int, int] | None:
    """Which file `path` names now (device and inode), or None when there is none."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino
