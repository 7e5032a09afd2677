"""Downloaded videos: FoxAPI's result URLs die after 24 hours, so every finished video is saved.

A video's file name comes from its task id, never from the URL or any other unchecked string.
A download is streamed to a uniquely named temporary file in the same folder, checked (it must be
a video PyAV can open), then renamed into place: a reader never sees a partial file, and two
downloads of the same task both leave a whole video (the last rename wins).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
import uuid
from pathlib import Path
from typing import IO, Final

import httpx

from .. import contract as c
from .._retry import Backoff, parse_retry_after
from ..errors import DownloadError, VideoExpiredError
from ..media._posters import ensure_poster

SAFE_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,100}")
# Names Windows refuses for a file, whatever the extension.
_RESERVED: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}
)
EXPIRED_STATUSES: Final = frozenset({403, 404, 410})
PART_SUFFIX: Final = ".part"
CHUNK: Final = 1 << 16


class _Retry(Exception):
    """One attempt failed in a way another attempt may fix."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


def file_name(task_id: str) -> str:
    """The cache's file name for a task id.

    Plain ids (letters, digits, `_`, `-`, at most 100) are kept as they are, so the files are
    easy to find; anything else becomes `sha256.<hex>.mp4`, which no plain id can produce.
    """
    if SAFE_ID.fullmatch(task_id) and task_id.upper() not in _RESERVED:
        return f"{task_id}.mp4"
    return f"sha256.{hashlib.sha256(task_id.encode('utf-8', 'surrogatepass')).hexdigest()}.mp4"


def sniff(head: bytes) -> bool:
    """MP4/MOV (an `ftyp` box first) or WebM/Matroska (EBML magic)."""
    return head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3"


def mp4_boxes_complete(path: Path) -> bool:
    """Whether the top-level MP4 boxes tile the file exactly: a body cut short (even one whose
    index came first, which PyAV would open happily) ends inside a box."""
    size = path.stat().st_size
    offset = 0
    with open(path, "rb") as fh:
        while offset < size:
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                return False
            box = int.from_bytes(header[:4], "big")
            if box == 1:  # 64-bit size follows the type
                if len(header) < 16:
                    return False
                box = int.from_bytes(header[8:16], "big")
                if box < 16:
                    return False
            elif box == 0:  # "to the end of the file"
                return True
            elif box < 8:
                return False
            offset += box
    return offset == size


def check_video(path: Path) -> None:
    """Raise ValueError unless `path` holds a whole video: magic bytes, complete MP4 boxes, then
    PyAV finds a video stream (opening reads only the headers and index, not the frames)."""
    with open(path, "rb") as fh:
        head = fh.read(12)
    if not head:
        raise ValueError("the body was empty")
    if not sniff(head):
        raise ValueError(f"not an MP4/MOV or WebM file (starts with {head[:8]!r})")
    if head[4:8] == b"ftyp" and not mp4_boxes_complete(path):
        raise ValueError("the MP4 file is incomplete (its last box is cut short)")
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError("the file has no video stream")
    except av.FFmpegError as exc:
        raise ValueError(f"the video cannot be read ({exc})") from exc


