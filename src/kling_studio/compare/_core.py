"""A/B comparisons: a grid of variants, run once each, judged side by side.

- `plan_grid` turns a base request and a few axes (prompts x negative prompts x resolutions x
  durations x pictures, or an explicit list of variants) into labelled variants. Every rule is
  checked and every local picture read here, so a broken grid fails before anything is sent.
- `run_grid` prepares the variants (uploads once per picture), reuses finished tasks with the
  same request hash, and feeds the rest to the runner, a few at a time.
- A comparison's plan (labels, parameters, which task each variant is) is kept in a small JSON
  file beside the history: a reused variant points at an older task of another group, so the
  history's `group_id` column alone cannot say which tasks a comparison shows.
- `compare_df`, `export_csv` and `export_html` read the plan and the history back.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import io
import itertools
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .._files import atomic_path
from ..errors import InputError, KlingStudioError, Problem
from ..history._records import TaskRecord, write_frame
from ..history._store import History
from ..models import PreparedRequest, VideoRequest, request_hash
from ..pictures import Picture, PictureSource, describe_source, is_url, load_local_picture

if TYPE_CHECKING:
    import pandas as pd

    from ..client._async import AsyncClient
    from ..runner import Runner

log = logging.getLogger("kling_studio")

CONFIRM_ABOVE: Final = 4  # grids with more tasks than this need an explicit confirmation
DEFAULT_MAX_CONCURRENCY: Final = 4
PARAM_NAMES: Final = (
    "prompt",
    "negative_prompt",
    "resolution",
    "duration",
    "generate_audio",
    "image",
    "image_tail",
    "voice_ids",
    "multi_prompt",
    "model",
)
PICTURE_FIELDS: Final = ("image", "image_tail")
_GROUP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


# --- planning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One cell of a grid: a label, the request it sends, and its field values as JSON."""

    label: str
    request: VideoRequest
    params: dict[str, Any]  # every field, JSON-safe (pictures as short names)
    hash: str  # the request hash a create would journal (pictures by content)
    keys: dict[str, Any] = field(repr=False, default_factory=dict)  # what `differing` compares

    def variant_json(self) -> dict[str, Any]:
        """What the history keeps in the task's `variant` column."""
        return {"label": self.label, "params": self.params}


class Grid(list[Variant]):
    """The variants of a plan, in order (A, B, ...)."""

    def differing(self) -> list[str]:
        """The parameter names whose values differ between variants, in PARAM_NAMES order."""
        return differing_names([v.keys for v in self])

    def table(self) -> list[dict[str, Any]]:
        """Label plus the differing parameters of each variant (for printing)."""
        names = self.differing()
        return [{"label": v.label, **{n: v.params[n] for n in names}} for v in self]


def differing_names(values: Sequence[Mapping[str, Any]]) -> list[str]:
    out = []
    for name in PARAM_NAMES:
        seen = {json.dumps(v.get(name), sort_keys=True, default=str) for v in values}
        if len(seen) > 1:
            out.append(name)
    return out


def plan_grid(
    base: VideoRequest,
    *,
    prompts: Sequence[str] | None = None,
    negative_prompts: Sequence[str] | None = None,
    resolutions: Sequence[str] | None = None,
    durations: Sequence[int] | None = None,
    images: Sequence[Any] | None = None,
    variants: Sequence[Mapping[str, Any]] | None = None,
    picture_names: Mapping[str, str] | None = None,
) -> Grid:
    """The product of the axes given (None or [] keeps the base's value), labelled A, B, ...

    `images` holds first frames (the base's last frame is kept) or `(first, tail)` pairs (a
    tail of None drops the last frame). `variants` is a list of field changes (dicts), applied
    after the axes, so it can be used alone or as one more axis. `picture_names` maps a
    picture's sha256 to the name to show for it (e.g. the file name the user picked).

    Raises InputError, listing every problem at once, when a variant breaks a rule, a picture
    can't be used, or two variants would send the same request.
    """
    axes: list[list[dict[str, Any]]] = []
    for name, values in (
        ("prompt", prompts),
        ("negative_prompt", negative_prompts),
        ("resolution", resolutions),
        ("duration", durations),
    ):
        if values:
            _check_axis(name, values)
            axes.append([{name: value} for value in values])
    if images:
        axes.append([_picture_change(item) for item in images])
    if variants:
        for i, item in enumerate(variants):
            if not isinstance(item, Mapping):
                raise InputError(f"variant {i + 1} must be a dict of field changes", "variants")
        axes.append([dict(item) for item in variants])

    requests: list[tuple[str, VideoRequest]] = []
    problems: dict[tuple[str, str], list[str]] = {}
    for i, combo in enumerate(itertools.product(*axes)):
        label = variant_label(i)
        changes: dict[str, Any] = {}
        for part in combo:
            changes.update(part)
        request = base.with_changes(**changes) if changes else base
        for p in request.problems():
            problems.setdefault((p.field, p.message), []).append(label)
        requests.append((label, request))
    pictures = _load_pictures(requests, problems)
    if problems:
        raise InputError(
            [_labelled(f, m, labels, len(requests)) for (f, m), labels in problems.items()]
        )

    grid = Grid()
    for label, request in requests:
        pics = pictures[label]
        grid.append(
            Variant(
                label=label,
                request=request,
                params=request_params(request, pics, picture_names),
                hash=identity_hash(request, pics),
                keys=_compare_keys(request, pics),
            )
        )
    _refuse_duplicates(grid)
    _disambiguate_pictures(grid)
    return grid


