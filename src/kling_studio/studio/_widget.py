"""`Studio`: the notebook face of kling-studio (anywidget; front end in js/).

The widget owns no HTTP and no SQL: it turns front-end messages into runner and history calls
and runner events into small messages (docs/widget-protocol.md). Everything runs on the kernel's
event loop, so the notebook stays usable while tasks are in flight.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anywidget
import traitlets

from .. import contract as c
from ..client._async import AsyncClient
from ..client._engine import Engine
from ..compare import _core as cmp
from ..errors import InputError, KlingStudioError
from ..history._records import TaskRecord
from ..history._store import History
from ..models import VideoRequest
from ..pictures import Picture, is_url, load_local_picture, read_picture
from ..runner import Runner, request_from_record
from ._backend import Backend, choose_backend
from ._desk import Desk, grid_from_axes
from ._snippets import Snippets, snippets

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("kling_studio")
T = TypeVar("T")

STATIC = Path(__file__).parent / "static"
VIDEO_CHUNK_BYTES = 4 * 1024 * 1024  # Tornado drops websocket messages over 10 MB
SLOTS = ("image", "image_tail")
FORM_FIELDS = (
    "prompt",
    "negative_prompt",
    "resolution",
    "duration",
    "generate_audio",
    "voice_ids",
    "multi_prompt",
)


def default_form() -> dict[str, Any]:
    return {
        "prompt": "",
        "negative_prompt": "",
        "resolution": c.DEFAULT_RESOLUTION,
        "duration": c.DEFAULT_DURATION,
        "generate_audio": False,
        "voice_ids": [],
        "multi_prompt": [],
    }


class Studio(anywidget.AnyWidget):
    """Pick frames, write a prompt, press Generate, watch it run, play the video inline.

    With no key (argument or FOXAPI_API_KEY) it runs on the built-in simulator and says so.
    """

    _esm = STATIC / "widget.js"

    backend = traitlets.Dict().tag(sync=True)
    rules = traitlets.Dict().tag(sync=True)
    form = traitlets.Dict().tag(sync=True)
    pictures = traitlets.Dict().tag(sync=True)
    history_count = traitlets.Int(0).tag(sync=True)
    history_rev = traitlets.Int(0).tag(sync=True)
    error = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    comparison = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        history: History | str | Path | None = None,
        simulator: bool | None = None,
        time_scale: float = 0.2,
        max_in_flight: int = 4,
        resume: bool = True,
    ) -> None:
        # Keyword-only and no **kwargs: a misspelt option is an error, not silently ignored.
        backend = choose_backend(api_key, base_url, simulator=simulator, time_scale=time_scale)
        if isinstance(history, History):
            store = history
        elif history is not None:
            store = History(history)
        elif backend.mode == "simulator":
            # Simulated tasks stay out of the real history.
            from ..config import default_home

            store = History(default_home() / "simulator" / "history.sqlite3")
        else:
            store = History()
        super().__init__(
            backend=backend.public(),
            rules=c.rules_for_front_end(),
            form=default_form(),
            pictures={"image": None, "image_tail": None},
        )
        self._backend: Backend = backend
        self.history = store
        # HTTP and the tasks in flight live on the engine's loop (its own thread), so a cell that
        # blocks never freezes them; widget updates are posted back to this (the kernel's)
        # thread. See engine.py for why not nest-asyncio or widget updates from threads.
        self._engine = Engine("kling-studio")
        with contextlib.suppress(RuntimeError):
            self._engine.set_home(asyncio.get_running_loop())
        self.client = AsyncClient(backend.api_key, backend.base_url)
        self.runner = Runner(self.client, store, max_in_flight=max_in_flight)
        self._pictures: dict[str, Picture | str | None] = {"image": None, "image_tail": None}
        self._background: set[asyncio.Future[Any]] = set()
        self._desk = Desk(self.runner, self.client, self._set_comparison)
        self.runner.subscribe(lambda card: self._engine.post(lambda: self._on_card(card)))
        self.on_msg(self._on_message)
        self._refresh_history()
        if resume:
            self._engine.submit(self.runner.resume()).add_done_callback(self._engine_done)

    def __repr__(self) -> str:
        return f"Studio(backend={self._backend!r}, history={str(self.history.path)!r})"

    # --- Python API -------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._backend.mode

    def set_image(self, source: Any) -> dict[str, Any]:
        """Set the first frame: an http(s) URL, a path, bytes or a PIL image."""
        return self._set_picture_now("image", source)

    def set_image_tail(self, source: Any) -> dict[str, Any]:
        """Set (or with None, clear) the last frame."""
        if source is None:
            self._clear_picture("image_tail")
            return {}
        return self._set_picture_now("image_tail", source)

    def update_form(self, **fields: Any) -> None:
        """Change some fields of the form (prompt, duration, ...)."""
        unknown = sorted(set(fields) - set(FORM_FIELDS))
        if unknown:
            raise InputError(f"unknown form field(s) {unknown}; use {list(FORM_FIELDS)}")
        self.form = {**self.form, **fields}

    def request(self, **overrides: Any) -> VideoRequest:
        """The VideoRequest the form and pictures describe (with overrides)."""
        form = {**self.form}
        fields: dict[str, Any] = {
            "prompt": form.get("prompt") or "",
            "image": self._pictures["image"],
            "image_tail": self._pictures["image_tail"],
            "resolution": form.get("resolution") or None,
            "duration": form.get("duration") or None,
            "generate_audio": True if form.get("generate_audio") else None,
            "negative_prompt": form.get("negative_prompt") or None,
            "voice_ids": [v for v in form.get("voice_ids") or [] if v] or None,
            "multi_prompt": form.get("multi_prompt") or None,
        }
        if isinstance(fields["image"], Picture):
            fields["image"] = fields["image"].data
        if isinstance(fields["image_tail"], Picture):
            fields["image_tail"] = fields["image_tail"].data
        fields.update(overrides)
        if fields["image"] is None:
            raise InputError("is required: pick a first frame", field="image")
        return VideoRequest.build(**fields)

    def submit(self, **overrides: Any) -> str:
        """Start a task from the form (fields given here win); returns its local id at once
        (after checking every rule and uploading local pictures)."""
        local_id = self._run(self._submit(self.request(**overrides)))
        self._refresh_history()
        return local_id

    async def asubmit(self, **overrides: Any) -> str:
        """`await studio.asubmit(...)`: the same, for async code."""
        local_id = await self._engine.arun(self._submit(self.request(**overrides)))
        self._refresh_history()
        return local_id

    def generate(self, *, timeout: float | None = None, **overrides: Any) -> TaskRecord:
        """Start a task and wait for its video; returns its history record. The widget's card
        moves while this blocks."""
        local_id = self.submit(**overrides)
        return self._run(self._finished(local_id, timeout))

    async def agenerate(self, *, timeout: float | None = None, **overrides: Any) -> TaskRecord:
        """`await studio.agenerate(...)`: the same, for async code."""
        local_id = await self.asubmit(**overrides)
        return await self._engine.arun(self._finished(local_id, timeout))

    async def _finished(self, local_id: str, timeout: float | None) -> TaskRecord:
        return await asyncio.wait_for(self.runner.finished(local_id), timeout)

    def remix(self, local_id: str, **changes: Any) -> str:
        """A new task from a past one with some fields changed; returns the new local id."""
        local_id = self._run(self._submit(self.runner.request_from(local_id, **changes)))
        self._refresh_history()
        return local_id

    def resume(self) -> list[str]:
        """Follow unfinished tasks of the history to their end (done at start by default)."""
        return self._run(self.runner.resume())

    def history_df(self, **filters: Any) -> Any:
        """The history as a pandas DataFrame (filters: status, since, text)."""
        return self.history.df(**filters)

    def wait_all(self, timeout: float | None = None) -> None:
        """Block until every task in flight (and every queued variant of a comparison) ended."""
        self._run(self._join_within(timeout))

    async def await_all(self, timeout: float | None = None) -> None:
        """`await studio.await_all()`: the same, for async code."""
        await self._engine.arun(self._join_within(timeout))

    async def _join_within(self, timeout: float | None) -> None:
        await asyncio.wait_for(self._join(), timeout)

    async def _join(self) -> None:
        await self._desk.join()
        await self.runner.join()

    # --- A/B comparisons (compare.py, widget_compare.py) ------------------------------------

    def plan_comparison(
        self,
        *,
        prompts: Sequence[str] | None = None,
        negative_prompts: Sequence[str] | None = None,
        resolutions: Sequence[str] | None = None,
        durations: Sequence[int] | None = None,
        images: Sequence[Any] | None = None,
        variants: Sequence[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """What `compare` would run, sending nothing: `{count, variants, differing, reused}`."""
        grid = self._grid(prompts, negative_prompts, resolutions, durations, images, variants)
        return self._desk.plan_reply(grid)

    def compare(
        self,
        *,
        prompts: Sequence[str] | None = None,
        negative_prompts: Sequence[str] | None = None,
        resolutions: Sequence[str] | None = None,
        durations: Sequence[int] | None = None,
        images: Sequence[Any] | None = None,
        variants: Sequence[dict[str, Any]] | None = None,
        reuse: bool = True,
        max_concurrency: int = cmp.DEFAULT_MAX_CONCURRENCY,
        confirm: bool = False,
        title: str | None = None,
        group_id: str | None = None,
    ) -> str:
        """Run an A/B grid from the form (the lists given are its axes) and show it; returns
        its group id at once. More than 4 tasks need `confirm=True`. A variant identical to a
        finished task of the history is reused unless `reuse=False`."""
        grid = self._grid(prompts, negative_prompts, resolutions, durations, images, variants)
        comparison = self._run(
            self._desk.run(
                grid,
                confirm=confirm,
                hint="pass confirm=True",
                reuse=reuse,
                max_concurrency=max_concurrency,
                title=title,
                group_id=group_id,
            )
        )
        return comparison.group_id

    def compare_df(self, group_id: str | None = None) -> pd.DataFrame:
        """A row per variant of a comparison (the latest by default)."""
        return self._desk.get(group_id).df()

    def export_comparison(self, path: str | Path, group_id: str | None = None) -> Path:
        """Write a comparison (the latest by default) as .csv or as a self-contained .html."""
        comparison = self._desk.get(group_id)
        suffix = Path(path).suffix.lower()
        if suffix == ".csv":
            return comparison.export_csv(path)
        if suffix in (".html", ".htm"):
            return comparison.export_html(path)
        raise InputError(f"export to .csv or .html, not {suffix or 'no extension'!r}", "path")

    def show_comparison(self, group_id: str | None = None) -> None:
        """Show a comparison (the latest by default) in the widget."""
        self._desk.show(self._desk.get(group_id))

    def rate(
        self,
        local_id: str,
        rating: int | None = None,
        winner: bool | None = None,
        note: str | None = None,
    ) -> None:
        """Judge a task: a 1-5 rating, a winner mark, a note (None leaves a value as it is)."""
        self._desk.rate(local_id, rating=rating, winner=winner, note=note)

    def snippets(self, local_id: str) -> Snippets:
        """The task's HTTP request and last answer, and the calls as curl and httpx."""
        record = self.history.get(local_id)
        if record is None:
            raise InputError(f"no task {local_id!r} in the history", "local_id")
        return snippets(record, base_url=self._backend.base_url)

    def _grid(
        self,
        prompts: Sequence[str] | None,
        negative_prompts: Sequence[str] | None,
        resolutions: Sequence[str] | None,
        durations: Sequence[int] | None,
        images: Sequence[Any] | None,
        variants: Sequence[dict[str, Any]] | None,
    ) -> cmp.Grid:
        overrides: dict[str, Any] = {}
        if images and self._pictures["image"] is None:
            first = images[0]
            overrides["image"] = first[0] if isinstance(first, tuple | list) else first
        return cmp.plan_grid(
            self.request(**overrides),
            prompts=prompts,
            negative_prompts=negative_prompts,
            resolutions=resolutions,
            durations=durations,
            images=images,
            variants=variants,
            picture_names=self._picture_names(),
        )

    def _picture_names(self) -> dict[str, str]:
        """sha256 -> the name the user picked, so a cell says "dusk.png", not a hash."""
        return {
            pic.sha256: pic.name
            for pic in self._pictures.values()
            if isinstance(pic, Picture) and pic.name not in ("", "bytes", "image", "picture")
        }

    def _set_comparison(self, value: dict[str, Any] | None) -> None:
        if self._engine.in_engine_thread:  # a grid's change notice: widgets change on our thread
            self._engine.post(lambda: self._set_comparison(value))
            return
        self.set_trait("comparison", value)  # the trait allows None; its stub does not say so

    def close(self) -> None:
        """Stop following tasks (they go on at FoxAPI; a new Studio resumes them)."""
        engine: Engine | None = self.__dict__.get("_engine")  # None if __init__ failed
        if engine is not None and not engine.closed and not engine.in_engine_thread:
            if "runner" in self.__dict__:
                with contextlib.suppress(Exception):
                    engine.run(self._aclose(), timeout=10)
            engine.close()
        super().close()

    async def _aclose(self) -> None:
        self._desk.cancel_all()
        await self.runner.aclose()
        await self.client.aclose()

    # --- plumbing ---------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Block until `coro` ends on the engine; posted widget updates run here meanwhile."""
        return self._engine.run(coro)

    def _engine_done(self, future: concurrent.futures.Future[Any]) -> None:
        """A background job on the engine ended: show its failure next to the widget."""
        if not future.cancelled() and future.exception() is not None:
            exc = future.exception()
            self._engine.post(lambda: self._show_error(exc))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run in the background on the kernel's loop; report failures next to the widget."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()  # no loop (plain script): the caller drives the work itself
            return
        future = loop.create_task(coro)
        self._background.add(future)
        future.add_done_callback(self._background_done)

    def _background_done(self, future: asyncio.Future[Any]) -> None:
        self._background.discard(future)
        if not future.cancelled() and future.exception() is not None:
            self._show_error(future.exception())

    def _show_error(self, exc: BaseException | None) -> None:
        if exc is None:
            return
        log.warning("studio: %s", exc)
        self.error = {"message": f"{type(exc).__name__}: {exc}", "at": time.time()}

    async def _submit(self, request: VideoRequest) -> str:
        """On the engine: check, upload, start. The caller refreshes the history traits."""
        prepared = await self.client.prepare(request)
        return self.runner.start(prepared)

    def _on_card(self, card: dict[str, Any]) -> None:
        self.send({"kind": "task", "card": card})
        self._desk.on_card(card)  # a dict lookup unless a shown variant changed status
        if card["status"] != "processing" or card["progress"] == 0 or card.get("has_video"):
            self._refresh_history()

    def _refresh_history(self) -> None:
        self.history_count = self.history.count()
        self.history_rev += 1

    # --- pictures ---------------------------------------------------------------------------

    def _set_picture_now(self, slot: str, source: Any, name: str | None = None) -> dict[str, Any]:
        """Blocking: a URL is fetched (and checked) on the engine."""
        if isinstance(source, str) and is_url(source):
            _check_slot(slot)
            return self._keep_url_picture(
                slot, source, self._run(self.client.fetch_picture(source, slot))
            )
        return self._keep_local_picture(slot, source, name)

    async def _set_picture(self, slot: str, source: Any, name: str | None = None) -> dict[str, Any]:
        if isinstance(source, str) and is_url(source):
            _check_slot(slot)
            pic = await self._engine.arun(self.client.fetch_picture(source, slot))
            return self._keep_url_picture(slot, source, pic)
        return self._keep_local_picture(slot, source, name)

    def _keep_url_picture(self, slot: str, url: str, pic: Picture) -> dict[str, Any]:
        self._pictures[slot] = url
        return self._show_picture(slot, picture_info(pic, slot, url=url))

    def _keep_local_picture(self, slot: str, source: Any, name: str | None) -> dict[str, Any]:
        _check_slot(slot)
        try:
            pic = load_local_picture(source, slot)
        except InputError:
            if not isinstance(source, bytes | bytearray | memoryview):
                raise
            # Keep a bad picture visible with its problems, so the user sees what to fix.
            pic = read_picture(bytes(source), slot, name=name or "picture")
        if name:
            pic = Picture(pic.data, pic.format, pic.width, pic.height, name)
        self._pictures[slot] = pic
        return self._show_picture(slot, picture_info(pic, slot))

    def _show_picture(self, slot: str, info: dict[str, Any]) -> dict[str, Any]:
        self.pictures = {**self.pictures, slot: info}
        return info

    def _clear_picture(self, slot: str) -> None:
        self._pictures[slot] = None
        self.pictures = {**self.pictures, slot: None}

    # --- messages from the front end --------------------------------------------------------

    def _on_message(self, _widget: Any, content: dict[str, Any], buffers: list[bytes]) -> None:
        if not isinstance(content, dict):
            return
        self._spawn(self._answer(content, buffers))

    async def _answer(self, msg: dict[str, Any], buffers: list[bytes]) -> None:
        req_id = msg.get("req_id")
        kind = msg.get("kind")
        try:
            handler = getattr(self, f"_msg_{kind}", None) if isinstance(kind, str) else None
            if handler is None:
                raise InputError(f"unknown message kind {kind!r}", field="kind")
            data = await handler(msg, buffers, req_id)
        except KlingStudioError as exc:
            field = getattr(exc, "field", None)
            self._reply(req_id, ok=False, error={"message": str(exc), "field": field})
            if not isinstance(exc, InputError):
                self._show_error(exc)
        except Exception as exc:
            self._reply(req_id, ok=False, error={"message": f"{type(exc).__name__}: {exc}"})
            self._show_error(exc)
        else:
            self._reply(req_id, ok=True, data=data)

    def _reply(self, req_id: Any, **fields: Any) -> None:
        if req_id is not None:
            self.send({"kind": "reply", "req_id": req_id, **fields})

    async def _msg_snapshot(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        return {"cards": await self._engine.arun(self._cards())}

    async def _cards(self) -> list[dict[str, Any]]:
        return self.runner.cards()  # on the engine, where the runner's state changes

    async def _msg_set_picture(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        slot = str(msg.get("slot"))
        if msg.get("url"):
            return await self._set_picture(slot, str(msg["url"]))
        if not buffers:
            raise InputError("no picture bytes arrived", field=slot)
        return await self._set_picture(slot, bytes(buffers[0]), name=str(msg.get("name") or ""))

    async def _msg_clear_picture(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        self._clear_picture(str(msg.get("slot")))
        return None

    async def _msg_generate(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        return {"local_id": await self.asubmit()}

    async def _msg_history(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        filters: dict[str, Any] = {}
        if msg.get("status"):
            filters["status"] = msg["status"]
        if msg.get("text"):
            filters["text"] = str(msg["text"])
        limit = max(1, min(int(msg.get("limit") or 50), 10_000))
        offset = max(0, int(msg.get("offset") or 0))
        rows = self.history.records(limit=limit, offset=offset, **filters)
        return {"rows": [history_row(r) for r in rows], "total": self.history.count(**filters)}

    async def _msg_video(self, msg: dict[str, Any], buffers: list[bytes], req_id: Any) -> Any:
        record = self.history.get(str(msg.get("local_id")))
        if record is None:
            raise InputError("no such task in the history", field="local_id")
        path = record.video_path
        if (path is None or not path.is_file()) and msg.get("force_bytes") and record.video_url:
            path = await self._engine.arun(
                self.runner.cache.download(record.video_url, record.task_id or "video")
            )
            self.history.set_video(record.local_id, path)
        if path is not None and path.is_file():
            return self._send_file(path, req_id)
        if record.video_url and not record.url_expired:
            return {"url": record.video_url, "mime": "video/mp4", "size": None, "chunks": 0}
        raise KlingStudioError(record.download_error or "this task has no video")

    def _send_file(self, path: Path, req_id: Any) -> dict[str, Any]:
        data = path.read_bytes()
        chunks = [data[i : i + VIDEO_CHUNK_BYTES] for i in range(0, len(data), VIDEO_CHUNK_BYTES)]
        for seq, chunk in enumerate(chunks):
            self.send(
                {
                    "kind": "video_chunk",
                    "req_id": req_id,
                    "seq": seq,
                    "total": len(chunks),
                    "mime": "video/mp4",
                },
                [chunk],
            )
        return {"url": None, "mime": "video/mp4", "size": len(data), "chunks": len(chunks)}

    async def _msg_load_settings(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        record = self.history.get(str(msg.get("local_id")))
        if record is None:
            raise InputError("no such task in the history", field="local_id")
        request = request_from_record(record)
        self.form = form_from_request(request)
        for slot, source in (("image", request.image), ("image_tail", request.image_tail)):
            if isinstance(source, str) and is_url(source):
                self._pictures[slot] = source
                self.pictures = {**self.pictures, slot: url_picture_info(source, slot)}
            else:
                self._clear_picture(slot)
        return None

    async def _msg_remix(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        changes = msg.get("changes") or {}
        if not isinstance(changes, dict):
            raise InputError("changes must be an object of form fields", field="changes")
        unknown = set(changes) - set(FORM_FIELDS)
        if unknown:
            raise InputError(f"unknown field(s) {sorted(unknown)}", field="changes")
        request = self.runner.request_from(str(msg.get("local_id")), **changes)
        local_id = await self._engine.arun(self._submit(request))
        self._refresh_history()
        return {"local_id": local_id}

    def _axes_grid(self, msg: dict[str, Any]) -> cmp.Grid:
        tail = self._pictures["image_tail"]
        return grid_from_axes(
            msg.get("axes"),
            self.request(),
            image_tail=tail.data if isinstance(tail, Picture) else tail,
            picture_names=self._picture_names(),
        )

    async def _msg_compare_plan(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        return self._desk.plan_reply(self._axes_grid(msg))

    async def _msg_compare_run(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        grid = self._axes_grid(msg)
        confirmed = msg.get("confirmed") is True
        comparison = await self._engine.arun(
            self._desk.run(grid, confirm=confirmed, hint="confirm to send them")
        )
        return {"group_id": comparison.group_id}

    async def _msg_compare_open(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        group_id = msg.get("group_id")
        if not isinstance(group_id, str) or not group_id:
            raise InputError("compare_open needs a group_id", "group_id")
        self._desk.show(self._desk.get(group_id))
        return None

    async def _msg_rate(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        self._desk.rate_message(msg)
        return None


def _check_slot(slot: str) -> None:
    if slot not in SLOTS:
        raise InputError(f"slot must be one of {SLOTS}", field="slot")


def picture_info(pic: Picture, slot: str, url: str | None = None) -> dict[str, Any]:
    """PictureInfo for the front end: size, format, a small thumb, and the broken rules."""
    try:
        thumb = "data:image/jpeg;base64," + base64.b64encode(pic.thumbnail_jpeg()).decode()
    except Exception:  # a picture Pillow can identify but not decode: no thumb
        thumb = None
    return {
        "name": pic.name,
        "source": "url" if url else "file",
        "url": url,
        "width": pic.width,
        "height": pic.height,
        "size": pic.size,
        "format": pic.format,
        "thumb": thumb,
        "problems": [p.message for p in pic.problems(slot)],
    }


def url_picture_info(url: str, slot: str) -> dict[str, Any]:
    return {
        "name": url.rsplit("/", 1)[-1],
        "source": "url",
        "url": url,
        "width": 0,
        "height": 0,
        "size": 0,
        "format": "",
        "thumb": None,
        "problems": [],
    }


def form_from_request(request: VideoRequest) -> dict[str, Any]:
    return {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt or "",
        "resolution": request.effective_resolution,
        "duration": request.effective_duration,
        "generate_audio": bool(request.generate_audio),
        "voice_ids": list(request.voice_ids or []),
        "multi_prompt": [
            {"prompt": s.prompt, "duration": s.duration} for s in request.multi_prompt or []
        ],
    }


def history_row(record: TaskRecord) -> dict[str, Any]:
    """HistoryRow (docs/widget-protocol.md)."""
    return {
        "local_id": record.local_id,
        "task_id": record.task_id,
        "status": record.status,
        "prompt": record.prompt[:500],
        "negative_prompt": record.negative_prompt,
        "resolution": record.resolution,
        "duration": record.duration,
        "generate_audio": record.generate_audio,
        "created": record.submitted_at.timestamp(),
        "finished": record.finished_at.timestamp() if record.finished_at else None,
        "elapsed": round(record.elapsed, 2),
        "error_code": record.error_code
        or ("create_outcome_unknown" if record.status == "unknown" else None),
        "error_message": record.error_message or record.unknown_reason or record.download_error,
        "has_video": record.has_video,
    }
