"""What a request will cost before it is sent.

FoxAPI publishes no price list here: the estimate is the credits FoxAPI reserved for the last
task with the same billing settings, else a price table the user passes, else unknown (and said
so). The seed page says 4k is billed without regard to audio and voices, so those two drop out
of a 4k task's billing key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

from .. import contract as c
from ..errors import InputError
from ._budget import limit_number

if TYPE_CHECKING:
    from ..models import VideoRequest


class BillingKey(NamedTuple):
    """The settings a task's price depends on."""

    model: str
    resolution: str
    duration: int
    generate_audio: bool
    voices: int

    def describe(self) -> str:
        extras = []
        if self.generate_audio:
            extras.append("audio")
        if self.voices:
            extras.append(f"{self.voices} voice{'s' if self.voices > 1 else ''}")
        tail = f" + {' + '.join(extras)}" if extras else ""
        return f"{self.resolution} {self.duration} s{tail}"


def billing_key(
    *,
    model: str | None,
    resolution: str | None,
    duration: int | None,
    generate_audio: bool | None,
    voices: int,
) -> BillingKey:
    resolution = resolution or c.DEFAULT_RESOLUTION
    audio = bool(generate_audio)
    if resolution in c.BILLING_IGNORES_AUDIO_AT:
        audio, voices = False, 0
    return BillingKey(
        model or c.MODEL_IMAGE_TO_VIDEO,
        resolution,
        int(duration or c.DEFAULT_DURATION),
        audio,
        int(voices),
    )


def billing_key_of(request: VideoRequest) -> BillingKey:
    """The billing settings of a request (its effective resolution and duration)."""
    return billing_key(
        model=request.model,
        resolution=request.effective_resolution,
        duration=request.effective_duration,
        generate_audio=request.generate_audio,
        voices=len(request.voice_ids or ()),
    )


PriceTable = Mapping[BillingKey, float] | Callable[[BillingKey], float | None]
Source = Literal["last task", "price table", "unknown"]


@dataclass(frozen=True)
class Estimate:
    """The credits a request is expected to reserve, and where the figure comes from."""

    key: BillingKey
    credits: float | None
    source: Source

    def describe(self) -> str:
        if self.credits is None:
            return f"cost unknown for {self.key.describe()} (no task with these settings yet)"
        return f"about {self.credits:g} credits ({self.source}, {self.key.describe()})"


def estimate(
    key: BillingKey,
    seen: Iterable[tuple[BillingKey, float]],
    prices: PriceTable | None = None,
) -> Estimate:
    """`seen`: (key, credits FoxAPI reserved), newest first. The last real figure wins over the
    table: it is what FoxAPI charges today."""
    for seen_key, credits in seen:
        if seen_key == key:
            return Estimate(key, float(credits), "last task")
    if prices is not None:
        price = prices(key) if callable(prices) else prices.get(key)
        if price is not None:
            what = f"the price table's figure for {key.describe()}"
            return Estimate(key, limit_number(price, what, "prices"), "price table")
    return Estimate(key, None, "unknown")


def check_prices(prices: object) -> PriceTable | None:
    """A price table as given (`prices=`), checked when it enters: a mapping of BillingKey to
    finite credits >= 0, or a function of a BillingKey (its answers are checked as they come,
    in `estimate`)."""
    if prices is None or callable(prices):
        return prices
    if not isinstance(prices, Mapping):
        raise InputError(
            "prices is a mapping {BillingKey: credits} or a function of a BillingKey; "
            f"got {type(prices).__name__}",
            "prices",
        )
    for key, price in prices.items():
        if not isinstance(key, BillingKey):
            raise InputError(
                "prices is keyed by kling_studio.budget.BillingKey (see billing_key()); "
                f"got {key!r}",
                "prices",
            )
        limit_number(price, f"the price table's figure for {key.describe()}", "prices")
    return prices
