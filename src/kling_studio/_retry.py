"""The one retry timing rule: exponential backoff with jitter, and the server's Retry-After
(RFC 9110 section 10.2.3: seconds or an HTTP date) wins when it sent one, capped in contract.py.

Used by the API transport and by the video downloads alike.
"""

from __future__ import annotations

import email.utils
import random
import time

from . import contract as c


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date), capped; None if unusable."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if parsed is None:
            return None
        seconds = parsed.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, min(c.RETRY_AFTER_MAX_S, seconds))


class Backoff:
    """Exponential backoff with jitter; Retry-After wins when the server sent it."""

    def __init__(self, base: float = 0.25, cap: float = 8.0) -> None:
        self.base = base
        self.cap = cap

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt + 1` (attempt counts from 0)."""
        if retry_after is not None:
            return min(retry_after, c.RETRY_AFTER_MAX_S)
        return float(min(self.cap, self.base * 2**attempt) * random.uniform(0.5, 1.0))
