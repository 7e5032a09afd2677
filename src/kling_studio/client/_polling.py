"""When to ask about a task again: paced by `estimated_time` and by how fast `progress` moves.

Fixed-interval polling either wastes requests (1 s) or notices the end late (6 s). This policy
polls rarely while the end is far, predicts the end from the progress readings, and tightens to a
short interval only around the predicted end. It is a pure function of what was observed, so it
is tested and benchmarked without a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PollPolicy:
    """Tuning knobs; the defaults are what `benchmarks/polling.py` measured best."""

    # First look at this fraction of the estimated time (one reading of progress is enough to
    # predict the end).
    first_look: float = 0.5
    # Before the predicted end, sleep this fraction of the predicted remaining time.
    approach: float = 0.8
    # Around and after the predicted end, poll every `tail_fraction` x estimate, clamped to
    # [min_interval, tail_max]: about 1 s for a 45 s task.
    tail_fraction: float = 0.022
    tail_max: float = 1.0
    min_interval: float = 0.05
    max_interval: float = 30.0
    # Used when the server gave no estimate.
    default_estimate: float = 60.0
    # An overrunning task is polled less and less often, up to this multiple of the tail.
    overrun_backoff_max: float = 4.0

    def tail(self, estimate: float) -> float:
        return min(self.tail_max, max(self.min_interval, estimate * self.tail_fraction))


@dataclass
class PollState:
    """What one waiter has seen of one task. Times are seconds on a monotonic clock."""

    start: float
    estimate: float | None = None
    samples: list[tuple[float, int]] = field(default_factory=list)

    def observe(self, at: float, progress: int) -> None:
        self.samples.append((at, progress))

    def predicted_end(self, policy: PollPolicy) -> float:
        """When the task should finish, from the readings of progress if any moved."""
        estimate = self.estimate or policy.default_estimate
        moving = [(t, p) for t, p in self.samples if 0 < p < 100]
        if len(moving) >= 2:
            # The rate over the whole run so far: two readings a second apart near the end
            # differ by a point or two of noise, which would predict the end far too late.
            (t1, p1), (t2, p2) = moving[0], moving[-1]
            if p2 > p1 and t2 > t1:
                rate = (p2 - p1) / (t2 - t1)
                return t2 + (100 - p2) / rate
        if moving:
            t, p = moving[-1]
            # One reading: assume progress grew evenly since the start (a little pessimistic,
            # since the queueing time counts as work; the next reading corrects it).
            return self.start + (t - self.start) * 100 / p
        return self.start + estimate


def next_delay(policy: PollPolicy, state: PollState, now: float) -> float:
    """Seconds to sleep before the next GET."""
    estimate = state.estimate or policy.default_estimate
    tail = policy.tail(estimate)
    if not state.samples:
        first = state.start + policy.first_look * estimate
        return _clamp(policy, first - now, tail)
    last_progress = state.samples[-1][1]
    if last_progress <= 0:
        # Still queued: look again at a fraction of the estimate, never busier than the tail.
        waited = now - state.start
        left = estimate - waited
        return _clamp(policy, max(left * policy.approach, estimate * 0.2), tail)
    remaining = state.predicted_end(policy) - now
    if remaining > 2 * tail:
        return _clamp(policy, remaining * policy.approach, tail)
    if remaining >= -estimate * 0.1:
        return tail
    # Overrunning the prediction: back off gently so a stuck task costs few requests.
    overrun = -remaining / estimate
    return min(policy.max_interval, tail * min(policy.overrun_backoff_max, 1 + 4 * overrun))


def _clamp(policy: PollPolicy, delay: float, tail: float) -> float:
    return min(policy.max_interval, max(tail, policy.min_interval, delay))
