"""What reaches the terminal besides the answer: log records and warnings as one sentence each,
and progress (a tqdm bar on a terminal, status lines otherwise)."""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Any, TextIO


class _OneLineFormatter(logging.Formatter):
    """A log record as one line, without its traceback (the terminal is for sentences)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"kling-studio: {' '.join(record.getMessage().split())}"


def log_in_one_line() -> None:
    logger = logging.getLogger("kling_studio")
    if not any(isinstance(h.formatter, _OneLineFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_OneLineFormatter())
        handler.setLevel(logging.ERROR)  # warnings the user needs reach the cards and the end
        logger.addHandler(handler)
        logger.propagate = False


def warnings_in_one_line() -> None:
    """A budget with action=warn says so in one sentence on stderr, like every other line."""

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        print(f"kling-studio: warning: {' '.join(str(message).split())}", file=sys.stderr)

    warnings.showwarning = show


class ProgressDisplay:
    """A tqdm bar on a terminal; status lines otherwise (for logs)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bars: dict[str, Any] = {}
        self._last: dict[str, str] = {}

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        for bar in self._bars.values():
            bar.close()

    def update(self, card: dict[str, Any]) -> None:
        local_id, status = card["local_id"], card["status"]
        if not self.enabled:
            if self._last.get(local_id) != status:
                self._last[local_id] = status
                print(f"{card.get('task_id') or local_id}: {status}", file=sys.stderr)
            return
        from tqdm import tqdm

        bar = self._bars.get(local_id)
        if bar is None:
            bar = self._bars[local_id] = tqdm(
                total=100, unit="%", file=sys.stderr, desc=card["prompt"][:24], leave=True
            )
        bar.n = int(card["progress"])
        bar.set_postfix_str(status)
        bar.refresh()
