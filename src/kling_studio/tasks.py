"""A task as FoxAPI reports it: `Task` and `TaskError` (pydantic), read from every answer shape
CONTRACT.md lists, and `NotATask` for an answer without a usable task id.

Kept apart from the requests (models.py) so that building and checking a request, or importing
a client, does not pay for pydantic: a client imports this module with its first answer."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from . import contract as c
from ._secrets import scrub, scrub_value
from .errors import TaskFailed


# defer_build: the validators are built at the first use, not at import (same validation).
class TaskError(BaseModel):
    """Why a task failed, as the server said it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    code: str | None = None
    message: str = ""
    type: str | None = None


class Task(BaseModel):
    """A task as FoxAPI reports it, read from every result shape CONTRACT.md lists."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    status: str
    progress: int = 0
    estimated_time: float | None = None
    created: datetime | None = None
    model: str | None = None
    video_url: str | None = None
    video_urls: tuple[str, ...] = ()
    voice_id: str | None = None
    error: TaskError | None = None
    credits_reserved: float | None = None
    raw: dict[str, Any] = {}

    @classmethod
    def from_api(cls, data: Any) -> Task:
        """Read an answer; only the id is essential. A field that does not fit the contract is
        left unset rather than losing the task (raises NotATask only without a usable id)."""
        task_id = task_id_of(data)
        urls = _result_urls(data)
        info = data.get("task_info") if isinstance(data.get("task_info"), Mapping) else {}
        usage = data.get("usage") if isinstance(data.get("usage"), Mapping) else {}
        status = data.get("status")
        model = data.get("model")
        task = cls(
            id=task_id,
            status=status.strip().lower()
            if isinstance(status, str) and status.strip()
            else "pending",
            progress=_clamp_progress(data.get("progress")),
            estimated_time=_number(info.get("estimated_time")),
            created=_timestamp(data.get("created")),
            model=model if isinstance(model, str) else None,
            video_url=urls[0] if urls else None,
            video_urls=tuple(urls),
            voice_id=_voice_id(data),
            error=_error(data),
            credits_reserved=_number(usage.get("credits_reserved")),
            raw=scrub_value(dict(data)),
        )
        if task.succeeded and not urls and task.voice_id is None and task.error is None:
            # Completed with nothing to show: say so, rather than an empty message later.
            missing = TaskError(
                code="no_result",
                message="the server says the task is completed but its answer holds no video "
                f"URL; ask for it again later (get('{task_id}', sync_upstream=True)) — it is "
                "not billed twice by asking",
            )
            task = task.model_copy(update={"error": missing})
        return task

    @property
    def done(self) -> bool:
        return self.status in c.TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "completed"

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "cancelled")

    def raise_for_error(self) -> Task:
        """Return the task, or raise TaskFailed when it failed or was cancelled."""
        if self.failed:
            raise TaskFailed(self)
        return self

    def merged(self, newer: Task) -> Task:
        """Keep what a later answer leaves out (e.g. estimated_time only sent at create)."""
        keep: dict[str, Any] = {}
        if newer.estimated_time is None and self.estimated_time is not None:
            keep["estimated_time"] = self.estimated_time
        if newer.created is None and self.created is not None:
            keep["created"] = self.created
        return replace_model(newer, keep)


class NotATask(ValueError):
    """An answer that holds no usable task id. `task_id` is the id's text when there was one
    that cannot be followed (so it can still be looked up)."""

    def __init__(self, message: str, task_id: str | None = None) -> None:
        super().__init__(scrub(message))
        self.task_id = task_id


_TASK_ID = re.compile(c.TASK_ID_PATTERN)


def task_id_of(data: Any) -> str:
    """The task id of an answer, or NotATask saying what is wrong with it."""
    if not isinstance(data, Mapping):
        raise NotATask(f"the answer is {type(data).__name__}, not a JSON object")
    value = data.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None or value == "":
        err = data.get("error")
        if isinstance(err, Mapping) and err.get("message"):
            raise NotATask(f"the server answered with an error instead of a task: {err['message']}")
        raise NotATask("the answer holds no task id")
    if not isinstance(value, str):
        raise NotATask(f"the answer's id is a {type(value).__name__}, not a task id")
    if not _TASK_ID.fullmatch(value):
        raise NotATask(f"the answer's id {value[:80]!r} is not a usable task id", task_id=value)
    return value


def replace_model(task: Task, changes: dict[str, Any]) -> Task:
    return task.model_copy(update=changes) if changes else task


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _clamp_progress(value: Any) -> int:
    number = _number(value)
    return 0 if number is None else max(0, min(100, int(number)))


def _timestamp(value: Any) -> datetime | None:
    """Seconds, milli-, micro- or nanoseconds since 1970, or an ISO date; None otherwise."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    number = _number(value)
    if number is None or number < 0:
        return None
    while number > 1e11:  # later than the year 5000 in seconds: a finer unit
        number /= 1000
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _url_of(item: Any) -> str | None:
    if isinstance(item, str) and item:
        return item
    if isinstance(item, Mapping):
        for key in ("url", "video_url"):
            if isinstance(item.get(key), str) and item[key]:
                return str(item[key])
    return None


def _result_urls(data: Mapping[str, Any]) -> list[str]:
    """Every video URL, whichever shape carried it (results objects/strings/video_url, output)."""
    urls: list[str] = []
    results = data.get("results")
    if isinstance(results, list):
        urls.extend(u for u in map(_url_of, results) if u)
    elif (single := _url_of(results)) is not None:
        urls.append(single)
    output = data.get("output")
    if isinstance(output, Mapping):
        if (u := _url_of(output)) is not None:
            urls.append(u)
        if isinstance(output.get("urls"), list):
            urls.extend(u for u in output["urls"] if isinstance(u, str) and u)
    if isinstance(data.get("video_url"), str):
        urls.append(data["video_url"])
    return list(dict.fromkeys(urls))  # unique, in order


def _voice_id(data: Mapping[str, Any]) -> str | None:
    results = data.get("results")
    if isinstance(results, list):
        for item in results:
            if isinstance(item, Mapping) and isinstance(item.get("voice_id"), str):
                return str(item["voice_id"])
    return None


def _error(data: Mapping[str, Any]) -> TaskError | None:
    err = data.get("error")
    if isinstance(err, Mapping):
        return TaskError(
            code=scrub(str(err["code"])) if err.get("code") is not None else None,
            message=scrub(str(err.get("message") or "")),
            type=scrub(str(err["type"])) if err.get("type") is not None else None,
        )
    if isinstance(err, str) and err:
        return TaskError(message=scrub(err))
    if str(data.get("status", "")).lower() == "failed":
        return TaskError(message="the task failed and the server gave no reason")
    return None


__all__ = ["NotATask", "Task", "TaskError", "replace_model", "task_id_of"]
