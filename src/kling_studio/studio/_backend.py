"""Which service a studio talks to: FoxAPI with a key, a class gateway (named in the environment
by the teacher), or the built-in simulator without a key."""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import resolve_service
from ..contract import PICTURE_MIN_SIDE

if TYPE_CHECKING:
    from ..simulator import Simulator

_shared: dict[float, Simulator] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Backend:
    """Where requests go. Holds the key only to hand it to the client; never shown."""

    mode: str  # "foxapi", "gateway" or "simulator"
    base_url: str
    api_key: str | None
    user: str | None = None  # the hub's name for the person, when the hub's token is the key

    @property
    def label(self) -> str:
        if self.mode == "simulator":
            # The front end's badge says why (no API key); the label says where, once.
            return f"Simulator at {self.base_url} — nothing is billed"
        if self.mode == "gateway":
            who = f" as {self.user}" if self.user else ""
            return f"Class gateway at {self.base_url}{who}"
        return f"FoxAPI at {self.base_url}"

    def public(self) -> dict[str, Any]:
        """What the front end may see: never the key."""
        return {"mode": self.mode, "base_url": self.base_url, "label": self.label}

    def __repr__(self) -> str:
        return f"Backend(mode={self.mode!r}, base_url={self.base_url!r})"


def shared_simulator(time_scale: float) -> Simulator:
    """One in-process simulator per time scale, shared by every studio of this kernel."""
    from ..simulator import Simulator

    with _lock:
        sim = _shared.get(time_scale)
        if sim is None:
            # Clips whose frames pass the picture rules: "continue from a result" sends one
            # back as the next first frame (the default 320 px wide 16:9 clip is 180 px high).
            sim = Simulator(time_scale=time_scale, render_min_side=PICTURE_MIN_SIDE)
            sim.start()
            atexit.register(sim.stop)
            _shared[time_scale] = sim
        return sim


def choose_backend(
    api_key: str | None = None,
    base_url: str | None = None,
    *,
    simulator: bool | None = None,
    time_scale: float = 0.2,
) -> Backend:
    """FoxAPI when a key is set (argument or FOXAPI_API_KEY), the class gateway when the
    environment names one (config.resolve_service), else the simulator.

    `simulator=True` forces the simulator even with a key; `False` refuses to fall back.
    """
    service = None if simulator else resolve_service(api_key, base_url)
    if service is None or (simulator is None and service.api_key is None):
        sim = shared_simulator(time_scale)
        return Backend("simulator", sim.base_url, sim.api_key)
    mode = "gateway" if service.gateway else "foxapi"
    return Backend(mode, service.base_url, service.api_key, service.user)
