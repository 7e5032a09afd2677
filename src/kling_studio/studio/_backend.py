"""Which service a studio talks to: FoxAPI with a key, or the built-in simulator without one."""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import resolve_api_key, resolve_base_url

if TYPE_CHECKING:
    from ..simulator import Simulator

_shared: dict[float, Simulator] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Backend:
    """Where requests go. Holds the key only to hand it to the client; never shown."""

    mode: str  # "foxapi" or "simulator"
    base_url: str
    api_key: str | None

    @property
    def label(self) -> str:
        if self.mode == "simulator":
            # The front end's badge says why (no API key); the label says where, once.
            return f"Simulator at {self.base_url} — nothing is billed"
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
            sim = Simulator(time_scale=time_scale)
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
    """FoxAPI when a key is set (argument or FOXAPI_API_KEY), else the simulator.

    `simulator=True` forces the simulator even with a key; `False` refuses to fall back.
    """
    key = resolve_api_key(api_key)
    if simulator or (simulator is None and key is None):
        sim = shared_simulator(time_scale)
        return Backend("simulator", sim.base_url, sim.api_key)
    return Backend("foxapi", resolve_base_url(base_url), key)
