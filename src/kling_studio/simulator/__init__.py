"""An offline FoxAPI: docs/contract.md over real HTTP on 127.0.0.1, real MP4s, fault switches.

Written from the contract, not from the client's models: nothing here imports the rest of
``kling_studio``, so tests of the client against it cannot agree with the client's own mistakes.
"""

from .context import DEFAULT_API_KEY
from .faults import FaultConfig
from .progress import CURVES
from .server import Simulator

PROGRESS_CURVES = tuple(CURVES)  # names for Simulator(progress=...), see progress.py

__all__ = ["DEFAULT_API_KEY", "PROGRESS_CURVES", "FaultConfig", "Simulator"]
