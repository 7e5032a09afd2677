"""The studio's clip actions on the history's results: a finished video's last frame as a
picture (continue from a result), and clips stitched into a new result journalled like any other.

The media work itself is in `media/` (which imports nothing above `pictures`); this module is the
part that knows the history.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from ..errors import HistoryError, InputError, KlingStudioError
from ..history._records import STITCHED_FROM, TaskRecord
from ..history._store import History
from ..media import ensure_poster, last_frame, stitch_videos
from ..models import PreparedRequest, Task, VideoRequest
from ..pictures import encode_pil

STITCH_MODEL: Final = "kling-studio/stitch"  # the `model` of a stitched result: never sent
STITCH_PROMPT_CHARS: Final = 2000


def saved_video(history: History, local_id: object, field: str = "local_id") -> TaskRecord:
    """The record of a finished task whose video is saved, on this machine or in the video
    store; InputError saying what is wrong."""
    if not isinstance(local_id, str) or not local_id:
        raise InputError(f"must be a task's local id; got {local_id!r}", field=field)
    record = history.get(local_id)
    if record is None:
        raise InputError(f"no task {local_id!r} in the history", field=field)
    if not (record.has_video or record.video_stored):
        raise InputError(
            f"task {local_id!r} has no saved video ({record.status}); pick a completed result",
            field=field,
        )
    return record


def local_video(history: History, record: TaskRecord, field: str = "local_id") -> Path:
    """A file of the record's video on this machine: fetched from the store first when it was
    saved elsewhere, as playing does."""
    try:
        return history.video_file(record.local_id)
    except HistoryError as exc:
        raise InputError(str(exc), field=field) from None


def last_frame_picture(history: History, local_id: object, slot: str) -> tuple[bytes, str]:
    """The last frame of a result's video as picture bytes (PNG, or JPEG above 10 MB) and a
    name for it; the caller checks them like any picture."""
    record = saved_video(history, local_id)
    video = local_video(history, record)
    try:
        image = last_frame(video)
    except Exception as exc:
        raise InputError(
            f"the video of task {local_id!r} cannot be decoded ({exc})", "local_id"
        ) from exc
    picture = encode_pil(image, slot)
    return picture.data, f"last frame of {record.local_id[:8]}.{picture.format.lower()}"


def check_stitch(history: History, local_ids: object) -> list[TaskRecord]:
    """The records to stitch, in order; InputError before anything is done."""
    if isinstance(local_ids, str) or not isinstance(local_ids, Sequence):
        raise InputError("must be a list of local ids of finished results", field="local_ids")
    if len(local_ids) < 2:
        raise InputError(
            f"stitching needs at least 2 results; got {len(local_ids)}", field="local_ids"
        )
    return [saved_video(history, local_id, "local_ids") for local_id in local_ids]


def check_copy_path(history: History, path: str | os.PathLike[str] | None) -> Path | None:
    """Where a stitched video's copy may go: an .mp4 that is no file of the history's (a
    part's own video, a poster, the database...)."""
    if path is None:
        return None
    target = history.refuse_owned_path(path, "stitched video")
    if target.suffix.lower() != ".mp4":
        raise InputError(f"a stitched video is an MP4: name it *.mp4, not {target.name!r}", "path")
    if target.is_dir():
        raise InputError(f"{str(target)!r} is a folder; give a file name ending in .mp4", "path")
    return target


def stitch_records(
    history: History, local_ids: object, path: str | os.PathLike[str] | None = None
) -> TaskRecord:
    """Join the videos of `local_ids` into a new completed result of the history (its parts
    listed in `variant["stitched_from"]`); with `path`, a copy is saved there too."""
    records = check_stitch(history, local_ids)
    copy_to = check_copy_path(history, path)  # before any work
    local_id = uuid.uuid4().hex
    out = history.videos_dir / f"stitch-{local_id}.mp4"
    files = [local_video(history, r, "local_ids") for r in records]  # fetched first if need be
    try:
        stitched = stitch_videos(files, out)
    except Exception as exc:  # a part PyAV cannot read: nothing was journalled
        raise KlingStudioError(f"the clips could not be joined ({exc})") from exc
    ensure_poster(out)
    parts = [r.local_id for r in records]
    prompt = " | ".join(r.prompt for r in records)[:STITCH_PROMPT_CHARS]
    request = VideoRequest(
        prompt=prompt,
        image=records[0].image,
        image_tail=records[-1].image_tail,
        resolution=records[0].resolution,
        duration=round(stitched.duration),
        generate_audio=any(r.generate_audio for r in records),
        model=STITCH_MODEL,
    )
    payload: dict[str, Any] = {"model": STITCH_MODEL, STITCHED_FROM: parts}
    # Journalled only once the file is whole, and at once completed: a stitch is never sent,
    # so there is nothing to resume and nothing billed.
    history.journal_submit(
        PreparedRequest(request, payload),
        local_id=local_id,
        variant={STITCHED_FROM: parts, "reencoded": stitched.reencoded},
    )
    history.update(local_id, Task(id=f"stitch-{local_id}", status="completed", progress=100))
    history.set_video(local_id, out)
    if copy_to is not None:
        _copy(out, copy_to)
    return history[local_id]


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        shutil.copyfile(source, part)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
