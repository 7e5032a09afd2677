"""Taking the measures of saved videos (media/_measures.py) and keeping them in the history.

Once when a video is saved (the runner calls `measure_task` on a worker thread after the
download), and on first need for videos saved before measures existed (`measure_missing`, called
by the tables, the summary and batches). The pictures a task was made from are read back from
the URLs it was sent with (without the key, like the videos); a picture that cannot be fetched
any more leaves its match empty, never the other measures.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import httpx

from .. import contract as c
from ..history._measures import MEASURE_COLUMNS
from ..history._records import TaskRecord
from ..history._store import History
from ..pictures import is_url

if TYPE_CHECKING:
    from ..media._clip import Encoder
    from ..media._measures import Measures

log = logging.getLogger("kling_studio")

PICTURE_TIMEOUT_S: Final = 10.0
Progress = Callable[[int, int], None]


def fetch_picture(url: str | None, http: httpx.Client) -> bytes | None:
    """The bytes at a picture URL (no credential is ever sent), or None if they cannot be had."""
    if not url or not is_url(url):
        return None
    try:
        with http.stream("GET", url) as response:
            if response.status_code != 200:
                return None
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > c.PICTURE_MAX_BYTES:
                    return None
            return bytes(body)
    except httpx.HTTPError as exc:
        # The host only: a picture URL may carry a signature in its query.
        host = httpx.URL(url).host
        log.info("a picture on %s could not be fetched for measuring: %s", host, type(exc).__name__)
        return None


def local_picture(source: object) -> Any:
    """A picture the runner was given (bytes, a PIL image, a local file) as `measure_video`
    takes it, without any request; None for a URL (fetched instead) or nothing."""
    if source is None or (isinstance(source, str) and is_url(source)):
        return None
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str | os.PathLike):
        try:
            return Path(source).expanduser().read_bytes()
        except OSError:
            return None
    return source if hasattr(source, "convert") else None  # a PIL image


def measure_task(
    history: History,
    record: TaskRecord,
    http: httpx.Client | None = None,
    pictures: tuple[object, object] = (None, None),
) -> None:
    """Measure the saved video of `record` and keep the measures (or why it could not be
    measured) in the history. `pictures`: the first and last frame as the runner was given
    them, when local (else they are fetched from the URLs the task was sent with). Never
    raises for a bad video: the reason is stored instead."""
    from ..media._measures import MEASURES_VERSION, measure_video

    own = http is None
    client = http or httpx.Client(timeout=PICTURE_TIMEOUT_S, follow_redirects=True)
    try:
        try:
            video = history.video_file(record.local_id)
        except Exception as exc:  # no video here (yet): nothing to keep, try again later
            log.info("no video to measure for %s: %s", record.local_id, exc)
            return
        image = local_picture(pictures[0])
        if image is None:
            image = fetch_picture(record.payload.get("image_url"), client)
        tail = local_picture(pictures[1])
        if tail is None:
            tail = fetch_picture(record.payload.get("image_tail_url"), client)
        try:
            found: Measures = measure_video(video, image, tail)
        except Exception as exc:  # a video PyAV cannot read: say so once, do not retry
            history.set_measures(
                record.local_id,
                {},
                version=MEASURES_VERSION,
                error=f"{type(exc).__name__}: {exc}"[:500],
            )
            return
        history.set_measures(
            record.local_id, found.values(), version=found.version, frames=found.frames
        )
    finally:
        if own:
            client.close()


def measure_missing(
    history: History,
    local_ids: Iterable[str] | None = None,
    *,
    progress: Progress | None = None,
) -> int:
    """Measure every saved video (among `local_ids` when given) that has no measures of the
    current version yet; returns how many were measured."""
    from ..media._measures import MEASURES_VERSION

    todo = history.unmeasured(MEASURES_VERSION, local_ids)
    if not todo:
        return 0
    with httpx.Client(timeout=PICTURE_TIMEOUT_S, follow_redirects=True) as http:
        for done, record in enumerate(todo, start=1):
            measure_task(history, record, http)
            if progress is not None:
                progress(done, len(todo))
    return len(todo)


def add_clip_measures(
    history: History,
    local_ids: Iterable[str],
    encoder: Encoder | None = None,
) -> int:
    """Add `text_alignment` and `aesthetic` (media/_clip.py) to the measures of these tasks'
    videos, with `encoder` or the open CLIP model (fetched now, only when the extra is
    installed: ConfigurationError otherwise). Tasks without a saved video are skipped; returns
    how many were measured."""
    from ..media._clip import measure_with_clip, open_clip_encoder

    ids = list(local_ids)
    measure_missing(history, ids)
    stored = history.measures_of(ids)
    model = encoder
    done = 0
    for local_id in ids:
        row = stored.get(local_id)
        if row is None or row.get("error"):
            continue
        record = history.get(local_id)
        if record is None:
            continue
        if model is None:
            model = open_clip_encoder()
        found = measure_with_clip(history.video_file(local_id), record.prompt, model)
        values = {name: row.get(name) for name in MEASURE_COLUMNS} | found
        history.set_measures(local_id, values, version=row["version"], frames=row.get("frames"))
        done += 1
    return done
