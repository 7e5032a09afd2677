"""The parts one running simulator is made of, handed to the routes as one object."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .faults import FaultInjector
from .pipeline import Pipeline
from .render import Renderer
from .state import Store

DEFAULT_API_KEY = "sk-sim-kling-studio"


@dataclass
class SimContext:
    store: Store
    faults: FaultInjector
    pipeline: Pipeline
    renderer: Renderer
    api_keys: frozenset[str]
    uploads_dir: Path
    base_url: str = ""  # known once the socket is bound

    def retry_after(self) -> float:
        """Seconds a 429 asks the client to wait: the spec's option, else scaled, >= 0.05."""
        chosen = self.faults.config.retry_after
        return chosen if chosen is not None else max(0.05, self.store.time_scale)

    def stats(self) -> dict[str, Any]:
        numbers = self.store.snapshot()
        numbers["faults"] = self.faults.counts()
        numbers["fault_spec"] = self.faults.config.to_spec()
        with self.renderer.lock:
            numbers["renders"] = self.renderer.stats.as_dict()
        return numbers
