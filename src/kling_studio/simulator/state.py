"""Everything the simulator remembers: tasks and their timelines, uploads, balance, counters.

A task's life is decided when it is created (how long it will really take, whether it will
fail) and its status is read off the clock whenever someone asks, so nothing has to tick.
The only outside event is the output becoming ready (a render finishing): a task is never
``completed`` before its file exists.

One lock guards it all: the server thread, render workers and the caller's thread all touch it.
"""

from __future__ import annotations

import copy
import random
import string
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import tariff
from .progress import EVEN, Curve
from .render import Rendered
from .validation import VOICE_MODEL

RESULT_SHAPES = ("objects", "strings", "video_url", "output", "mixed")
FAIL_CODES = {
    "content_policy_violation": "The prompt or picture was flagged by the content policy.",
    "upstream_error": "The upstream video service returned an error; try again later.",
    "image_fetch_failed": "The upstream service could not download image_url.",
}


def check_result_shape(shape: object) -> str:
    if not isinstance(shape, str) or shape not in RESULT_SHAPES:
        raise ValueError(f"result_shape must be one of {', '.join(RESULT_SHAPES)}")
    return shape


class Clock:
    """Monotonic seconds for timelines, wall seconds for ``created`` timestamps."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> int:
        return int(time.time())


class QuotaExceeded(Exception):
    def __init__(self, needed: int, left: float) -> None:
        super().__init__(f"this task needs {needed} credits; the balance is {left:g}")
        self.needed = needed
        self.left = left


@dataclass
class Task:
    id: str
    request: dict[str, Any]  # validated, defaults filled in
    body: dict[str, Any]  # exactly as received
    created: int  # wall clock, for the envelope
    started_at: float  # monotonic
    estimate: float  # seconds shown as task_info.estimated_time
    duration: float  # seconds it really takes (scattered around the estimate)
    pending_for: float  # seconds spent "pending" before "processing"
    credits: int
    shape: str  # result shape used when the simulator is in "mixed" mode
    rng: random.Random
    fail_at: float | None = None
    error: dict[str, str] | None = None
    ready_at: float | None = None  # when the output (video file, voice id) came to exist
    output: Rendered | None = None
    voice_id: str | None = None
    expired: bool = False
    progress_seen: int = 0
    curve: Curve = EVEN
    gets: int = 0  # GET /v1/tasks/{id} answered for it (how many kernels poll it, in tests)
    pollers: set[str] = field(default_factory=set)  # short hashes of the keys that polled it
    video_gets: int = 0  # downloads of its video

    @property
    def is_voice(self) -> bool:
        return bool(self.request["model"] == VOICE_MODEL)

    @property
    def end(self) -> float:
        return self.started_at + self.duration

    def completed_at(self) -> float | None:
        if self.ready_at is None or self.fail_at is not None:
            return None
        return max(self.end, self.ready_at)

    def status(self, now: float) -> str:
        if self.fail_at is not None and now >= self.fail_at:
            return "failed"
        done = self.completed_at()
        if done is not None and now >= done:
            return "completed"
        if now < self.started_at + self.pending_for:
            return "pending"
        return "processing"

    def progress(self, now: float, status: str) -> int:
        """The curve's value from the end of "pending" to the true end, never going back."""
        if status == "completed":
            return 100
        if status == "failed":
            assert self.fail_at is not None
            now = self.fail_at
        begin = self.started_at + self.pending_for
        if now <= begin:
            return self.progress_seen
        fraction = (now - begin) / max(1e-9, self.end - begin)
        value = self.curve.value(fraction, self.rng, noisy=status == "processing")
        self.progress_seen = max(self.progress_seen, value)
        return self.progress_seen


@dataclass
class Upload:
    id: str
    filename: str
    path: Path
    size: int
    created: int
    created_at: float
    content_type: str