def variant_label(index: int) -> str:
    """A, B, ..., Z, AA, AB, ... (spreadsheet columns)."""
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


def _check_axis(name: str, values: Sequence[Any]) -> None:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InputError(f"{name} values must be a list, e.g. [..., ...]", name)
    seen: set[str] = set()
    for value in values:
        key = json.dumps(value, sort_keys=True, default=str)
        if key in seen:
            raise InputError(f"{value!r:.60} is listed twice; each value makes one variant", name)
        seen.add(key)


def _picture_change(item: Any) -> dict[str, Any]:
    if isinstance(item, tuple | list):
        if len(item) != 2:
            raise InputError("an images item is a first frame or a (first, tail) pair", "image")
        return {"image": item[0], "image_tail": item[1]}
    return {"image": item}


def _labelled(name: str, message: str, labels: list[str], total: int) -> Problem:
    if len(labels) == total:
        return Problem(name, message)
    which = "variant" if len(labels) == 1 else "variants"
    return Problem(name, f"{message} ({which} {', '.join(labels)})")


def _source_key(source: Any) -> Any:
    if isinstance(source, str | bytes):
        return source
    if isinstance(source, os.PathLike):
        return os.fspath(source)
    return id(source)  # PIL images and buffers: the request keeps the object alive


def _load_pictures(
    requests: list[tuple[str, VideoRequest]], problems: dict[tuple[str, str], list[str]]
) -> dict[str, dict[str, Picture]]:
    """Read every local picture once (URLs are checked when the grid runs)."""
    loaded: dict[Any, Picture | list[Problem]] = {}
    out: dict[str, dict[str, Picture]] = {}
    for label, request in requests:
        pics: dict[str, Picture] = {}
        for name in PICTURE_FIELDS:
            source = getattr(request, name)
            if source is None or is_url(source):
                continue
            key = (name, _source_key(source))
            if key not in loaded:
                try:
                    loaded[key] = load_local_picture(source, name)
                except InputError as exc:
                    loaded[key] = exc.problems
            found = loaded[key]
            if isinstance(found, Picture):
                pics[name] = found
            else:
                for p in found:
                    problems.setdefault((p.field, p.message), []).append(label)
        out[label] = pics
    return out


def identity_hash(request: VideoRequest, pictures: Mapping[str, Picture]) -> str:
    """The `PreparedRequest.hash` that `client.prepare(request)` will give, without uploading:
    the create body with each local picture named by the sha256 of its bytes."""

    def ref(name: str) -> str | None:
        source = getattr(request, name)
        if source is None:
            return None
        if name in pictures:
            return f"sha256:{pictures[name].sha256}"
        return str(source)

    return request_hash(request.payload(ref("image") or "", ref("image_tail")))


