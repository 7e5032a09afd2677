"""Progress curves: how long a task really takes against its estimate, and how `progress` moves.

FoxAPI's real curve is unknown (CONTRACT.md section 7); users of such APIs report several, so the
simulator can play each one (``Simulator(progress=NAME)``, ``kling-studio simulator --progress``):

- ``even``: progress grows evenly over the run, +-1.5 points of noise (the default).
- ``underestimated``: as ``even``, but the task takes twice its ``estimated_time``.
- ``overestimated``: as ``even``, but the task takes half its ``estimated_time``.
- ``queued``: "pending" with progress 0 for up to three estimates (uniform), then an ``even`` run.
- ``steps``: progress jumps 0 -> 25 -> 50 -> 75 -> 99 and sits at 99 for the last third.
- ``silent``: progress stays 0 until the task is done.
- ``stuck``: progress grows evenly as if the run took two thirds of its length, then sits at 99
  for the last third (progress that misleads: it predicts an end that does not come).

Every curve scatters the run around its nominal length the same way: a lognormal factor
(sigma 0.15, clipped to 0.7x..1.4x), drawn first from the task's own random stream so that the
same seed gives the same factor under every curve.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

SCATTER_SIGMA = 0.15
SCATTER_CLIP = (0.7, 1.4)
QUEUE_ESTIMATES = 3.0  # "queued": pending for up to this many estimates
STEPS = ((0.15, 25), (0.35, 50), (0.5, 75), (2 / 3, 99))  # (fraction of the run, progress)
STUCK_AT = 2 / 3  # "stuck": the fraction of the run at which progress reaches 99 and stays
NOISE = 1.5  # points of noise on "even" readings


@dataclass(frozen=True)
class Plan:
    """A task's timeline, decided when it is created (seconds from creation)."""

    duration: float  # to the true end
    pending_for: float  # shown as "pending" (progress 0) before "processing"


@dataclass(frozen=True)
class Curve:
    name: str
    length: float = 1.0  # the nominal run, in estimates
    queued: bool = False  # pending for up to QUEUE_ESTIMATES estimates first
    shape: str = "even"  # "even", "steps", "stuck" or "silent"

    def plan(self, estimate: float, rng: random.Random, queue_rng: random.Random) -> Plan:
        """Draws from `rng` exactly as the simulator always has (scatter, then pending share);
        the queue comes from a stream of its own, so later draws match the other curves'."""
        scatter = min(SCATTER_CLIP[1], max(SCATTER_CLIP[0], rng.lognormvariate(0.0, SCATTER_SIGMA)))
        run = estimate * self.length * scatter
        pending = run * rng.uniform(0.03, 0.08)
        if self.queued:
            queue = queue_rng.uniform(0.0, QUEUE_ESTIMATES) * estimate
            return Plan(duration=queue + run, pending_for=queue)
        return Plan(duration=run, pending_for=pending)

    def value(self, fraction: float, rng: random.Random, *, noisy: bool = True) -> int:
        """Progress (0..99) at this fraction of the run (0 at its start, 1 at its end)."""
        if self.shape == "silent":
            return 0
        if self.shape == "steps":
            return max((p for at, p in STEPS if fraction >= at), default=0)
        noise = rng.uniform(-NOISE, NOISE) if noisy else 0.0
        if self.shape == "stuck":
            fraction = min(1.0, fraction / STUCK_AT)
        return min(99, max(0, math.floor(100 * fraction + noise)))


CURVES = {
    curve.name: curve
    for curve in (
        Curve("even"),
        Curve("underestimated", length=2.0),
        Curve("overestimated", length=0.5),
        Curve("queued", queued=True),
        Curve("steps", shape="steps"),
        Curve("silent", shape="silent"),
        Curve("stuck", shape="stuck"),
    )
}
EVEN = CURVES["even"]


def check_progress(name: object) -> Curve:
    if not isinstance(name, str) or name not in CURVES:
        raise ValueError(f"progress must be one of {', '.join(CURVES)}")
    return CURVES[name]
