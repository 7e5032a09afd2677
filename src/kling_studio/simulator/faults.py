"""Fault switches: what can go wrong, where, and how often.

A spec string is comma-separated ``kind=rate[@route[+route...]]`` items plus two options::

    "5xx=0.2,429=0.1@get,drop=0.3@create+upload,retry_after=0.5,slow_seconds=1"

Every draw comes from one seeded RNG, so a run with the same seed and the same requests
injects the same faults.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

ROUTES = ("create", "get", "upload", "files")
API_ROUTES = ("create", "get", "upload")

# Where each kind makes sense. "files" are the CDN downloads: no JSON there to garble.
KIND_ROUTES: dict[str, tuple[str, ...]] = {
    "5xx": ROUTES,
    "429": ROUTES,
    "drop": ROUTES,
    "slow": ROUTES,
    "malformed": API_ROUTES,
    "lost": ("create",),
    "fail": ("create",),
    "402": ("create",),
    # A 401 whose message quotes the token it was sent ("Invalid token: sk-...").
    "401": API_ROUTES,
    # "No such task" for a task that exists (a replica that has not seen it yet): flickers.
    "404": ("get",),
    # The body gzip-encoded (Content-Encoding: gzip) when the request accepts it.
    "gzip": ("files",),
    # Half the body, then a pause of stall_seconds, then the rest.
    "stall": ("files", "get"),
}
OPTIONS = ("retry_after", "slow_seconds", "stall_seconds")

# Answered instead of the real response, decided before the handler runs (so a create that
# gets one of these never makes a task). Checked in this order, first hit wins.
PRE_KINDS = ("drop", "5xx", "429", "402", "401", "404")
# Applied to the handler's answer (the task, if any, exists).
POST_KINDS = ("lost", "malformed")


@dataclass(frozen=True)
class FaultRule:
    kind: str
    rate: float
    routes: tuple[str, ...]


@dataclass(frozen=True)
class FaultConfig:
    """An immutable set of fault rules; build it with :meth:`parse` or :meth:`coerce`."""

    rules: tuple[FaultRule, ...] = ()
    retry_after: float | None = None  # None: derived from the simulator's time scale
    slow_seconds: float = 2.0
    stall_seconds: float = 30.0

    @classmethod
    def parse(cls, spec: str) -> FaultConfig:
        rules: list[FaultRule] = []
        options: dict[str, float] = {}
        for raw in spec.split(","):
            item = raw.strip()
            if not item:
                continue
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep:
                raise ValueError(f"fault item {item!r} is not kind=rate")
            if key in OPTIONS:
                options[key] = _number(value, item, minimum=0.0)
                continue
            rate_text, _, route_text = value.partition("@")
            rules.append(_rule(key, _number(rate_text, item, 0.0, 1.0), route_text, item))
        return cls(
            rules=tuple(rules),
            retry_after=options.get("retry_after"),
            slow_seconds=options.get("slow_seconds", 2.0),
            stall_seconds=options.get("stall_seconds", 30.0),
        )

    @classmethod
    def coerce(cls, value: FaultsLike) -> FaultConfig:
        """A FaultConfig from a spec string, a dict of spec items (``{"drop@create": 0.3}``)
        or a FaultConfig."""
        if value is None:
            return cls()
        if isinstance(value, FaultConfig):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, Mapping):
            if "spec" in value and len(value) == 1:
                return cls.coerce(value["spec"])  # type: ignore[arg-type]
            items = []
            for key, rate in value.items():
                kind, at, routes = str(key).partition("@")
                items.append(f"{kind}={rate}{at}{routes}")
            return cls.parse(",".join(items))
        raise TypeError(f"faults must be a spec string, a dict or a FaultConfig, not {value!r}")

    def to_spec(self) -> str:
        items = [f"{r.kind}={r.rate:g}@{'+'.join(r.routes)}" for r in self.rules]
        if self.retry_after is not None:
            items.append(f"retry_after={self.retry_after:g}")
        items.append(f"slow_seconds={self.slow_seconds:g}")
        if self.stall_seconds != 30.0:
            items.append(f"stall_seconds={self.stall_seconds:g}")
        return ",".join(items)


FaultsLike = FaultConfig | str | Mapping[str, object] | None


def _number(text: str, item: str, minimum: float, maximum: float | None = None) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"fault item {item!r}: {text!r} is not a number") from None
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f">= {minimum:g}" if maximum is None else f"between {minimum:g} and {maximum:g}"
        raise ValueError(f"fault item {item!r}: value must be {bounds}")
    return number


def _rule(kind: str, rate: float, route_text: str, item: str) -> FaultRule:
    if kind not in KIND_ROUTES:
        known = ", ".join([*KIND_ROUTES, *OPTIONS])
        raise ValueError(f"fault item {item!r}: unknown kind {kind!r} (known: {known})")
    allowed = KIND_ROUTES[kind]
    if not route_text:
        return FaultRule(kind, rate, tuple(r for r in API_ROUTES if r in allowed))
    routes = tuple(r.strip() for r in route_text.split("+"))
    for route in routes:
        if route not in allowed:
            raise ValueError(
                f"fault item {item!r}: {kind} cannot apply to {route!r} "
                f"(allowed: {', '.join(allowed)})"
            )
    return FaultRule(kind, rate, routes)


@dataclass(frozen=True)
class FaultPlan:
    """What one request gets, drawn when it arrives."""

    slow: bool = False
    pre: str | None = None  # one of PRE_KINDS
    post: str | None = None  # one of POST_KINDS
    fail: bool = False  # create only: the task will end failed
    gzip: bool = False  # the answer's body is gzip-encoded
    stall: bool = False  # the answer's body pauses half-way
    variant: int = 0  # a spare draw (500 vs 503, which error code, ...)


@dataclass
class FaultInjector:
    """Thread-safe: the config can be swapped from the caller's thread while requests run."""

    config: FaultConfig
    seed: int
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"faults:{self.seed}")
        self._lock = threading.Lock()

    def set(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config

    def plan(self, route: str) -> FaultPlan:
        with self._lock:
            hits: set[str] = set()
            # One draw per matching rule, in a fixed order: reproducible for a given seed.
            for rule in self.config.rules:
                if route in rule.routes and self._rng.random() < rule.rate:
                    hits.add(rule.kind)
            variant = self._rng.randrange(1 << 30)
        pre = next((k for k in PRE_KINDS if k in hits), None)
        post = next((k for k in POST_KINDS if k in hits), None) if pre is None else None
        return FaultPlan(
            slow="slow" in hits,
            pre=pre,
            post=post,
            fail="fail" in hits and pre is None,
            gzip="gzip" in hits,
            stall="stall" in hits,
            variant=variant,
        )

    def note(self, kind: str) -> None:
        """Count a fault that was actually applied."""
        with self._lock:
            self.injected[kind] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self.injected)