def request_params(
    request: VideoRequest,
    pictures: Mapping[str, Picture] | None = None,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Every field's value as JSON (effective resolution and duration; pictures by name)."""
    pictures = pictures or {}

    def picture(name: str) -> str | None:
        source = getattr(request, name)
        if source is None:
            return None
        pic = pictures.get(name)
        if pic is not None and names and pic.sha256 in names:
            return names[pic.sha256]
        if isinstance(source, str) and is_url(source):
            return source.rsplit("/", 1)[-1].split("?", 1)[0] or source
        if pic is not None and isinstance(source, bytes | bytearray | memoryview):
            return f"picture {pic.sha256[:8]}"
        if pic is not None and not isinstance(source, str | os.PathLike):
            return f"picture {pic.sha256[:8]}"  # a PIL image
        return describe_source(source)

    return {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt or "",
        "resolution": request.effective_resolution,
        "duration": request.effective_duration,
        "generate_audio": bool(request.generate_audio),
        "image": picture("image"),
        "image_tail": picture("image_tail"),
        "voice_ids": list(request.voice_ids) if request.voice_ids else None,
        "multi_prompt": (
            [{"prompt": s.prompt, "duration": s.duration} for s in request.multi_prompt]
            if request.multi_prompt
            else None
        ),
        "model": request.model,
    }


def _compare_keys(request: VideoRequest, pictures: Mapping[str, Picture]) -> dict[str, Any]:
    """Params with pictures by content, so two files with one name still count as different."""
    keys = request_params(request)
    for name in PICTURE_FIELDS:
        source = getattr(request, name)
        if name in pictures:
            keys[name] = f"sha256:{pictures[name].sha256}"
        elif source is not None:
            keys[name] = str(source)
    return keys


def _refuse_duplicates(grid: Grid) -> None:
    first: dict[str, str] = {}
    problems = []
    for v in grid:
        if v.hash in first:
            problems.append(
                Problem(
                    "variants",
                    f"variants {first[v.hash]} and {v.label} send the same request; "
                    "drop one of them",
                )
            )
        else:
            first[v.hash] = v.label
    if problems:
        raise InputError(problems)


def _disambiguate_pictures(grid: Grid) -> None:
    """Two different pictures shown under one name get their hash added to the name."""
    for name in PICTURE_FIELDS:
        by_label: dict[str, set[str]] = {}
        for v in grid:
            if v.params[name] is not None:
                by_label.setdefault(v.params[name], set()).add(str(v.keys[name]))
        for v in grid:
            shown = v.params[name]
            if shown is not None and len(by_label[shown]) > 1:
                key = str(v.keys[name]).removeprefix("sha256:")
                v.params[name] = f"{shown} ({key[:8]})"


# --- the plan on disk -----------------------------------------------------------------------


@dataclass
class Entry:
    """One variant of a comparison and the task that shows it."""

    label: str
    params: dict[str, Any]
    hash: str
    local_id: str | None = None  # None until the variant is started
    reused: bool = False  # points at an older task with the same request hash

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "params": self.params,
            "hash": self.hash,
            "local_id": self.local_id,
            "reused": self.reused,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entry:
        return cls(
            label=str(data["label"]),
            params=dict(data.get("params") or {}),
            hash=str(data.get("hash") or ""),
            local_id=data.get("local_id"),
            reused=bool(data.get("reused")),
        )


@dataclass
class Plan:
    """What a comparison shows: its variants in order, and which parameters differ."""

    group_id: str
    title: str
    created: float
    differing: list[str]
    entries: list[Entry]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "group_id": self.group_id,
            "title": self.title,
            "created": self.created,
            "differing": self.differing,
            "variants": [e.to_json() for e in self.entries],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        return cls(
            group_id=str(data["group_id"]),
            title=str(data.get("title") or ""),
            created=float(data.get("created") or 0.0),
            differing=[str(n) for n in data.get("differing") or []],
            entries=[Entry.from_json(e) for e in data.get("variants") or []],
        )

    def entry(self, local_id: str) -> Entry | None:
        return next((e for e in self.entries if e.local_id == local_id), None)


def plans_dir(history: History) -> Path:
    """Beside the history file, named after it (two histories in one folder stay apart)."""
    return history.path.with_name(f"{history.path.stem}.comparisons")


def check_group_id(group_id: str) -> str:
    if not isinstance(group_id, str) or not _GROUP_ID.match(group_id) or ".." in group_id:
        raise InputError(
            "a group id is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            "group_id",
        )
    return group_id


def save_plan(history: History, plan: Plan) -> None:
    """Write through a temporary file, so a crash never leaves half a plan."""
    target = plans_dir(history) / f"{check_group_id(plan.group_id)}.json"
    with atomic_path(target) as part:
        part.write_text(json.dumps(plan.to_json(), ensure_ascii=False, indent=1), "utf-8")


def load_plan(history: History, group_id: str) -> Plan:
    """The plan of a comparison; for a group without one (tasks journalled with a group id by
    other code), a plan rebuilt from its tasks' `variant` column."""
    path = plans_dir(history) / f"{check_group_id(group_id)}.json"
    if path.is_file():
        try:
            return Plan.from_json(json.loads(path.read_text("utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise KlingStudioError(f"the comparison plan {path} is unreadable: {exc}") from exc
    records = history.records(group_id=group_id)
    if not records:
        raise InputError(f"no comparison {group_id!r} in this history", "group_id")
    entries = []
    for i, record in enumerate(reversed(records)):  # oldest first: the order they were started
        variant = record.variant or {}
        params = variant.get("params") if isinstance(variant.get("params"), dict) else None
        entries.append(
            Entry(
                label=str(variant.get("label") or variant_label(i)),
                params=params or _params_from_record(record),
                hash=record.request_hash,
                local_id=record.local_id,
            )
        )
    entries.sort(key=lambda e: (len(e.label), e.label))
    created = records[-1].submitted_at.timestamp()
    differing = differing_names([e.params for e in entries])
    return Plan(group_id, _title(differing, len(entries)), created, differing, entries)


def _params_from_record(record: TaskRecord) -> dict[str, Any]:
    return {
        "prompt": record.prompt,
        "negative_prompt": record.negative_prompt or "",
        "resolution": record.resolution,
        "duration": record.duration,
        "generate_audio": record.generate_audio,
        "image": record.image or None,
        "image_tail": record.image_tail,
        "voice_ids": record.payload.get("voice_ids"),
        "multi_prompt": record.request.get("multi_prompt"),
        "model": record.model,
    }


def latest_group_id(history: History) -> str | None:
    """The comparison created last in this history (by its plan), or None."""
    best: tuple[float, str] | None = None
    folder = plans_dir(history)
    if not folder.is_dir():
        return None
    for path in folder.glob("*.json"):
        try:
            data = json.loads(path.read_text("utf-8"))
            created = float(data.get("created") or 0.0)
            group_id = str(data["group_id"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if best is None or created > best[0]:
            best = (created, group_id)
    return best[1] if best else None


def _title(differing: Sequence[str], count: int) -> str:
    axes = " x ".join(differing) if differing else "one setting"
    return f"{count} variant{'s' if count != 1 else ''}: {axes}"


# --- running ----------------------------------------------------------------------------------


class Comparison:
    """A grid being run (or run before): its plan, its tasks, and a way to wait for them."""

    def __init__(
        self,
        history: History,
        plan: Plan,
        *,
        requests: Mapping[str, VideoRequest] | None = None,
        runner: Runner | None = None,
    ) -> None:
        self.history = history
        self.plan = plan
        self._requests = dict(requests or {})  # label -> request (local pictures: thumbnails)
        self._runner = runner
        self._feeder: asyncio.Task[None] | None = None
        self._cancelled = False
        self._errors: dict[str, str] = {}  # label -> why it stopped before being journalled
        self._listeners: list[Callable[[Comparison], None]] = []

    def __repr__(self) -> str:
        return (
            f"Comparison(group_id={self.group_id!r}, variants={len(self.entries)}, "
            f"reused={self.reused}, running={self.running})"
        )

    @property
    def group_id(self) -> str:
        return self.plan.group_id

    @property
    def title(self) -> str:
        return self.plan.title

    @property
    def differing(self) -> list[str]:
        return self.plan.differing

    @property
    def entries(self) -> list[Entry]:
        return self.plan.entries

    @property
    def reused(self) -> int:
        return sum(e.reused for e in self.entries)

    @property
    def running(self) -> bool:
        """True while some variants still wait for a slot of this grid."""
        return self._feeder is not None and not self._feeder.done()

    def on_change(self, listener: Callable[[Comparison], None]) -> None:
        """Call `listener(self)` when a variant is started (gets its local id)."""
        self._listeners.append(listener)

    def status(self, entry: Entry, record: TaskRecord | None = None) -> str:
        """The variant's status: the task's, or `queued` (waiting for a slot of this grid) /
        `not_sent` (the run stopped before it was started, e.g. the kernel restarted)."""
        if entry.local_id is None:
            if entry.label in self._errors:
                return "failed"  # the runner refused to start it
            return "queued" if self.running else "not_sent"
        record = record or self.history.get(entry.local_id)
        if record is not None:
            return record.status
        if entry.label in self._errors:
            return "failed"
        # Started by this process and not journalled yet (the runner journals inside its slot).
        return "submitting" if self._feeder is not None else "not_sent"

    def error(self, entry: Entry) -> str | None:
        """Why a variant stopped before its task was journalled (this process only)."""
        return self._errors.get(entry.label)

    def records(self) -> dict[str, TaskRecord | None]:
        """label -> the history record showing that variant (None while not journalled)."""
        return {e.label: self.history.get(e.local_id) if e.local_id else None for e in self.entries}

    async def wait(self) -> list[TaskRecord | None]:
        """Wait until every variant has started and finished; their records in label order.

        After `cancel()`, waits for the variants already started."""
        if self._feeder is not None and not self._feeder.done():
            await asyncio.wait({self._feeder})
        if self._runner is not None:
            for entry in self.entries:
                if entry.local_id is not None and not entry.reused:
                    with contextlib.suppress(KlingStudioError):  # its status says why
                        await self._runner.finished(entry.local_id)
        records = self.records()
        return [records[e.label] for e in self.entries]

    def cancel(self) -> None:
        """Start no more variants (those already sent run to their end at FoxAPI)."""
        self._cancelled = True
        if self._feeder is not None and not self._feeder.done():
            self._feeder.cancel()

    def df(self) -> pd.DataFrame:
        return compare_df(self.history, self.group_id, comparison=self)

    def export_csv(self, path: str | os.PathLike[str]) -> Path:
        return export_csv(self.history, self.group_id, path, comparison=self)

    def export_html(self, path: str | os.PathLike[str]) -> Path:
        return export_html(self.history, self.group_id, path, comparison=self)

    def picture_for(self, label: str) -> PictureSource | None:
        request = self._requests.get(label)
        return request.image if request is not None else None

    # --- the feeder: at most max_concurrency variants of this grid in flight ---------------

    def _start(
        self, runner: Runner, jobs: list[tuple[Entry, PreparedRequest]], max_concurrency: int
    ) -> None:
        self._runner = runner
        if jobs:
            self._feeder = asyncio.get_running_loop().create_task(
                self._feed(runner, jobs, max_concurrency)
            )
            self._feeder.add_done_callback(_log_failure)

    async def _feed(
        self, runner: Runner, jobs: list[tuple[Entry, PreparedRequest]], max_concurrency: int
    ) -> None:
        slots = asyncio.Semaphore(max_concurrency)
        waiting: list[asyncio.Task[None]] = []

        async def follow(entry: Entry, local_id: str) -> None:
            try:
                await runner.finished(local_id)
            except KlingStudioError as exc:  # stopped before it was journalled
                self._errors[entry.label] = str(exc)
                self._changed()
            finally:
                slots.release()

        try:
            for entry, prepared in jobs:
                await slots.acquire()
                if self._cancelled:
                    slots.release()
                    break
                try:
                    entry.local_id = runner.start(
                        prepared,
                        group_id=self.group_id,
                        variant={"label": entry.label, "params": entry.params},
                    )
                except KlingStudioError as exc:  # refused before anything was sent
                    self._errors[entry.label] = str(exc)
                    slots.release()
                    self._changed()
                    continue
                save_plan(self.history, self.plan)
                self._changed()
                waiting.append(
                    asyncio.get_running_loop().create_task(follow(entry, entry.local_id))
                )
            await asyncio.gather(*waiting)
        finally:
            self._changed()  # `queued` becomes `not_sent` for what was never started

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # a broken listener must not stop the grid
                log.exception("a comparison listener failed")


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a comparison stopped starting its variants", exc_info=task.exception())


async def run_grid(
    runner: Runner,
    client: AsyncClient,
    plan: Sequence[Variant],
    *,
    group_id: str | None = None,
    reuse: bool = True,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    title: str | None = None,
) -> Comparison:
    """Start a grid; returns as soon as every variant is prepared or reused.

    Each variant is prepared first (rules, remote pictures, uploads: once per picture thanks to
    the client's cache), so a problem stops the grid before any task is paid for. A variant
    whose request hash matches a completed task of the history with a video still available is
    reused (no create is sent) unless `reuse=False`. The others are started through the runner,
    at most `max_concurrency` of this grid in flight; `await comparison.wait()` for their end.
    """
    if not plan:
        raise InputError("the grid is empty", "variants")
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
        raise InputError("max_concurrency must be a whole number", "max_concurrency")
    if max_concurrency < 1:
        raise InputError("max_concurrency must be at least 1", "max_concurrency")
    history = runner.history
    group_id = check_group_id(group_id) if group_id else new_group_id()
    if (plans_dir(history) / f"{group_id}.json").exists():
        raise InputError(f"a comparison {group_id!r} exists already; pick another id", "group_id")

    entries: list[Entry] = []
    jobs: list[tuple[Entry, PreparedRequest]] = []
    for variant in plan:
        entry = Entry(variant.label, variant.params, variant.hash)
        old = reusable(history, variant.hash) if reuse else None
        if old is None:
            prepared = await client.prepare(variant.request)
            entry.hash = prepared.hash
            old = reusable(history, prepared.hash) if reuse else None
            if old is None:
                jobs.append((entry, prepared))
        if old is not None:
            entry.local_id, entry.reused = old.local_id, True
        entries.append(entry)

    differing = differing_names([v.keys for v in plan])
    saved = Plan(
        group_id, title or _title(differing, len(entries)), time.time(), differing, entries
    )
    save_plan(history, saved)
    requests = {v.label: v.request for v in plan}
    comparison = Comparison(history, saved, requests=requests, runner=runner)
    comparison._start(runner, jobs, max_concurrency)
    return comparison


def new_group_id() -> str:
    return f"ab-{datetime.now(tz=UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def reusable(history: History, request_hash: str) -> TaskRecord | None:
    """A completed task that sent this exact request and whose video can still be shown."""
    record = history.find_completed_by_hash(request_hash)
    if record is None:
        return None
    if record.has_video:
        return record
    expires = record.url_expires_at
    if record.video_url and not record.url_expired and expires and expires > datetime.now(UTC):
        return record
    return None  # its video is gone: paying again is the only way to see it


def count_reusable(history: History, plan: Iterable[Variant]) -> int:
    """How many variants of a plan would be reused (no request is sent to find out)."""
    return sum(reusable(history, v.hash) is not None for v in plan)


def confirm_problem(count: int, reused: int) -> str:
    """The sentence refusing an unconfirmed big grid."""
    paid = count - reused
    extra = f", {reused} reused from the history" if reused else ""
    return f"this grid makes {count} tasks ({paid} paid requests{extra})"


# --- ratings ----------------------------------------------------------------------------------

NOTE_MAX_CHARS: Final = 4000


def rate(
    history: History,
    local_id: str,
    *,
    rating: int | None = None,
    winner: bool | None = None,
    note: str | None = None,
    clear_rating: bool = False,
) -> TaskRecord:
    """Store a judgement: a 1-5 rating, a winner mark, a note. None leaves a value unchanged;
    `clear_rating=True` removes the rating."""
    record = history.get(local_id)
    if record is None:
        raise InputError(f"no task {local_id!r} in the history", "local_id")
    if rating is not None and (
        isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
    ):
        raise InputError(f"a rating is a whole number from 1 to 5; got {rating!r}", "rating")
    if winner is not None and not isinstance(winner, bool):
        raise InputError(f"winner is True or False; got {winner!r}", "winner")
    if note is not None:
        if not isinstance(note, str):
            raise InputError("a note is text", "note")
        if len(note) > NOTE_MAX_CHARS:
            raise InputError(f"a note holds at most {NOTE_MAX_CHARS:,} characters", "note")
    if clear_rating:
        # The store clears the three together: put back the two that stay.
        history.clear_rating(local_id)
        history.set_rating(
            local_id,
            winner=record.winner if winner is None else winner,
            note=record.note if note is None else note,
        )
    else:
        history.set_rating(local_id, rating=rating, winner=winner, note=note)
    return history[local_id]


# --- the table --------------------------------------------------------------------------------


def compare_df(
    history: History, group_id: str, *, comparison: Comparison | None = None
) -> pd.DataFrame:
    """A row per variant: label, the differing parameters, status, timings, judgement, ids."""
    import pandas as pd

    if comparison is None or comparison.group_id != group_id:
        comparison = Comparison(history, load_plan(history, group_id))
    plan = comparison.plan
    rows = []
    for entry in plan.entries:
        record = history.get(entry.local_id) if entry.local_id else None
        row: dict[str, Any] = {"label": entry.label}
        for name in plan.differing:
            value = entry.params.get(name)
            row[name] = json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value
        row |= {
            "status": comparison.status(entry, record),
            "reused": entry.reused,
            "progress": record.progress if record else 0,
            "submitted_at": record.submitted_at if record else None,
            "finished_at": record.finished_at if record else None,
            "elapsed": record.elapsed if record else None,
            "queue_seconds": record.queue_seconds if record else None,
            "run_seconds": record.run_seconds if record else None,
            "rating": record.rating if record else None,
            "winner": bool(record.winner) if record else False,
            "note": (record.note or "") if record else "",
            "error_code": _error_code(record),
            "error_message": _error_message(record),
            "local_id": entry.local_id,
            "task_id": record.task_id if record else None,
            "video_path": str(record.video_path) if record and record.has_video else None,
            "request_hash": entry.hash,
        }
        rows.append(row)
    df = pd.DataFrame(rows, columns=["label", *plan.differing, *_COLUMN_DTYPES])
    for name, dtype in _COLUMN_DTYPES.items():
        if dtype == "datetime64[us, UTC]":
            df[name] = pd.to_datetime(df[name], utc=True).astype(dtype)  # type: ignore[call-overload]
        else:
            df[name] = df[name].astype(dtype)  # type: ignore[call-overload]
    df["label"] = df["label"].astype("string")
    return df


_COLUMN_DTYPES: Final[dict[str, str]] = {
    "status": "string",
    "reused": "bool",
    "progress": "Int64",
    "submitted_at": "datetime64[us, UTC]",
    "finished_at": "datetime64[us, UTC]",
    "elapsed": "float64",
    "queue_seconds": "float64",
    "run_seconds": "float64",
    "rating": "Int64",
    "winner": "bool",
    "note": "string",
    "error_code": "string",
    "error_message": "string",
    "local_id": "string",
    "task_id": "string",
    "video_path": "string",
    "request_hash": "string",
}


def record_error(record: TaskRecord | None) -> dict[str, Any] | None:
    """`{code, message}` when the task failed, was lost, or its video could not be saved."""
    message = _error_message(record)
    code = _error_code(record)
    if message is None and code is None:
        return None
    return {"code": code, "message": message or ""}


def _error_code(record: TaskRecord | None) -> str | None:
    if record is None:
        return None
    if record.status == "unknown":
        return "create_outcome_unknown"
    return record.error_code or ("download_failed" if record.download_error else None)


def _error_message(record: TaskRecord | None) -> str | None:
    if record is None:
        return None
    return record.error_message or record.unknown_reason or record.download_error


def export_csv(
    history: History,
    group_id: str,
    path: str | os.PathLike[str],
    *,
    comparison: Comparison | None = None,
) -> Path:
    """compare_df as CSV (written through a temporary file)."""
    df = compare_df(history, group_id, comparison=comparison)
    return write_frame(df, Path(path).expanduser(), "csv")


# --- the HTML report ------------------------------------------------------------------------

THUMB_MAX_SIDE: Final = 320


def video_thumbnail(path: str | os.PathLike[str], max_side: int = THUMB_MAX_SIDE) -> bytes | None:
    """The first frame of a video as a small JPEG (PyAV), or None if it can't be decoded."""
    import av

    try:
        with av.open(os.fspath(path)) as container:
            for frame in container.decode(video=0):
                return _jpeg(frame.to_image(), max_side)  # type: ignore[no-untyped-call]
    except Exception as exc:  # a damaged file: the report says "no preview" instead
        log.info("no thumbnail from %s: %s", path, exc)
    return None


def picture_thumbnail(source: Any, max_side: int = THUMB_MAX_SIDE) -> bytes | None:
    """A small JPEG of a local picture (URLs are not fetched: the report is made offline)."""
    if source is None or is_url(source):
        return None
    try:
        return load_local_picture(source, "image").thumbnail_jpeg(max_side)
    except Exception as exc:
        log.info("no thumbnail from the picture: %s", exc)
        return None


def _jpeg(image: Any, max_side: int) -> bytes:
    image = image.convert("RGB")
    image.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def _data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _e(value: Any) -> str:
    """Every string that reaches the report goes through here."""
    return html.escape("" if value is None else str(value), quote=True)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:16px 0 4px}
.meta{color:#666;margin-bottom:16px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:16px;
margin-top:20px}
.cell{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px}
.cell.win{border:2px solid #c9a100}
.thumb{width:100%;aspect-ratio:16/9;object-fit:cover;background:#eee;border-radius:4px}
.nothumb{display:flex;align-items:center;justify-content:center;color:#888}
.label{font-size:22px;font-weight:700}.badge{font-size:12px;padding:1px 6px;border-radius:8px;
background:#eee;margin-left:6px}.winner{background:#ffe58a}
dl{display:grid;grid-template-columns:auto 1fr;gap:2px 8px;margin:8px 0}
dt{color:#666}dd{margin:0;overflow-wrap:anywhere}.stars{color:#c9a100;letter-spacing:1px}
.note{white-space:pre-wrap;background:#f4f4f4;padding:6px;border-radius:4px}
table{border-collapse:collapse;margin-top:24px;font-size:13px}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
"""


def render_html(history: History, group_id: str, *, comparison: Comparison | None = None) -> str:
    """The comparison as one self-contained HTML page: inline CSS, thumbnails as data: JPEGs,
    no script and no external resource (a Content-Security-Policy says so to the browser)."""
    if comparison is None or comparison.group_id != group_id:
        comparison = Comparison(history, load_plan(history, group_id))
    plan = comparison.plan
    records = {e.label: history.get(e.local_id) if e.local_id else None for e in plan.entries}
    common = [
        n
        for n in PARAM_NAMES
        if n not in plan.differing and plan.entries and plan.entries[0].params.get(n) is not None
    ]
    cells = [
        _html_cell(comparison, entry, records[entry.label], plan.differing)
        for entry in plan.entries
    ]
    first = plan.entries[0].params if plan.entries else {}
    common_rows = "".join(f"<dt>{_e(n)}</dt><dd>{_e(_shown(first.get(n)))}</dd>" for n in common)
    created = datetime.fromtimestamp(plan.created, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{_e(plan.title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(plan.title)}</h1>"
        f'<div class="meta">comparison {_e(plan.group_id)} · {_e(created)} · '
        f"{len(plan.entries)} variants, {sum(e.reused for e in plan.entries)} reused · "
        f"differing: {_e(', '.join(plan.differing) or 'nothing')}</div>"
        f"<h2>Same for every variant</h2><dl>{common_rows}</dl>"
        f'<div class="grid">{"".join(cells)}</div>'
        f"{_html_table(comparison, records)}</body></html>\n"
    )


def _html_cell(
    comparison: Comparison, entry: Entry, record: TaskRecord | None, differing: list[str]
) -> str:
    jpeg = None
    if record is not None and record.video_path is not None and record.has_video:
        jpeg = video_thumbnail(record.video_path)
    if jpeg is None:
        jpeg = picture_thumbnail(comparison.picture_for(entry.label))
    if jpeg is not None:
        thumb = f'<img class="thumb" alt="{_e(entry.label)}" src="{_data_url(jpeg)}">'
    else:
        thumb = '<div class="thumb nothumb">no preview</div>'
    status = comparison.status(entry, record)
    badges = f'<span class="badge">{_e(status)}</span>'
    if entry.reused:
        badges += '<span class="badge">reused</span>'
    winner = bool(record and record.winner)
    if winner:
        badges += '<span class="badge winner">winner</span>'
    params = "".join(
        f"<dt>{_e(n)}</dt><dd>{_e(_shown(entry.params.get(n)))}</dd>" for n in differing
    )
    rating = record.rating if record else None
    stars = (
        f'<span class="stars">{"★" * rating}{"☆" * (5 - rating)}</span> {rating}/5'
        if rating
        else "not rated"
    )
    times = ""
    if record is not None:
        times = f"<dt>time</dt><dd>{record.elapsed:.1f} s</dd>"
    error = _error_message(record)
    error_row = f"<dt>error</dt><dd>{_e(error)}</dd>" if error else ""
    note = record.note if record and record.note else ""
    note_html = f'<div class="note">{_e(note)}</div>' if note else ""
    return (
        f'<div class="cell{" win" if winner else ""}">{thumb}'
        f'<div><span class="label">{_e(entry.label)}</span>{badges}</div>'
        f"<dl>{params}<dt>rating</dt><dd>{stars}</dd>{times}{error_row}</dl>{note_html}</div>"
    )


def _html_table(comparison: Comparison, records: Mapping[str, TaskRecord | None]) -> str:
    plan = comparison.plan
    head = ["label", *plan.differing, "status", "reused", "time (s)", "rating", "winner", "note"]
    rows = []
    for entry in plan.entries:
        record = records[entry.label]
        cells = [
            entry.label,
            *(_shown(entry.params.get(n)) for n in plan.differing),
            comparison.status(entry, record),
            "yes" if entry.reused else "no",
            f"{record.elapsed:.1f}" if record else "",
            str(record.rating) if record and record.rating else "",
            "yes" if record and record.winner else "",
            (record.note or "") if record else "",
        ]
        rows.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def export_html(
    history: History,
    group_id: str,
    path: str | os.PathLike[str],
    *,
    comparison: Comparison | None = None,
) -> Path:
    """Write the report (see render_html) through a temporary file; returns its path."""
    target = Path(path).expanduser()
    text = render_html(history, group_id, comparison=comparison)
    with atomic_path(target) as part:
        part.write_text(text, "utf-8")
    return target
