"""Request and task types: every field of the contract, every rule, every result shape."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from . import contract as c
from ._secrets import scrub, scrub_value
from .errors import InputError, Problem, TaskFailed
from .pictures import PictureSource, describe_source


@dataclass(frozen=True)
class Segment:
    """One shot of a multi-prompt video."""

    prompt: str
    duration: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "duration", plain(self.duration))
        object.__setattr__(self, "prompt", plain(self.prompt))

    @classmethod
    def coerce(cls, value: Segment | Mapping[str, Any] | Sequence[Any]) -> Segment:
        if isinstance(value, Segment):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {"prompt", "duration", "index"}
            if unknown:
                raise InputError(
                    f"unknown segment keys {sorted(unknown)}; use prompt and duration",
                    field="multi_prompt",
                )
            return cls(prompt=value.get("prompt", ""), duration=value.get("duration", 0))
        if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
            return cls(prompt=value[0], duration=value[1])
        raise InputError(
            f"each segment is {{'prompt': str, 'duration': int}}, got {value!r:.80}",
            field="multi_prompt",
        )


@dataclass(frozen=True)
class VideoRequest:
    """Everything a Kling V3 image-to-video task takes, by the contract's names.

    `image` and `image_tail` are pictures: an http(s) URL, a local path, bytes or a PIL image.
    Optional fields left as None are not sent (the seed: "don't send them unless needed").
    """

    prompt: str
    image: PictureSource
    image_tail: PictureSource | None = None
    resolution: str | None = None
    duration: int | None = None
    generate_audio: bool | None = None
    negative_prompt: str | None = None
    voice_ids: tuple[str, ...] | None = None
    multi_prompt: tuple[Segment, ...] | None = None
    model: str = c.MODEL_IMAGE_TO_VIDEO

    def __post_init__(self) -> None:
        # Values from pandas or numpy (np.int64(5), np.bool_(True)) mean what they say.
        for name in ("prompt", "resolution", "duration", "generate_audio", "negative_prompt"):
            object.__setattr__(self, name, plain(getattr(self, name)))
        if isinstance(self.voice_ids, tuple | list):
            object.__setattr__(self, "voice_ids", tuple(plain(v) for v in self.voice_ids))

    @classmethod
    def check_names(cls, names: Iterable[str]) -> None:
        """Refuse names that are not fields, suggesting the closest one."""
        import difflib

        known = sorted(f.name for f in fields(cls))
        unknown = sorted(set(names) - set(known))
        if unknown:
            hints = [
                f"{name!r} (did you mean {close[0]!r}?)"
                if (close := difflib.get_close_matches(name, known, n=1))
                else repr(name)
                for name in unknown
            ]
            raise InputError(
                f"unknown field(s) {', '.join(hints)}; the contract's fields are "
                f"{', '.join(known)}",
                field=unknown[0],
            )

    @classmethod
    def build(cls, **kwargs: Any) -> VideoRequest:
        """Build from keyword arguments, normalising lists; unknown names are refused."""
        cls.check_names(kwargs)
        if kwargs.get("voice_ids") is not None:
            ids = kwargs["voice_ids"]
            kwargs["voice_ids"] = (ids,) if isinstance(ids, str) else tuple(ids)
        if kwargs.get("multi_prompt") is not None:
            mp = kwargs["multi_prompt"]
            if isinstance(mp, str | bytes) or not isinstance(mp, Iterable):
                raise InputError("multi_prompt is a list of segments", field="multi_prompt")
            kwargs["multi_prompt"] = tuple(Segment.coerce(s) for s in mp)
        return cls(**kwargs)

    def with_changes(self, **changes: Any) -> VideoRequest:
        """A copy with some fields changed (remix)."""
        merged = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        return VideoRequest.build(**merged)

    @property
    def effective_duration(self) -> int:
        return self.duration if self.duration is not None else c.DEFAULT_DURATION

    @property
    def effective_resolution(self) -> str:
        return self.resolution if self.resolution is not None else c.DEFAULT_RESOLUTION

    def problems(self) -> list[Problem]:
        """Every rule of CONTRACT.md sections 1 and 6 that the fields (not the pictures) break."""
        out: list[Problem] = []
        add = out.append
        if not isinstance(self.model, str) or not self.model:
            add(Problem("model", f"must be a model name such as {c.MODEL_IMAGE_TO_VIDEO!r}"))
        if not isinstance(self.prompt, str):
            add(Problem("prompt", f"must be text, got {type(self.prompt).__name__}"))
        elif not self.prompt.strip():
            add(Problem("prompt", "is required: describe the video you want"))
        elif len(self.prompt) > c.PROMPT_MAX_CHARS:
            add(
                Problem(
                    "prompt",
                    f"is {len(self.prompt):,} characters; the limit is "
                    f"{c.PROMPT_MAX_CHARS:,}; shorten it by "
                    f"{len(self.prompt) - c.PROMPT_MAX_CHARS:,}",
                )
            )
        if self.image is None:
            add(Problem("image", "is required: the first frame (URL, path, bytes or PIL image)"))
        if self.resolution is not None and self.resolution not in c.RESOLUTIONS:
            add(
                Problem(
                    "resolution",
                    f"must be one of {', '.join(c.RESOLUTIONS)}; got {self.resolution!r}",
                )
            )
        if self.duration is not None and (
            isinstance(self.duration, bool)
            or not isinstance(self.duration, int)
            or self.duration not in c.DURATIONS
        ):
            add(
                Problem(
                    "duration",
                    f"must be {' or '.join(map(str, c.DURATIONS))} seconds (an integer); "
                    f"got {self.duration!r}",
                )
            )
        if self.generate_audio is not None and not isinstance(self.generate_audio, bool):
            add(Problem("generate_audio", f"must be True or False; got {self.generate_audio!r}"))
        if self.negative_prompt is not None:
            if not isinstance(self.negative_prompt, str):
                add(Problem("negative_prompt", "must be text (comma-separated terms)"))
            elif len(self.negative_prompt) > c.NEGATIVE_PROMPT_MAX_CHARS:
                add(
                    Problem(
                        "negative_prompt",
                        f"is {len(self.negative_prompt):,} characters; the limit is "
                        f"{c.NEGATIVE_PROMPT_MAX_CHARS:,}",
                    )
                )
        out.extend(self._voice_problems())
        out.extend(self._segment_problems())
        return out

    def _voice_problems(self) -> list[Problem]:
        if self.voice_ids is None:
            return []
        out = []
        ids = self.voice_ids
        if len(ids) > c.VOICES_MAX:
            out.append(Problem("voice_ids", f"at most {c.VOICES_MAX} voices; got {len(ids)}"))
        if any(not isinstance(v, str) or not v.strip() for v in ids):
            out.append(Problem("voice_ids", "each voice id is a non-empty string"))
        if ids and self.generate_audio is not True:
            out.append(
                Problem(
                    "voice_ids",
                    "need generate_audio=True (voices are only used in videos with sound)",
                )
            )
        return out

    def _segment_problems(self) -> list[Problem]:
        if self.multi_prompt is None:
            return []
        segs = self.multi_prompt
        out = []
        if not c.SEGMENTS_MIN <= len(segs) <= c.SEGMENTS_MAX:
            out.append(
                Problem(
                    "multi_prompt",
                    f"takes {c.SEGMENTS_MIN} to {c.SEGMENTS_MAX} segments; got {len(segs)}",
                )
            )
        for i, seg in enumerate(segs, start=1):
            where = f"multi_prompt[{i}]"
            if not isinstance(seg.prompt, str) or not seg.prompt.strip():
                out.append(Problem(where, "needs a prompt"))
            elif len(seg.prompt) > c.SEGMENT_PROMPT_MAX_CHARS:
                out.append(
                    Problem(
                        where,
                        f"prompt is {len(seg.prompt):,} characters; the limit is "
                        f"{c.SEGMENT_PROMPT_MAX_CHARS}",
                    )
                )
            if isinstance(seg.duration, bool) or not isinstance(seg.duration, int):
                out.append(Problem(where, f"duration must be whole seconds; got {seg.duration!r}"))
            elif seg.duration < c.SEGMENT_MIN_SECONDS:
                out.append(
                    Problem(where, f"lasts at least {c.SEGMENT_MIN_SECONDS} s; got {seg.duration}")
                )
        durations = [s.duration for s in segs if isinstance(s.duration, int)]
        if segs and len(durations) == len(segs) and sum(durations) != self.effective_duration:
            out.append(
                Problem(
                    "multi_prompt",
                    f"segment durations add up to {sum(durations)} s but duration is "
                    f"{self.effective_duration} s; they must be equal",
                )
            )
        return out

    def check(self) -> None:
        """Raise InputError listing every broken field rule (pictures are checked on loading)."""
        problems = self.problems()
        if problems:
            raise InputError(problems)

    def payload(self, image_url: str, image_tail_url: str | None) -> dict[str, Any]:
        """The JSON body of the create request; fields that are not set are left out."""
        body: dict[str, Any] = {"model": self.model, "prompt": self.prompt, "image_url": image_url}
        if image_tail_url is not None:
            body["image_tail_url"] = image_tail_url
        if self.resolution is not None:
            body["resolution"] = self.resolution
        if self.duration is not None:
            body["duration"] = self.duration
        if self.generate_audio is not None:
            body["generate_audio"] = self.generate_audio
        if self.negative_prompt:
            body["negative_prompt"] = self.negative_prompt
        if self.voice_ids:
            body["voice_ids"] = list(self.voice_ids)
        if self.multi_prompt:
            body["multi_prompt"] = [
                segment_wire(i, seg) for i, seg in enumerate(self.multi_prompt, start=0)
            ]
        return body

    def describe(self) -> dict[str, Any]:
        """JSON-safe settings for the history and the widget (pictures as short descriptions)."""
        return {
            "model": self.model,
            "prompt": self.prompt,
            "image": describe_source(self.image),
            "image_tail": describe_source(self.image_tail) if self.image_tail is not None else None,
            "resolution": self.resolution,
            "duration": self.duration,
            "generate_audio": self.generate_audio,
            "negative_prompt": self.negative_prompt,
            "voice_ids": list(self.voice_ids) if self.voice_ids else None,
            "multi_prompt": (
                [{"prompt": s.prompt, "duration": s.duration} for s in self.multi_prompt]
                if self.multi_prompt
                else None
            ),
        }


def plain(value: Any) -> Any:
    """A numpy scalar (what a DataFrame hands back) as the Python value it holds."""
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        return value.item()
    return value


def segment_wire(position: int, seg: Segment) -> dict[str, Any]:
    """One multi_prompt item as sent (the decision lives in contract.py)."""
    item: dict[str, Any] = {"prompt": seg.prompt, "duration": int(seg.duration)}
    if c.MULTI_PROMPT_SENDS_INDEX:
        item = {"index": position + c.MULTI_PROMPT_INDEX_BASE, **item}
    return item


def request_hash(payload: Mapping[str, Any]) -> str:
    """A stable hash of what a create would send: equal hashes mean the same paid request."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class PreparedRequest:
    """A checked request whose pictures are public URLs: exactly the body a create sends.

    `identity` is the payload with each uploaded picture's URL replaced by the hash of its
    bytes, so the same pictures and settings give the same `hash` in every session (A/B reuse).
    """

    request: VideoRequest
    payload: dict[str, Any]
    identity: dict[str, Any] | None = None
    hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hash", request_hash(self.identity or self.payload))


class TaskError(BaseModel):
    """Why a task failed, as the server said it."""

    model_config = ConfigDict(frozen=True)

    code: str | None = None
    message: str = ""
    type: str | None = None


class Task(BaseModel):
    """A task as FoxAPI reports it, read from every result shape CONTRACT.md lists."""

    model_config = ConfigDict(frozen=True)

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


__all__ = [
    "NotATask",
    "PreparedRequest",
    "Segment",
    "Task",
    "TaskError",
    "VideoRequest",
    "request_hash",
]
