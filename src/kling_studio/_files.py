"""Writing a file whole or not at all, for every module that saves one.

The bytes go to a temporary file in the target's folder (the same file system, so the rename is
atomic), are flushed to disk, and are renamed onto the target: a reader sees the old file or the
new one, never half of one, and a failed or killed write leaves the old file as it was. Imports
nothing from the rest of the package, so any layer can use it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

PART_SUFFIX: Final = ".part"


def part_path(target: Path) -> Path:
    """A fresh temporary name beside `target`: hidden, unique per write, ending in `.part`."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}{PART_SUFFIX}")


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write the new contents of `target` to; when the block ends
    without an error, it replaces `target`. The folder is created when missing. On an error the
    temporary file is removed and `target` is untouched."""
    final = Path(target)
    final.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(final)
    try:
        yield part
        with open(part, "rb+") as written:  # on disk before the rename makes it visible
            os.fsync(written.fileno())
        os.replace(part, final)
    finally:
        part.unlink(missing_ok=True)
