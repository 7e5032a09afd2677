"""kling-studio: image-to-video with Kling V3 through FoxAPI, from Python, a CLI or a notebook.

from kling_studio import Client, Studio, Simulator
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from .budget import Budget, BudgetExceeded, BudgetWarning
    from .client import AsyncClient, Client, PollPolicy
    from .history import History
    from .models import PreparedRequest, Segment, Task, TaskError, VideoRequest
    from .runner import Runner as Runner
    from .simulator import Simulator
    from .studio import Studio

__version__ = "0.1.0"

# Everything but the errors is imported on first use: the clients pull in httpx (and pydantic with
# their first answer), the widget anywidget, the simulator uvicorn, the history SQLAlchemy. So
# `import kling_studio` (a CLI's start, `except kling_studio.InputError`) stays quick;
# benchmarks/import_time.py measures it.
_LAZY = {
    "AsyncClient": ".client",
    "Client": ".client",
    "PollPolicy": ".client",
    "PreparedRequest": ".models",
    "Segment": ".models",
    "Task": ".models",
    "TaskError": ".models",
    "VideoRequest": ".models",
    "Studio": ".studio",
    "Simulator": ".simulator",
    "History": ".history",
    "Runner": ".runner",
    # Budgets: BudgetExceeded is a KlingStudioError, loaded with the (pure, small) budget rules.
    "Budget": ".budget",
    "BudgetExceeded": ".budget",
    "BudgetWarning": ".budget",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'kling_studio' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Budget",
    "BudgetExceeded",
    "BudgetWarning",
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
