"""Planning a comparison: a base request and axes become labelled variants, checked before
anything is sent (rules, local pictures read, duplicates refused)."""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ..errors import InputError, Problem
from ..models import VideoRequest, request_hash
from ..pictures import Picture, describe_source, is_url, load_local_picture

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


def load_once(
    cache: dict[Any, Picture | list[Problem]], name: str, source: Any
) -> Picture | list[Problem]:
    """A local picture read once per (field, source) in `cache`: the picture, or its problems."""
    key = (name, _source_key(source))
    if key not in cache:
        try:
            cache[key] = load_local_picture(source, name)
        except InputError as exc:
            cache[key] = exc.problems
    return cache[key]


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
            found = load_once(loaded, name, source)
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
