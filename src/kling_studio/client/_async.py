"""The async client: submit, get, wait, generate, upload, create_voice.

A failed task is *returned* (status "failed", `task.error` set), not raised: a batch or an A/B
grid goes on when one variant fails. Call `task.raise_for_error()` to turn it into TaskFailed.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from .. import contract as c
from ..config import mask_key, resolve_service
from ..errors import (
    ConfigurationError,
    CreateOutcomeUnknown,
    InputError,
    NotFoundError,
    Problem,
    RateLimitError,
    ServerError,
    TaskFailed,
    TransportError,
    WaitTimeout,
)
from ..models import PreparedRequest, VideoRequest
from ..pictures import Picture, is_url, load_local_picture, read_picture
from ._polling import PollPolicy, PollState, next_delay
from ._transport import Http, Retry

# Task (pydantic) is imported with the first answer, not with the client: see tasks.py.
if TYPE_CHECKING:
    from ..tasks import Task, TaskError

ProgressCallback = Callable[["Task"], Awaitable[None] | None]

DEFAULT_WAIT_TIMEOUT = 900.0  # seconds; 4k and 10 s clips can take several minutes
RECENT_CREATES_MAX = 10_000  # tasks remembered for the 404 grace and their uploads
_PICTURE_FETCH = re.compile(c.PICTURE_FETCH_FAILED_PATTERN, re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class _Uploaded:
    url: str
    at: float  # time.monotonic() of the upload
    seen: float  # time.monotonic() when the link was last known to answer


@dataclass(frozen=True)
class _Created:
    """A task this client created: when, and which of its uploads it used."""

    at: float
    uploads: tuple[str, ...]  # sha256 of the uploaded pictures it used


class AsyncClient:
    """FoxAPI's video API for Kling V3 image-to-video, async, on one connection pool."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        poll_policy: PollPolicy | None = None,
        check_remote_pictures: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        service = resolve_service(api_key, base_url)
        self._key = service.api_key
        self.base_url = service.base_url
        self.poll_policy = poll_policy or PollPolicy()
        self.check_remote_pictures = check_remote_pictures
        self._http = Http(
            self.base_url, self._key, timeout=timeout, max_retries=max_retries, transport=transport
        )
        # Pictures, public URLs and videos are fetched without the key: it must never reach
        # other hosts. Same transport: `transport=` is the one seam that reaches every request.
        self._public = httpx.AsyncClient(
            timeout=timeout, follow_redirects=True, transport=transport
        )
        self._uploaded: dict[str, _Uploaded] = {}  # sha256 of picture bytes -> its upload
        self._created: dict[str, _Created] = {}  # task id -> when this client created it
        # One lock per picture: prepares running at once (a batch, an A/B grid) share one upload.
        self._upload_locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"AsyncClient(base_url={self.base_url!r}, api_key={mask_key(self._key)})"

    @property
    def has_key(self) -> bool:
        return self._key is not None

    @property
    def requests_sent(self) -> int:
        """How many HTTP requests went to the API (retries included)."""
        return self._http.requests_sent

    @property
    def public_http(self) -> httpx.AsyncClient:
        """The keyless HTTP client for other hosts (pictures, videos), on `transport=`."""
        return self._public

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._public.aclose()

    def _require_key(self) -> None:
        if not self._key:
            raise ConfigurationError(
                "no API key: set FOXAPI_API_KEY or pass api_key=...; to try kling-studio "
                "without one, start the simulator: `with Simulator() as sim: "
                "Client(sim.api_key, sim.base_url)`"
            )

    # --- requests ---------------------------------------------------------------------------

    async def prepare(
        self, request: VideoRequest | None = None, /, **fields: Any
    ) -> PreparedRequest:
        """Check every rule, then upload local pictures: the exact body a create will send.

        Every problem (fields and local pictures) is reported at once, before any request.
        """
        request = _as_request(request, fields)
        problems = request.problems()
        local: dict[str, Picture] = {}
        for name, source in (("image", request.image), ("image_tail", request.image_tail)):
            if source is None or is_url(source):
                continue
            try:
                local[name] = load_local_picture(source, name)
            except InputError as exc:
                problems.extend(exc.problems)
        if problems:
            raise InputError(problems)
        for name, source in (("image", request.image), ("image_tail", request.image_tail)):
            if isinstance(source, str) and is_url(source) and self.check_remote_pictures:
                await self._check_remote_picture(source, name)
        self._require_key()
        urls: dict[str, str | None] = {"image": None, "image_tail": None}
        for name, source in (("image", request.image), ("image_tail", request.image_tail)):
            if name in local:
                urls[name] = await self.upload(local[name])
            elif isinstance(source, str):
                urls[name] = source
        image_url = urls["image"]
        assert image_url is not None  # checked above: image is required
        identity = request.payload(
            f"sha256:{local['image'].sha256}" if "image" in local else image_url,
            f"sha256:{local['image_tail'].sha256}" if "image_tail" in local else urls["image_tail"],
        )
        return PreparedRequest(request, request.payload(image_url, urls["image_tail"]), identity)

    async def create(self, prepared: PreparedRequest, *, deadline: float | None = None) -> Task:
        """Send one create request. Raises CreateOutcomeUnknown if its answer was lost or holds
        no usable task id (the task may exist: it is never re-sent). `deadline` is on
        time.monotonic() and bounds the request in flight."""
        task = await self._create(prepared.payload, deadline)
        used = tuple(
            sha
            for sha, up in self._uploaded.items()
            if up.url in (prepared.payload.get("image_url"), prepared.payload.get("image_tail_url"))
        )
        self._created[task.id] = _Created(time.monotonic(), used)
        while len(self._created) > RECENT_CREATES_MAX:
            self._created.pop(next(iter(self._created)))
        return task

    async def _create(self, payload: dict[str, Any], deadline: float | None) -> Task:
        from ..tasks import NotATask, Task

        self._require_key()
        data = await self._http.request_json(
            "POST", c.CREATE_PATH, retry=Retry.CREATE, json=payload, deadline=deadline
        )
        try:
            return Task.from_api(data)
        except NotATask as exc:
            # A 200 to a create may mean it was accepted: unknown, never refused.
            raise CreateOutcomeUnknown(
                f"the create was answered, but {exc}", task_id=exc.task_id
            ) from None

    async def submit(self, request: VideoRequest | None = None, /, **fields: Any) -> Task:
        """Check, upload local pictures, create the task; returns it pending."""
        return await self.create(await self.prepare(request, **fields))

    async def get(
        self, task_id: str, *, sync_upstream: bool = False, deadline: float | None = None
    ) -> Task:
        """The task's current state (GET /v1/tasks/{id}), retried on transient failures."""
        path = task_path(task_id)
        self._require_key()
        params = {"sync_upstream": "true"} if sync_upstream else None
        attempt = 0
        while True:
            try:
                data = await self._http.request_json(
                    "GET",
                    path,
                    retry=Retry.IDEMPOTENT,
                    task_id=task_id,
                    params=params,
                    deadline=deadline,
                )
                break
            except NotFoundError as exc:
                delay = self._not_found_delay(task_id, attempt, deadline, exc)
                attempt += 1
                await asyncio.sleep(delay)
        if isinstance(data, dict) and data.get("id") in (None, "") and "status" in data:
            data = {**data, "id": task_id}  # a state without its id is still this task's
        from ..tasks import NotATask, Task

        try:
            task = Task.from_api(data)
        except NotATask as exc:
            raise TransportError(
                f"the answer about task {task_id} is not a task ({exc}); ask again later",
                method="GET",
                path=path,
            ) from None
        return self._observed(task)

    def _not_found_delay(
        self, task_id: str, attempt: int, deadline: float | None, exc: NotFoundError
    ) -> float:
        """How long to wait before asking again about a task that was not found, or raise.

        A task this client created moments ago may not be readable everywhere yet: within
        contract.NOT_FOUND_GRACE_S of its create a 404 is transient. After that it is final.
        """
        created = self._created.get(task_id)
        if created is None:
            raise exc
        now = time.monotonic()
        grace_end = created.at + c.NOT_FOUND_GRACE_S
        delay = min(self._http.backoff.delay(attempt), max(0.0, grace_end - now))
        if now >= grace_end:
            raise NotFoundError(
                f"task {task_id} is still not found {now - created.at:.0f} s after FoxAPI "
                "accepted its create; it may have been lost. Look for it in your FoxAPI "
                "dashboard before submitting again (it may have been billed)",
                status_code=404,
                error_type=exc.error_type,
                code=exc.code,
                method=exc.method,
                path=exc.path,
                task_id=task_id,
            ) from None
        if deadline is not None and now + delay >= deadline:
            # Still within the grace: not "no such task", just no answer before the deadline.
            raise TransportError(
                f"task {task_id} was not readable yet {now - created.at:.1f} s after its create "
                "(FoxAPI answered 404) when the deadline came; ask again",
                method=exc.method,
                path=exc.path,
            ) from None
        return delay

    def _observed(self, task: Task) -> Task:
        """Bookkeeping on every fresh state of a task; returns the task to show."""
        created = self._created.get(task.id)
        if created is None or not task.done:
            return task
        del self._created[task.id]
        err = task.error
        if not (task.failed and err and created.uploads and _picture_fetch_failed(err)):
            return task
        # The upload's URL is dead (expired, or cleaned up): forget it, so a retry uploads the
        # picture afresh. The paid task is not re-sent behind the user's back.
        from ..tasks import TaskError

        for sha in created.uploads:
            self._uploaded.pop(sha, None)
        message = (
            f"{err.message} — the uploaded picture's link could not be fetched (it may have "
            "expired); kling-studio has forgotten that upload, so trying again uploads the "
            "picture afresh (this task was not re-sent)"
        )
        return task.model_copy(
            update={"error": TaskError(code=err.code, message=message, type=err.type)}
        )

    async def wait(
        self,
        task_or_id: Task | str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        on_progress: ProgressCallback | None = None,
        poll_policy: PollPolicy | None = None,
    ) -> Task:
        """Poll until the task finishes; `timeout` is the total deadline in seconds.

        Transient failures while polling do not end the wait: the task goes on at FoxAPI, so
        the waiter keeps asking until the deadline.
        """
        from ..tasks import Task

        policy = poll_policy or self.poll_policy
        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        if isinstance(task_or_id, Task):
            task: Task | None = task_or_id
            task_id = task_or_id.id
        else:
            task, task_id = None, task_or_id
        state = PollState(start=start, estimate=task.estimated_time if task else None)
        if task is None or task.done:
            task = await self._poll_once(task_id, deadline)
            if task is not None:
                state.estimate = task.estimated_time
                state.observe(time.monotonic(), task.progress, task.status)
                await _notify(on_progress, task)
        while task is None or not task.done:
            delay = next_delay(policy, state, time.monotonic())
            if deadline is not None and time.monotonic() + delay > deadline:
                delay = max(0.0, deadline - time.monotonic())
                if delay == 0.0:
                    raise WaitTimeout(task_id, timeout or 0.0, task)
            await asyncio.sleep(delay)
            fresh = await self._poll_once(task_id, deadline)
            if fresh is None:
                continue
            changed = task is None or (fresh.status, fresh.progress) != (task.status, task.progress)
            task = task.merged(fresh) if task else fresh
            if state.estimate is None:
                state.estimate = task.estimated_time
            state.observe(time.monotonic(), task.progress, task.status)
            if changed:
                await _notify(on_progress, task)
            if deadline is not None and not task.done and time.monotonic() >= deadline:
                raise WaitTimeout(task_id, timeout or 0.0, task)
        return task

    async def _poll_once(self, task_id: str, deadline: float | None) -> Task | None:
        """One GET; None after a transient failure that outlived its retries (the task itself
        is fine at FoxAPI, so the waiter just asks again later)."""
        try:
            return await self.get(task_id, deadline=deadline)
        except (TransportError, RateLimitError, ServerError):
            return None

    async def generate(
        self,
        request: VideoRequest | None = None,
        /,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        on_progress: ProgressCallback | None = None,
        **fields: Any,
    ) -> Task:
        """Submit and wait; `timeout` is the total deadline (uploads included) in seconds.

        Returns the finished task; a failed one comes back with status "failed" and `error`.
        """
        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        try:
            async with asyncio.timeout(timeout):
                prepared = await self.prepare(request, **fields)
        except TimeoutError:
            raise TransportError(
                f"the pictures were not uploaded within the {timeout:g} s deadline; nothing "
                "was created"
            ) from None
        task = await self.create(prepared, deadline=deadline)
        await _notify(on_progress, task)
        left = None if timeout is None else max(0.0, timeout - (time.monotonic() - start))
        return await self.wait(task, timeout=left, on_progress=on_progress)

    async def upload(self, picture: Any) -> str:
        """Upload a local picture (path, bytes, PIL image) through FoxAPI's file endpoint.

        Returns its public URL. The same bytes are uploaded once per client.
        """
        pic = picture if isinstance(picture, Picture) else load_local_picture(picture, "picture")
        if (url := self._fresh_upload(pic.sha256)) is not None:
            return url
        self._require_key()
        async with self._upload_locks.setdefault(pic.sha256, asyncio.Lock()):
            # Uploaded meanwhile, or an older link that still answers (asked once, here).
            if (url := await self._reusable_upload(pic.sha256)) is not None:
                return url
            data = await self._http.request_json(
                "POST",
                c.UPLOAD_STREAM_PATH,
                retry=Retry.IDEMPOTENT,
                files={"file": (pic.upload_name, pic.data, pic.mime)},
            )
            url = data.get("url") if isinstance(data, dict) else None
            if not isinstance(url, str) or not is_url(url):
                raise TransportError(
                    "the upload answer has no http(s) url",
                    method="POST",
                    path=c.UPLOAD_STREAM_PATH,
                )
            at = time.monotonic()
            self._uploaded[pic.sha256] = _Uploaded(url, at, at)
            return url

    def _fresh_upload(self, sha256: str) -> str | None:
        """The URL of an earlier upload of these bytes seen alive moments ago (no need to ask)."""
        done = self._uploaded.get(sha256)
        if done is None or time.monotonic() - done.seen > c.UPLOAD_URL_CHECK_AFTER_S:
            return None
        if time.monotonic() - done.at > c.UPLOAD_URL_REUSE_S:
            return None
        return done.url

    async def _reusable_upload(self, sha256: str) -> str | None:
        """The URL of an earlier upload of these bytes, unless it may have expired since: past
        UPLOAD_URL_REUSE_S it is dropped, and past UPLOAD_URL_CHECK_AFTER_S since it was last
        seen alive it is reused only if a HEAD still gets a 200."""
        done = self._uploaded.get(sha256)
        if done is None:
            return None
        if time.monotonic() - done.at > c.UPLOAD_URL_REUSE_S:
            del self._uploaded[sha256]
            return None
        if time.monotonic() - done.seen > c.UPLOAD_URL_CHECK_AFTER_S:
            if not await self._still_answers(done.url):
                self._uploaded.pop(sha256, None)
                return None
            self._uploaded[sha256] = replace(done, seen=time.monotonic())
        return done.url

    async def _still_answers(self, url: str) -> bool:
        """Whether a picture's link still serves it (keyless, like FoxAPI fetching it)."""
        try:
            answer = await self._public.head(url, timeout=10.0, follow_redirects=True)
        except httpx.HTTPError:
            return False  # unknown is not alive: uploading again is always safe
        return answer.status_code == 200

    async def create_voice(
        self, voice_url: str, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT
    ) -> str:
        """Create a voice from a public audio URL (5-30 s, one speaker); returns its voice id."""
        task = await self.wait(await self.start_voice(voice_url), timeout=timeout)
        task.raise_for_error()
        if not task.voice_id:
            raise TaskFailed(task)
        return task.voice_id

    async def start_voice(self, voice_url: str) -> Task:
        """Send the create of a voice (see create_voice); returns the task, pending."""
        if not is_url(voice_url):
            raise InputError(Problem("voice_url", f"must be an http(s) URL; got {voice_url!r}"))
        suffix = PurePosixPath(urlsplit(voice_url).path).suffix.lower()
        if suffix and suffix not in c.VOICE_AUDIO_EXTENSIONS:
            raise InputError(
                Problem(
                    "voice_url",
                    f"must be an audio recording ({', '.join(c.VOICE_AUDIO_EXTENSIONS)}) of "
                    f"5-30 s of one speaker; this one ends in {suffix!r}",
                )
            )
        return await self._create({"model": c.MODEL_CREATE_VOICE, "voice_url": voice_url}, None)

    async def fetch_picture(self, url: str, field: str = "image") -> Picture:
        """Fetch a picture URL (without the key) as FoxAPI would; InputError if it can't."""
        try:
            async with self._public.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise InputError(
                        Problem(
                            field,
                            f"{url} answered HTTP {response.status_code}; FoxAPI must be able "
                            "to fetch it — check the URL",
                        )
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > c.PICTURE_MAX_BYTES:
                        raise InputError(Problem(field, f"{url} is larger than 10 MB"))
        except httpx.HTTPError as exc:
            raise InputError(
                Problem(
                    field,
                    f"cannot fetch {url} ({type(exc).__name__}); FoxAPI must be able to "
                    "fetch it — check the URL or pass a local file",
                )
            ) from None
        return read_picture(b"".join(chunks), field, name=url.rsplit("/", 1)[-1] or url)

    async def _check_remote_picture(self, url: str, field: str) -> None:
        """Apply the section 6 checks to a picture URL before its create is sent."""
        problems = (await self.fetch_picture(url, field)).problems(field)
        if problems:
            raise InputError(problems)


_TASK_ID = re.compile(c.TASK_ID_PATTERN)


def task_path(task_id: object) -> str:
    """GET's path for a task, or InputError when the id would not stay one path segment there
    (`..` would send the key to `/v1`): the one place a task's URL is built."""
    if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id):
        shown = repr(task_id)[:80] if isinstance(task_id, str) else type(task_id).__name__
        raise InputError(
            Problem("task_id", f"is not a task id: {shown} ({c.TASK_ID_RULE}); nothing was sent")
        )
    return c.TASK_PATH.format(task_id=task_id)


def _as_request(request: VideoRequest | None, fields: dict[str, Any]) -> VideoRequest:
    if request is not None:
        if fields:
            return request.with_changes(**fields)
        if not isinstance(request, VideoRequest):
            raise InputError(Problem("request", "pass a VideoRequest or keyword fields"))
        return request
    VideoRequest.check_names(fields)  # a misspelt name first: it explains a "missing" field
    if "prompt" not in fields or "image" not in fields:
        missing = [f for f in ("prompt", "image") if f not in fields]
        raise InputError([Problem(f, "is required") for f in missing])
    return VideoRequest.build(**fields)


def _picture_fetch_failed(error: TaskError) -> bool:
    """Whether a task failed because its picture could not be fetched (contract.py decides)."""
    if error.code in c.PICTURE_FETCH_FAILED_CODES:
        return True
    return bool(_PICTURE_FETCH.search(error.message or ""))


async def _notify(callback: ProgressCallback | None, task: Task) -> None:
    if callback is None:
        return
    result = callback(task)
    if inspect.isawaitable(result):
        await result
