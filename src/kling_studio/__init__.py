"""kling-studio: image-to-video with Kling V3 through FoxAPI, from Python, a CLI or a notebook.

from kling_studio import Client, Studio, Simulator
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .client import AsyncClient, Client, PollPolicy
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    CreateOutcomeUnknown,
    DownloadError,
    HistoryError,
    InputError,
    InsufficientQuotaError,
    KlingStudioError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
    TaskFailed,
    TransportError,
    UnprocessableEntityError,
    VideoExpiredError,
    WaitTimeout,
)
from .models import PreparedRequest, Segment, Task, TaskError, VideoRequest

if TYPE_CHECKING:
    from .history import History
    from .simulator import Simulator
    from .studio import Studio

__version__ = "0.1.0"

# The widget, the simulator and the history pull in heavier libraries (anywidget, uvicorn,
# pandas): imported on first use so `import kling_studio` stays quick for scripts.
_LAZY = {
    "Studio": ".studio",
    "Simulator": ".simulator",
    "History": ".history",
    "Runner": ".runner",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'kling_studio' has no attribute {name!r}")


__all__ = [
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConfigurationError",
    "CreateOutcomeUnknown",
    "DownloadError",
    "History",
    "HistoryError",
    "InputError",
    "InsufficientQuotaError",
    "KlingStudioError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PollPolicy",
    "PreparedRequest",
    "RateLimitError",
    "Segment",
    "ServerError",
    "ServiceUnavailableError",
    "Simulator",
    "Studio",
    "Task",
    "TaskError",
    "TaskFailed",
    "TransportError",
    "UnprocessableEntityError",
    "VideoExpiredError",
    "VideoRequest",
    "WaitTimeout",
]
