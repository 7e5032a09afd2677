"""`Studio`: the notebook face of kling-studio (anywidget; front end in js/).

The widget owns no HTTP and no SQL: it turns front-end messages into runner and history calls
and runner events into small messages (docs/widget-protocol.md). Everything runs on the kernel's
event loop, so the notebook stays usable while tasks are in flight.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

import anywidget
import traitlets

from .. import contract as c
from ..budget import Budget, PriceTable
from ..client._async import AsyncClient
from ..client._engine import Engine
from ..errors import InputError
from ..history._records import TaskRecord
from ..history._store import History
from ..models import VideoRequest
from ..pictures import Picture, is_url, load_local_picture, read_picture
from ..runner import Runner, card_from_record
from ._backend import Backend, choose_backend
from ._batching import BatchMethods
from ._clips import last_frame_picture, stitch_records
from ._comparing import ComparisonMethods
from ._desk import Desk
from ._fallback import Fallback
from ._messages import Messages
from ._protocol import PictureInfo
from ._shapes import FORM_FIELDS, check_slot, default_form, picture_info
from ._snippets import Snippets, snippets
from ._spending import SpendingViews

log = logging.getLogger("kling_studio")
T = TypeVar("T")

STATIC = Path(__file__).parent / "static"


class _Shown:
    """The default of `history_df(user=...)`: whatever `Studio(show=...)` chose."""


_SHOWN = _Shown()


class Studio(ComparisonMethods, BatchMethods, SpendingViews, anywidget.AnyWidget):
    """Pick frames, write a prompt, press Generate, watch it run, play the video inline.

    With no key (argument or FOXAPI_API_KEY) it runs on the built-in simulator and says so.
    `budget=Budget(...)` caps this user's spend (with any budget a teacher set in the history);
    `prices` is a price table for estimates before a first task with given settings.
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
    estimate = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    spending = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        history: History | str | Path | None = None,
        user: str | None = None,
        show: str = "mine",
        simulator: bool | None = None,
        time_scale: float = 0.2,
        max_in_flight: int = 4,
        resume: bool = True,
        budget: Budget | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        # Keyword-only and no **kwargs: a misspelt option is an error, not silently ignored.
        backend = choose_backend(api_key, base_url, simulator=simulator, time_scale=time_scale)
        # On the class gateway with the hub's token the gateway knows the person by the hub's
        # name; the local history uses the same one (KLING_STUDIO_USER cannot differ from it).
        user = user if user is not None else backend.user
        if not isinstance(show, str) or not show.strip():
            raise InputError(
                'show is "mine", "everyone" or a user name; got ' + repr(show), field="show"
            )
        if isinstance(history, History):
            store = history
        elif history is not None:
            store = History(history, user=user)
        elif backend.mode == "simulator":
            # Simulated tasks stay out of the real history.
            from ..config import history_path

            store = History(history_path(simulator=True), user=user)
        else:
            store = History(user=user)  # KLING_STUDIO_HISTORY, else the default file
        # Whose tasks the history list shows: the user's own by default; "everyone" is the
        # class gallery of a shared history.
        self.shown_user: str | None = {"mine": "me", "everyone": None}.get(show, show.strip())
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
        self.runner = Runner(
            self.client, store, max_in_flight=max_in_flight, budget=budget, prices=prices
        )
        self._pictures: dict[str, Picture | str | None] = {"image": None, "image_tail": None}
        self._background: set[asyncio.Future[Any]] = set()
        self._desk = Desk(self.runner, self.client, self._set_comparison, self._released)
        self.runner.subscribe(lambda card: self._engine.post(lambda: self._on_card(card)))
        self._messages = Messages(self)
        self._fallback = Fallback("kling-studio")
        self.on_msg(self._on_message)
        self.observe(lambda _change: self._refresh_spending(), names="form")
        self._refresh_history()
        if resume:
            self._engine.submit(self.runner.resume()).add_done_callback(self._engine_done)

    def _ipython_display_(self) -> None:
        # The widget, then a small static view of the session for where no kernel runs.
        from IPython.display import display

        bundle: Any = self._repr_mimebundle_()
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        display(data, metadata=metadata, raw=True)  # type: ignore[no-untyped-call]
        self._fallback.show()

    def __repr__(self) -> str:
        return f"Studio(backend={self._backend!r}, history={self.history.location.display!r})"

    # --- Python API -------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._backend.mode

    def set_image(self, source: Any) -> PictureInfo:
        """Set the first frame: an http(s) URL, a path, bytes or a PIL image."""
        return self._set_picture_now("image", source)

    def set_image_tail(self, source: Any) -> PictureInfo | dict[str, Any]:
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

    def continue_from(self, local_id: str, slot: str = "image") -> PictureInfo:
        """Put the last frame of a finished video into a picture slot ("image"; "image_tail"
        to use it as the last frame), checked like any picture; returns its picture info."""
        check_slot(slot)
        data, name = last_frame_picture(self.history, local_id, slot)
        return self._keep_local_picture(slot, data, name)

    async def _continue_from(self, local_id: object, slot: str) -> PictureInfo:
        check_slot(slot)
        data, name = await asyncio.to_thread(last_frame_picture, self.history, local_id, slot)
        return self._keep_local_picture(slot, data, name)

    def stitch(self, local_ids: Sequence[str], path: str | Path | None = None) -> TaskRecord:
        """Join finished videos, in order, into one MP4: a new result of the history (its parts
        in `.stitched_from`), played like any other; with `path`, a copy is saved there."""
        return self._shown(
            self._run(asyncio.to_thread(stitch_records, self.history, local_ids, path))
        )

    async def _stitch(self, local_ids: object) -> TaskRecord:
        return self._shown(await asyncio.to_thread(stitch_records, self.history, local_ids))

    def _shown(self, record: TaskRecord) -> TaskRecord:
        self._on_card(card_from_record(record))
        return record

    def resume(self) -> list[str]:
        """Follow unfinished tasks of the history to their end (done at start by default)."""
        return self._run(self.runner.resume())

    def history_df(
        self, *, user: str | _Shown | None = _SHOWN, measure: bool = False, **filters: Any
    ) -> Any:
        """The history as a pandas DataFrame, with each task's author in the `user` column and
        the measures of each video (docs/measures.md; taken when a video is saved).

        Filters: status, since, text, group_id, and `user`: `"me"` (my tasks), a user name, or
        None (everyone's); by default the studio's `show=` choice (the user's own tasks).
        `measure=True` first measures the listed videos saved before measures existed (each
        once; a decode of every frame, about a second for a 10 s 1080p clip)."""
        chosen = self.shown_user if isinstance(user, _Shown) else user
        df = self.history.df(user=chosen, **filters)
        if measure and df["motion"].isna().any():
            from ..runner._measuring import measure_missing

            if measure_missing(self.history, [str(i) for i in df["local_id"]]):
                df = self.history.df(user=chosen, **filters)
        return df

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

    def snippets(self, local_id: str) -> Snippets:
        """The task's HTTP request and last answer, and the calls as curl and httpx."""
        record = self.history.get(local_id)
        if record is None:
            raise InputError(f"no task {local_id!r} in the history", "local_id")
        return snippets(record, base_url=self._backend.base_url)

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
        self.runner.check_budget(request)  # BudgetExceeded before any upload
        prepared = await self.client.prepare(request)
        local_id = self.runner.start(prepared)
        await self.runner.sent(local_id)  # a class gateway's budget refusal: beside Generate
        return local_id

    def _on_card(self, card: dict[str, Any]) -> None:
        if card["local_id"] not in self._desk.hidden():  # held back while judged blind
            self.send({"kind": "task", "card": card})
            self._fallback.task(card)
        self._desk.on_card(card)  # a dict lookup unless a shown variant changed status
        if card["status"] != "processing" or card["progress"] == 0 or card.get("has_video"):
            self._refresh_history()

    def _released(self, local_ids: frozenset[str]) -> None:
        """Blind judging is over for these tasks: show their cards and rows after all."""
        for card in self.runner.cards():
            if card["local_id"] in local_ids:
                self.send({"kind": "task", "card": card})
                self._fallback.task(card)
        self._refresh_history()

    def _refresh_history(self) -> None:
        self.history_count = self.history.count(user=self.shown_user, exclude=self._desk.hidden())
        self.history_rev += 1
        self._refresh_spending()  # a task's credits may have come: spend and estimate move

    # --- pictures ---------------------------------------------------------------------------

    def _set_picture_now(self, slot: str, source: Any, name: str | None = None) -> PictureInfo:
        """Blocking: a URL is fetched (and checked) on the engine."""
        if isinstance(source, str) and is_url(source):
            check_slot(slot)
            return self._keep_url_picture(
                slot, source, self._run(self.client.fetch_picture(source, slot))
            )
        return self._keep_local_picture(slot, source, name)

    async def _set_picture(self, slot: str, source: Any, name: str | None = None) -> PictureInfo:
        if isinstance(source, str) and is_url(source):
            check_slot(slot)
            pic = await self._engine.arun(self.client.fetch_picture(source, slot))
            return self._keep_url_picture(slot, source, pic)
        return self._keep_local_picture(slot, source, name)

    def _keep_url_picture(self, slot: str, url: str, pic: Picture) -> PictureInfo:
        self._pictures[slot] = url
        return self._show_picture(slot, picture_info(pic, slot, url=url))

    def _keep_local_picture(self, slot: str, source: Any, name: str | None) -> PictureInfo:
        check_slot(slot)
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

    def _show_picture(self, slot: str, info: PictureInfo) -> PictureInfo:
        self.pictures = {**self.pictures, slot: info}
        return info

    def _clear_picture(self, slot: str) -> None:
        self._pictures[slot] = None
        self.pictures = {**self.pictures, slot: None}

    # --- messages from the front end (handlers in _messages.py) -----------------------------

    def _on_message(self, _widget: Any, content: dict[str, Any], buffers: list[bytes]) -> None:
        if not isinstance(content, dict):
            return
        self._spawn(self._messages.answer(content, buffers))
