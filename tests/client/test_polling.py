"""The polling policy on a virtual clock: few requests early, tight near the expected end."""

from __future__ import annotations

import math

import pytest

from kling_studio.client._polling import PollPolicy, PollState, next_delay

POLICY = PollPolicy()


def simulate(
    true_duration: float,
    estimate: float | None,
    *,
    pending: float = 1.0,
    noise: float = 0.0,
    policy: PollPolicy = POLICY,
) -> tuple[int, float]:
    """GETs spent and detection delay for one task whose progress grows linearly."""
    state = PollState(start=0.0, estimate=estimate)
    now, gets = 0.0, 0
    while True:
        now += next_delay(policy, state, now)
        gets += 1
        if now >= true_duration:
            return gets, now - true_duration
        run = max(0.0, now - pending) / max(1e-9, true_duration - pending)
        wobble = noise * math.sin(now * 7.3)
        progress = 0 if now < pending else max(1, min(99, int(100 * run + wobble)))
        state.observe(now, progress)
        assert gets < 500, "runaway polling"


@pytest.mark.parametrize("factor", [0.7, 0.85, 1.0, 1.2, 1.4])
def test_few_requests_and_quick_detection_around_the_estimate(factor: float) -> None:
    gets, delay = simulate(45 * factor, 45)
    assert gets <= 9, gets  # 1 s polling would spend about 45 * factor
    assert delay <= POLICY.tail(45) + 1e-9


def test_noisy_progress_still_detects_quickly() -> None:
    gets, delay = simulate(50, 45, noise=3.0)
    assert gets <= 12
    assert delay <= POLICY.tail(45) + 1e-9


def test_without_an_estimate_the_default_is_used() -> None:
    gets, delay = simulate(30, None)
    assert gets <= 10 and delay <= POLICY.tail(POLICY.default_estimate) + 1e-9


def test_a_stuck_task_costs_few_requests() -> None:
    # Progress stops at 51 % for ten minutes: 1 s polling would spend 600 requests.
    state = PollState(start=0.0, estimate=10.0)
    now, gets = 0.0, 0
    while now < 600:
        delay = next_delay(POLICY, state, now)
        assert POLICY.min_interval <= delay <= POLICY.max_interval
        now += delay
        gets += 1
        state.observe(now, min(51, int(now * 10)))
    assert gets <= 60, gets


def test_queued_task_is_not_hammered() -> None:
    state = PollState(start=0.0, estimate=45.0)
    state.observe(22.5, 0)
    assert next_delay(POLICY, state, 22.5) >= 0.2 * 45


def test_scaled_time_keeps_the_same_shape() -> None:
    # The simulator at time_scale 0.02: a 45 s task takes 0.9 s; requests stay just as few.
    gets, delay = simulate(0.9, 0.9, pending=0.02)
    assert gets <= 9 and delay <= POLICY.tail(0.9) + 1e-9


def test_delays_are_bounded() -> None:
    state = PollState(start=0.0, estimate=10_000.0)
    assert next_delay(POLICY, state, 0.0) == POLICY.max_interval