class _PartFile:
    """The temporary file a download streams into (sync writes of 64 KiB are cheap)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] = open(path, "xb")  # noqa: SIM115 - closed in close()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._fh.write(chunk)
        self.size += len(chunk)

    def close(self) -> None:
        self._fh.close()


class VideoCache:
    """Videos saved by task id under one folder.

    Downloads share one keyless HTTP client (made on first use, on `transport` when given;
    closed by `aclose`), unless a call passes its own.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.root = Path(root).expanduser().absolute()
        self.backoff = backoff  # first retry delay in seconds, doubled each time
        self._backoff = Backoff(base=backoff, cap=30.0)
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None

    def _shared_http(self) -> httpx.AsyncClient:
        # An httpx client's connections belong to the loop that opened them: one per loop.
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop or self._http.is_closed:
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(60.0, connect=10.0),
                follow_redirects=True,
                transport=self._transport,
            )
            self._http_loop = loop
        return self._http

    async def aclose(self) -> None:
        """Close the shared HTTP client (a later download opens a new one)."""
        if self._http is not None and self._http_loop is asyncio.get_running_loop():
            await self._http.aclose()
        self._http = None

    def path_for(self, task_id: str) -> Path:
        """Where the video of `task_id` lives (whether or not it is there yet)."""
        if not isinstance(task_id, str):
            raise TypeError(f"task_id must be a string; got {type(task_id).__name__}")
        path = self.root / file_name(task_id)
        if path.parent != self.root:  # cannot happen with file_name(); kept as a tripwire
            raise ValueError(f"refusing a cache path outside {self.root}")
        return path

    def existing(self, task_id: str) -> Path | None:
        """The saved video of `task_id`, if there is one."""
        path = self.path_for(task_id)
        try:
            return path if path.is_file() and path.stat().st_size > 0 else None
        except OSError:
            return None

    def clean_partials(self, older_than: float = 3600.0) -> int:
        """Remove temporary files left by downloads that crashed; returns how many."""
        removed = 0
        cutoff = time.time() - older_than
        for part in self.root.glob(f".*{PART_SUFFIX}"):
            try:
                if part.stat().st_mtime < cutoff:
                    part.unlink()
                    removed += 1
            except OSError:
                continue
        return removed

    async def download(
        self,
        url: str,
        task_id: str,
        *,
        http: httpx.AsyncClient | None = None,
        attempts: int = 4,
        overwrite: bool = False,
        deadline: float | None = None,
    ) -> Path:
        """Save the video at `url` as the video of `task_id`; return its path.

        Returns the saved file without any request when there is one (unless `overwrite`).
        Retries connection errors, 5xx/429 and truncated or unreadable bodies with backoff;
        403/404/410 raise VideoExpiredError at once. `http` may be shared, but no credential
        is ever sent with it: result URLs are public CDN URLs on other hosts. `deadline` (on
        time.monotonic()) bounds everything, a body that stalls half-way included.
        """
        target = self.path_for(task_id)
        if not overwrite and (found := self.existing(task_id)) is not None:
            return found
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise DownloadError(f"task {task_id}: not an http(s) URL: {url[:80]!r}")
        self.root.mkdir(parents=True, exist_ok=True)

        client = http or self._shared_http()
        left = None if deadline is None else deadline - time.monotonic()
        try:
            async with asyncio.timeout(left):
                return await self._attempts(client, parsed, task_id, target, attempts)
        except TimeoutError:
            raise DownloadError(
                f"task {task_id}: the video from {parsed.host} was not saved within the "
                "deadline (the server was too slow or stalled); the URL stays valid for 24 hours "
                "after the task finished: `kling-studio resume` fetches it"
            ) from None

    async def _attempts(
        self, client: httpx.AsyncClient, url: httpx.URL, task_id: str, target: Path, attempts: int
    ) -> Path:
        last = ""
        for attempt in range(max(1, attempts)):
            try:
                return await self._attempt(client, url, task_id, target)
            except _Retry as retry:
                last = str(retry)
                if attempt + 1 < attempts:
                    await asyncio.sleep(self._backoff.delay(attempt, retry.wait))
        raise DownloadError(
            f"task {task_id}: the video from {url.host} could not be saved after "
            f"{attempts} attempt(s): {last}. The URL stays valid for 24 hours after the task "
            "finished; retry later."
        )

    async def _attempt(
        self, client: httpx.AsyncClient, url: httpx.URL, task_id: str, target: Path
    ) -> Path:
        request = client.build_request("GET", url)
        # A shared client may carry the FoxAPI key as a default header or auth: strip both.
        for name in ("authorization", "proxy-authorization", "cookie"):
            request.headers.pop(name, None)
        part = _PartFile(self.root / f".{target.name}.{uuid.uuid4().hex}{PART_SUFFIX}")
        try:
            try:
                response = await client.send(request, stream=True, auth=None, follow_redirects=True)
            except httpx.TransportError as exc:
                raise _Retry(f"{type(exc).__name__}: {exc}") from exc
            try:
                self._check_status(response, task_id)
                _check_size(response.headers.get("content-length"), task_id)
                try:
                    # Decoded: a CDN may send the video gzip-encoded (httpx asks for it).
                    async for chunk in response.aiter_bytes(CHUNK):
                        part.write(chunk)
                        if part.size > c.MAX_VIDEO_BYTES:
                            _check_size(str(part.size), task_id)
                except httpx.DecodingError as exc:
                    raise _Retry(f"the body could not be decoded ({exc})") from exc
                except httpx.TransportError as exc:  # includes a body cut short
                    raise _Retry(f"the body was cut short ({exc})") from exc
            finally:
                await response.aclose()
            part.close()
            # Content-Length counts the bytes on the wire (compressed, if encoded).
            expected = response.headers.get("content-length")
            got = response.num_bytes_downloaded
            if expected is not None and expected.isdigit() and int(expected) != got:
                raise _Retry(f"got {got} of {expected} bytes")
            try:
                await asyncio.to_thread(check_video, part.path)
            except ValueError as exc:
                raise _Retry(str(exc)) from exc
            os.replace(part.path, target)
            # The poster is made with the video, so the gallery never decodes one to show it.
            await asyncio.to_thread(ensure_poster, target, remake=True)
            return target
        finally:
            part.close()
            part.path.unlink(missing_ok=True)

    @staticmethod
    def _check_status(response: httpx.Response, task_id: str) -> None:
        code = response.status_code
        if code in EXPIRED_STATUSES:
            raise VideoExpiredError(task_id, code)
        if code == 429 or code >= 500:
            raise _Retry(f"HTTP {code}", parse_retry_after(response.headers.get("retry-after")))
        if code != 200:
            raise DownloadError(
                f"task {task_id}: the video URL on {response.url.host} answered HTTP {code}"
            )


def _check_size(declared: str | None, task_id: str) -> None:
    """Refuse a body far larger than any video (contract.MAX_VIDEO_BYTES), declared or seen."""
    if declared is not None and declared.isdigit() and int(declared) > c.MAX_VIDEO_BYTES:
        raise DownloadError(
            f"task {task_id}: the video URL serves {int(declared) / 2**30:.1f} GiB, far more "
            f"than any video could be (limit {c.MAX_VIDEO_BYTES / 2**30:.0f} GiB); it was not "
            "saved — check the task's result URL"
        )