@dataclass
class Store:
    time_scale: float
    seed: int
    balance: float | None = None
    url_ttl: float = 86400.0
    upload_ttl: float | None = None  # seconds an upload's link lives; None: as url_ttl
    result_shape: str = "objects"
    curve: Curve = EVEN  # how progress moves and how long tasks take (see progress.py)
    clock: Clock = field(default_factory=Clock)
    requests: Counter[str] = field(default_factory=Counter)
    creates_accepted: int = 0
    picture_sources: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.tasks: dict[str, Task] = {}
        self.uploads: dict[str, Upload] = {}
        # Task ids must differ between simulators (two notebooks on one home, each with its own
        # simulator and the same seed, creating in the same second shared ids, and so one
        # video file): the id's tail comes from the OS, while the task's behaviour still
        # follows the seed and the order of creation.
        self._ids = random.SystemRandom()
        self._created = 0

    # -- tasks ----------------------------------------------------------------------------

    def create_task(
        self, request: dict[str, Any], body: dict[str, Any], *, fail: bool, variant: int
    ) -> Task:
        """Reserve credits and make the task; raises QuotaExceeded when the balance is short."""
        credits = tariff.credits(request)
        estimate = tariff.estimated_seconds(request, self.time_scale)
        with self.lock:
            if self.balance is not None:
                if credits > self.balance:
                    raise QuotaExceeded(credits, self.balance)
                self.balance -= credits
            created = self.clock.wall()
            task_id = self._new_id(created)
            self._created += 1
            rng = random.Random(f"task:{self.seed}:{self._created}")
            # Real durations scatter around the estimate (lognormal, clipped to 0.7x..1.4x).
            plan = self.curve.plan(
                estimate, rng, random.Random(f"queue:{self.seed}:{self._created}")
            )
            duration = plan.duration
            task = Task(
                id=task_id,
                request=request,
                body=copy.deepcopy(body),
                created=created,
                started_at=self.clock.now(),
                estimate=estimate,
                duration=duration,
                pending_for=plan.pending_for,
                credits=credits,
                shape=rng.choice(RESULT_SHAPES[:-1]),
                rng=rng,
                curve=self.curve,
            )
            if fail:
                code = list(FAIL_CODES)[variant % len(FAIL_CODES)]
                task.fail_at = task.started_at + duration * rng.uniform(0.3, 0.8)
                task.error = {"code": code, "message": FAIL_CODES[code], "type": "task_error"}
            if task.is_voice:
                task.voice_id = f"voice_{rng.getrandbits(64):016x}"
                task.ready_at = task.started_at
            self.tasks[task_id] = task
            self.creates_accepted += 1
            return task

    def _new_id(self, created: int) -> str:
        alphabet = string.ascii_lowercase + string.digits
        while True:
            task_id = f"task-unified-{created}-{''.join(self._ids.choices(alphabet, k=8))}"
            if task_id not in self.tasks:
                return task_id

    def task(self, task_id: str) -> Task | None:
        with self.lock:
            return self.tasks.get(task_id)

    def fail(self, task: Task, code: str, message: str) -> None:
        """Fail a task because of what it asked for; shown no earlier than the end of "pending"."""
        with self.lock:
            if task.fail_at is not None:
                return
            task.fail_at = max(self.clock.now(), task.started_at + task.pending_for)
            task.error = {"code": code, "message": message, "type": "task_error"}

    def output_ready(self, task: Task, output: Rendered) -> None:
        with self.lock:
            task.output = output
            task.ready_at = self.clock.now()

    def expire(self, task_id: str | None = None) -> int:
        with self.lock:
            chosen = list(self.tasks.values()) if task_id is None else [self.tasks[task_id]]
            for task in chosen:
                task.expired = True
            return len(chosen)

    def video_expired(self, task: Task) -> bool:
        with self.lock:
            done = task.completed_at()
            return task.expired or (done is not None and self.clock.now() > done + self.url_ttl)

    def view(self, task: Task, base_url: str) -> dict[str, Any]:
        """The task as ``GET /v1/tasks/{id}`` shows it."""
        with self.lock:
            now = self.clock.now()
            status = task.status(now)
            body: dict[str, Any] = {
                "created": task.created,
                "id": task.id,
                "model": task.request["model"],
                "object": "video.generation.task",
                "progress": task.progress(now, status),
                "status": status,
                "task_info": {
                    "can_cancel": True,
                    "estimated_time": tariff.wire_seconds(task.estimate),
                },
                "type": "video",
                "usage": {"credits_reserved": task.credits, "user_group": "default"},
            }
            if status == "failed":
                body["error"] = dict(task.error or {})
            elif status == "completed":
                body.update(self._results(task, base_url))
            return body

    def _results(self, task: Task, base_url: str) -> dict[str, Any]:
        if task.is_voice:
            return {"results": [{"voice_id": task.voice_id}]}
        assert task.output is not None
        out = task.output
        url = f"{base_url}/videos/{task.id}.mp4"
        shape = task.shape if self.result_shape == "mixed" else self.result_shape
        if shape == "strings":
            return {"results": [url]}
        if shape == "video_url":
            return {"results": [{"video_url": url}]}
        if shape == "output":
            return {
                "output": {
                    "url": url,
                    "urls": [url],
                    "duration": out.duration,
                    "width": out.width,
                    "height": out.height,
                }
            }
        return {"results": [{"url": url, "width": out.width, "height": out.height}]}

    def created_log(self) -> list[dict[str, Any]]:
        with self.lock:
            now = self.clock.now()
            return [
                {
                    "id": t.id,
                    "model": t.request["model"],
                    "created": t.created,
                    "body": copy.deepcopy(t.body),
                    "status": t.status(now),
                    "gets": t.gets,
                    "pollers": sorted(t.pollers),
                    "video_gets": t.video_gets,
                }
                for t in self.tasks.values()
            ]

    # -- uploads --------------------------------------------------------------------------

    def add_upload(self, upload: Upload) -> None:
        with self.lock:
            self.uploads[upload.id] = upload

    def upload(self, upload_id: str) -> Upload | None:
        with self.lock:
            return self.uploads.get(upload_id)

    def upload_expired(self, upload: Upload) -> bool:
        ttl = self.url_ttl if self.upload_ttl is None else self.upload_ttl
        return self.clock.now() > upload.created_at + ttl

    def new_upload_id(self) -> str:
        with self.lock:
            return f"file-{self._ids.getrandbits(96):024x}"

    # -- numbers --------------------------------------------------------------------------

    def count(self, route: str) -> None:
        with self.lock:
            self.requests[route] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            now = self.clock.now()
            return {
                "requests": dict(self.requests),
                "creates_accepted": self.creates_accepted,
                "tasks": dict(Counter(t.status(now) for t in self.tasks.values())),
                "uploads": len(self.uploads),
                "picture_sources": dict(self.picture_sources),
                "balance": self.balance,
                "result_shape": self.result_shape,
                "progress": self.curve.name,
            }
