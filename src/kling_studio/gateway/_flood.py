"""A flood guard per caller and replica: a token bucket per bearer token (hashed), so one
runaway loop gets 429s with Retry-After instead of starving the class. Memory only, on purpose:
it guards this process's loop, not money (budgets and the in-flight cap are in the database)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Final

RATE: Final = 50.0  # requests per second a caller keeps up (a polling class is far below)
BURST: Final = 200.0
MAX_CALLERS: Final = 10_000  # buckets kept; the oldest go first


@dataclass
class Flood:
    rate: float = RATE
    burst: float = BURST
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def hit(self, authorization: str) -> float | None:
        """Count one request; None if it may go on, else the seconds to wait."""
        who = hashlib.sha256(authorization.encode()).hexdigest()[:32]
        now = time.monotonic()
        tokens, at = self._buckets.pop(who, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1.0:
            self._buckets[who] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[who] = (tokens - 1.0, now)
        while len(self._buckets) > MAX_CALLERS:
            self._buckets.pop(next(iter(self._buckets)))
        return None
