"""When to ask about a task again, from what its readings have shown so far.

Fixed-interval polling either wastes requests (1 s) or notices the end late (6 s). This policy
estimates *when the task will end* from what it has observed, and polls densely (every `tail`
seconds) only where the end is likely, rarely elsewhere. Two estimates, the better one first:

- **Progress.** While `progress` moves and keeps moving, it predicts the end: the rate over the
  widest baseline of moving readings, extrapolated to 100. The waiter sleeps most of the way to
  the predicted end, reads again, and tightens to `tail` around it.
- **Time.** When progress says nothing (it never moved, or it stopped: a plateau such as a long
  99, which is then treated exactly as no progress), the end is `estimated_time` after the run
  began, give or take the spread of real
  durations around estimates (`estimate_spread`, a lognormal sigma). The waiter sleeps to the
  start of that window and polls every `tail` inside it. A run begins after the last "pending"
  reading, so a task queued for minutes is asked about rarely until it leaves the queue.

It is a pure function of the readings (time, progress, status), tested on a virtual clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class PollPolicy:
    """Tuning knobs; the defaults are what `benchmarks/polling.py` measured best."""

    # First look at this fraction of the estimated time: early enough to catch a task that
    # takes half its estimate, late enough that progress has moved on a normal one.
    first_look: float = 0.3
    # Before a predicted end, sleep this fraction of the time left (re-predicting on the way).
    approach: float = 0.8
    # With a single moving reading the rate is a guess: sleep this fraction, and never past
    # where the estimate alone would look (a step that predicts a late end must not delay).
    approach_single: float = 0.9
    # Dense polling interval: `tail_fraction` x estimate, clamped to [min_interval, tail_max].
    # The detection delay where the end is expected is at most about this.
    tail_fraction: float = 0.05
    tail_max: float = 1.4
    min_interval: float = 0.05
    max_interval: float = 30.0
    # Used when the server gave no estimate.
    default_estimate: float = 60.0
    # Real durations against the estimate: log(true / estimate) has this spread (sigma). Dense
    # polling starts `early_sigmas` before the estimate and goes on to `late_sigmas` after it:
    # polls late in the window are cheap (most tasks have ended), polls early are paid by all.
    estimate_spread: float = 0.15
    early_sigmas: float = 1.65
    late_sigmas: float = 3.0
    # While the task is "pending" (queued), look again every this fraction of the estimate.
    queue_look: float = 0.5
    # A reading can be off by this many points (noise, rounding down): the end may come this
    # much progress sooner than predicted, so dense polling starts that much earlier.
    progress_noise: float = 2.0
    # Progress is taken as stalled (it no longer predicts the end) once it has sat on one
    # value for as long as the fitted rate needs to move this many points.
    stall_points: float = 4.0
    # Past the expected window, the end could be anywhere: each interval adds this fraction
    # of the time overrun so far, so a stuck task costs few requests.
    overrun_backoff: float = 0.1

    def tail(self, estimate: float) -> float:
        return min(self.tail_max, max(self.min_interval, estimate * self.tail_fraction))


class Reading(NamedTuple):
    at: float  # monotonic seconds, when the answer arrived
    progress: int
    status: str | None  # None when the caller did not say


@dataclass
class PollState:
    """What one waiter has seen of one task. Times are seconds on a monotonic clock."""

    start: float
    estimate: float | None = None
    readings: list[Reading] = field(default_factory=list)

    def observe(self, at: float, progress: int, status: str | None = None) -> None:
        self.readings.append(Reading(at, progress, status))

    def run_began(self) -> tuple[float, float]:
        """Earliest and latest moment the run (after any queue) may have begun; the latest is
        infinite while the last reading is still "pending"."""
        pending = [r.at for r in self.readings if r.status == "pending"]
        if not pending:
            return self.start, self.start
        last = pending[-1]
        after = [r.at for r in self.readings if r.at > last]
        return last, (after[0] if after else math.inf)

    def progress_end(self, policy: PollPolicy) -> tuple[float, float, bool] | None:
        """(predicted end, earliest likely end, from a single progress value?) while progress
        moves; None when it never moved or has stalled, i.e. says nothing about the end."""
        estimate = self.estimate or policy.default_estimate
        moving = [r for r in self.readings if 0 < r.progress < 100]
        if not moving:
            return None
        first, last = moving[0], moving[-1]
        single = last.progress <= first.progress or last.at <= first.at
        if single:
            # One value: as if progress grew evenly since the run began, but never slower than
            # the estimate says (a long queue before it would make it look very slow).
            began = self.run_began()[0]
            rate = max(last.progress / max(1e-9, last.at - began), 100 / estimate)
        else:
            # The widest baseline: readings close together near the end differ by noise.
            rate = (last.progress - first.progress) / (last.at - first.at)
        since = next(r.at for r in moving if r.progress == last.progress)
        newest = self.readings[-1].at
        if (newest - since) * rate >= policy.stall_points:
            return None
        end = last.at + (100 - last.progress) / rate
        return end, end - policy.progress_noise / rate, single

    def time_window(self, policy: PollPolicy) -> tuple[float, float]:
        """Where the end is likely when only the estimate is to go by. A task that ends up to
        one tail before the window opens is still noticed in time, so the window opens one
        tail after the early quantile: what is missed is the same share at any estimate."""
        estimate = self.estimate or policy.default_estimate
        began_lo, began_hi = self.run_began()
        early = math.exp(-policy.early_sigmas * policy.estimate_spread)
        late = math.exp(policy.late_sigmas * policy.estimate_spread)
        return began_lo + estimate * early + policy.tail(estimate), began_hi + estimate * late


def next_delay(policy: PollPolicy, state: PollState, now: float) -> float:
    """Seconds to sleep before the next GET."""
    estimate = state.estimate or policy.default_estimate
    tail = policy.tail(estimate)
    if not state.readings:
        return _clamp(policy, state.start + policy.first_look * estimate - now, tail)
    if state.run_began()[1] == math.inf:
        # Still queued: nothing can end before the run has begun and lasted a while.
        return _clamp(policy, policy.queue_look * estimate, tail)
    predicted = state.progress_end(policy)
    if predicted is not None:
        _, soonest, single = predicted
        remaining = soonest - now
        if remaining <= tail:
            return tail
        if not single:
            return _clamp(policy, remaining * policy.approach, tail)
        # One value (a first reading, or a step): its rate is a guess that may put the end
        # late; never sleep past where the estimate alone would look.
        guess = _clamp(policy, remaining * policy.approach_single, tail)
        return min(guess, _time_delay(policy, state, now, tail))
    return _time_delay(policy, state, now, tail)


def _time_delay(policy: PollPolicy, state: PollState, now: float, tail: float) -> float:
    """The sleep when only the estimate is to go by (no progress, or progress that stalled)."""
    low, high = state.time_window(policy)
    if now < low - tail:
        last = state.readings[-1].progress
        if 0 < last < 100 - 1 - policy.progress_noise:
            # A plateau below the top (steps) may jump again, and a jump predicts the end:
            # approach, to read it soon after.
            return _clamp(policy, (low - now) * policy.approach, tail)
        # No progress, or progress stopped at the top (a long 99) where no move is left to
        # predict with: the sleep of a task that never reported any, so misleading progress
        # never costs more than none.
        return _clamp(policy, low - now, tail)
    if now <= high:
        return tail
    # Later than the estimate allows: back off gently so a stuck task costs few requests.
    return _clamp(policy, tail + policy.overrun_backoff * (now - high), tail)


def _clamp(policy: PollPolicy, delay: float, tail: float) -> float:
    return min(policy.max_interval, max(tail, policy.min_interval, delay))
