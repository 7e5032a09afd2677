"""Another program holding the history's SQLite write lock: a real second process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOLDER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")  # the write lock, as a DB browser mid-edit holds it
print("LOCKED", flush=True)
sys.stdin.readline()  # until told to let go
conn.execute("COMMIT")
print("RELEASED", flush=True)
"""


class LockHolder:
    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip() == "LOCKED", line

    def release(self) -> None:
        if self.process.poll() is not None:
            return
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "RELEASED"
        self.process.wait(10)


@contextmanager
def hold_write_lock(path: Path) -> Iterator[LockHolder]:
    """Hold the write lock of the SQLite file at `path` from another process until the block
    ends (or `release()` is called)."""
    holder = LockHolder(path)
    try:
        yield holder
    finally:
        holder.release()
        if holder.process.poll() is None:
            holder.process.kill()
