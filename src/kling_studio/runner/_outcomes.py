"""What a create's failure proves about the task it asked for.

Once a create has left, the task may exist and be paid for: only an HTTP refusal, or a
connection that was never made, proves that no task exists (`rejected`). Anything else leaves
the outcome `unknown`, keeping any id the answer carried.
"""

from __future__ import annotations

import httpx

from ..budget import BudgetExceeded
from ..budget._wire import BUDGET_EXCEEDED
from ..errors import APIError, ConfigurationError, InputError, TransportError


def proves_no_task(exc: BaseException) -> bool:
    """Whether a create's failure proves that no task exists (so `rejected` is the truth)."""
    if isinstance(exc, APIError | ConfigurationError | InputError | BudgetExceeded):
        return True  # FoxAPI (or the class gateway's budget) refused it, or it was never sent
    if isinstance(exc, TransportError):
        # Only a connection that was never made proves it (the client retried and gave up);
        # a TransportError about an answer means the create arrived.
        return _caused_by(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    return False


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def task_id_in(exc: BaseException) -> str | None:
    """An id the create's answer carried, however the client reported that answer."""
    task_id = getattr(exc, "task_id", None)
    return task_id if isinstance(task_id, str) and task_id.strip() else None


def error_code(exc: BaseException) -> str:
    if isinstance(exc, BudgetExceeded):
        return BUDGET_EXCEEDED
    code = getattr(exc, "code", None) or getattr(exc, "error_type", None)
    status = getattr(exc, "status_code", None)
    return str(code or status or type(exc).__name__)
