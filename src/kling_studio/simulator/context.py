"""The parts one running simulator is made of, handed to the routes as one object."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .faults import FaultInjector
from .pipeline import Pipeline
from .progress import check_progress
from .render import Renderer
from .state import Store, check_result_shape

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

    def set_result_shape(self, shape: object) -> None:
        self.store.result_shape = check_result_shape(shape)

    def set_progress(self, name: object) -> None:
        curve = check_progress(name)
        with self.store.lock:
            self.store.curve = curve

    def set_balance(self, credits: object) -> None:
        """A number of credits (>= 0), or None for unlimited."""
        if credits is not None and (
            isinstance(credits, bool) or not isinstance(credits, int | float) or credits < 0
        ):
            raise ValueError("balance must be a number >= 0, or null for unlimited")
        with self.store.lock:
            self.store.balance = credits

    def set_upload_ttl(self, seconds: object) -> None:
        """Seconds an upload's link lives (>= 0), or None: as long as result links."""
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0
        ):
            raise ValueError("upload_ttl must be a number of seconds >= 0, or null")
        with self.store.lock:
            self.store.upload_ttl = None if seconds is None else float(seconds)

    def stats(self) -> dict[str, Any]:
        numbers = self.store.snapshot()
        numbers["faults"] = self.faults.counts()
        numbers["fault_spec"] = self.faults.config.to_spec()
        with self.renderer.lock:
            numbers["renders"] = self.renderer.stats.as_dict()
        return numbers
