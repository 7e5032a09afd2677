"""Every error kling-studio raises. None of them ever holds the API key.

API errors carry the request as method and path only (never the httpx.Request, whose headers hold
the key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._secrets import scrub, scrub_value

if TYPE_CHECKING:
    from .tasks import Task


class KlingStudioError(Exception):
    """Base class of every kling-studio error. Its text is scrubbed of every key in use, since
    much of it comes from servers (a 401 may quote the token it was sent)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(scrub(a) if isinstance(a, str) else a for a in args))


@dataclass(frozen=True)
class Problem:
    """One broken rule: which field, what is wrong and what to do about it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InputError(KlingStudioError, ValueError):
    """The input breaks a rule of the contract. Raised before any request is sent."""

    def __init__(self, problems: list[Problem] | Problem | str, field: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(field or "input", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self._text())

    @property
    def field(self) -> str:
        return self.problems[0].field if self.problems else "input"

    def _text(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = "\n".join(f"- {p}" for p in self.problems)
        return f"{len(self.problems)} problems with the request:\n{lines}"


class ConfigurationError(KlingStudioError, ValueError):
    """A setting (key, base URL, data folder) is missing or malformed."""


class APIError(KlingStudioError):
    """An HTTP error answer from FoxAPI, with its documented envelope."""

    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        method: str | None = None,
        path: str | None = None,
        task_id: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        if status_code is not None:
            self.status_code = status_code
        self.message = scrub(message)
        self.error_type = scrub(error_type)
        self.code = scrub(code)
        self.param = scrub(param)
        self.method = method
        self.path = path
        self.task_id = task_id
        self.retry_after = retry_after
        self.body = scrub_value(body)
        super().__init__(self._text())

    def _text(self) -> str:
        head = f"HTTP {self.status_code}" if self.status_code else "API error"
        if self.error_type:
            head += f" {self.error_type}"
        details = [f"{k}={v}" for k, v in (("code", self.code), ("param", self.param)) if v]
        if self.method and self.path:
            details.append(f"request: {self.method} {self.path}")
        if self.task_id:
            details.append(f"task: {self.task_id}")
        tail = f" ({', '.join(details)})" if details else ""
        return f"{head}: {self.message}{tail}"


class BadRequestError(APIError):
    """400: bad JSON or content type."""

    status_code = 400


class AuthenticationError(APIError):
    """401: missing, wrong or expired key."""

    status_code = 401


class InsufficientQuotaError(APIError):
    """402: the account's balance is too low."""

    status_code = 402


class NotFoundError(APIError):
    """404: no such task."""

    status_code = 404


class PayloadTooLargeError(APIError):
    """413: the upload is too large."""

    status_code = 413


class UnprocessableEntityError(APIError):
    """422: validation failed, unknown model, or no channel."""

    status_code = 422


class RateLimitError(APIError):
    """429: rate limited; `retry_after` holds the server's Retry-After when it sent one."""

    status_code = 429


class ServerError(APIError):
    """500 and other 5xx answers."""

    status_code = 500


class ServiceUnavailableError(ServerError):
    """503: no channel available / upstream error."""

    status_code = 503


ERROR_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientQuotaError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    500: ServerError,
    503: ServiceUnavailableError,
}


def error_class_for(status_code: int) -> type[APIError]:
    if status_code in ERROR_BY_STATUS:
        return ERROR_BY_STATUS[status_code]
    return ServerError if status_code >= 500 else APIError


class TransportError(KlingStudioError):
    """The server could not be reached or its answer could not be read, after every retry."""

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None) -> None:
        message = scrub(message)
        self.method = method
        self.path = path
        where = f" ({method} {path})" if method and path else ""
        super().__init__(f"{message}{where}")


class CreateOutcomeUnknown(KlingStudioError):
    """The create request may have been accepted, but its answer was lost or unusable.

    It is never re-sent automatically: one click must never be billed twice.
    """

    def __init__(
        self, reason: str, *, request_hash: str | None = None, task_id: str | None = None
    ) -> None:
        self.reason = scrub(reason)
        self.request_hash = request_hash
        # An id the answer carried but that cannot be followed (kept so it can be looked up).
        self.task_id = task_id
        super().__init__(
            "The create request was sent but whether it was accepted is unknown "
            f"({self.reason}); the task may exist and may be billed. It was NOT re-sent. "
            "Look for it in your FoxAPI dashboard or in kling-studio's history "
            "(History().df(status='unknown')) before submitting again."
        )


class TaskFailed(KlingStudioError):
    """Raised by `Task.raise_for_error()` for a task that ended failed or cancelled."""

    def __init__(self, task: Task) -> None:
        self.task = task
        err = task.error
        what = f"{err.code}: {err.message}" if err and err.code else (err.message if err else "")
        super().__init__(f"Task {task.id} {task.status}" + (f" — {what}" if what else ""))


class WaitTimeout(KlingStudioError, TimeoutError):
    """The total deadline passed before the task finished. The task goes on at FoxAPI."""

    def __init__(self, task_id: str, timeout: float, last: Task | None = None) -> None:
        self.task_id = task_id
        self.timeout = timeout
        self.last = last
        state = f" (last seen: {last.status}, {last.progress}%)" if last else ""
        super().__init__(
            f"Task {task_id} did not finish within {timeout:g} s{state}. It keeps running at "
            f"FoxAPI: call wait('{task_id}') again to pick it up."
        )


class VideoExpiredError(KlingStudioError):
    """The result URL no longer serves the video (FoxAPI keeps them 24 hours)."""

    def __init__(self, task_id: str | None, status_code: int) -> None:
        self.task_id = task_id
        self.status_code = status_code
        super().__init__(
            f"The video URL of task {task_id} answered HTTP {status_code}: result URLs expire "
            "24 hours after the task finished, and this one was not saved in time."
        )


class DownloadError(KlingStudioError):
    """A video could not be downloaded (after every retry), or what came was not a video."""


class HistoryError(KlingStudioError):
    """The history database is locked, corrupt or unwritable; nothing was overwritten."""


class VideoStoreError(KlingStudioError):
    """The video store (a folder or an S3 bucket) could not be read or written. It names the
    store, never a credential. `retryable`: the store was unreachable or refused the
    credentials, so the video is kept on this machine and uploaded once the store answers."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable
