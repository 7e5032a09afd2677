"""The studio's message handlers: one `msg_<kind>` method per request the front end sends
(docs/widget-protocol.md), each answered with a `reply` carrying the same `req_id`."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import compare as cmp
from ..budget import BudgetExceeded
from ..errors import HistoryError, InputError, KlingStudioError
from ..pictures import Picture, is_url
from ..runner import request_from_record
from ._desk import grid_from_axes
from ._media_links import media_route, media_routes_available
from ._shapes import (
    FORM_FIELDS,
    VIDEO_CHUNK_BYTES,
    form_from_request,
    history_row,
    url_picture_info,
)

if TYPE_CHECKING:
    from ._widget import Studio

log = logging.getLogger("kling_studio")


def _video_reply(
    *, url: str | None = None, route: str | None = None, size: int | None = None, chunks: int = 0
) -> dict[str, Any]:
    """A `VideoReply`: where to play the video from, or how many `video_chunk`s carry it."""
    return {"url": url, "route": route, "mime": "video/mp4", "size": size, "chunks": chunks}


class Messages:
    """Finds the handler of each message kind; replies with the result or the error."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    def _on_message(self, _widget: Any, content: dict[str, Any], buffers: list[bytes]) -> None:
        if not isinstance(content, dict):
            return
        self.studio._spawn(self.answer(content, buffers))

    async def answer(self, msg: dict[str, Any], buffers: list[bytes]) -> None:
        req_id = msg.get("req_id")
        kind = msg.get("kind")
        try:
            handler = getattr(self, f"msg_{kind}", None) if isinstance(kind, str) else None
            if handler is None:
                raise InputError(f"unknown message kind {kind!r}", field="kind")
            data = await handler(msg, buffers, req_id)
        except KlingStudioError as exc:
            field = getattr(exc, "field", None)
            self.reply(req_id, ok=False, error={"message": str(exc), "field": field})
            if not isinstance(exc, InputError | BudgetExceeded):  # answered beside the button
                self.studio._show_error(exc)
        except Exception as exc:
            self.reply(req_id, ok=False, error={"message": f"{type(exc).__name__}: {exc}"})
            self.studio._show_error(exc)
        else:
            self.reply(req_id, ok=True, data=data)

    def reply(self, req_id: Any, **fields: Any) -> None:
        if req_id is not None:
            self.studio.send({"kind": "reply", "req_id": req_id, **fields})

    async def msg_snapshot(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        cards, live = await self.studio._engine.arun(self._cards())
        if msg.get("poster_routes") and media_routes_available():
            # Earlier sessions' tasks: the history rows name their posters' routes instead.
            cards = [c if c["local_id"] in live else {**c, "poster": None} for c in cards]
        return {"cards": cards}

    async def _cards(self) -> tuple[list[dict[str, Any]], frozenset[str]]:
        hidden = self.studio._desk.hidden()  # a blind comparison's, while it is judged
        runner = self.studio.runner  # on the engine, where the runner's state changes
        return [c for c in runner.cards() if c["local_id"] not in hidden], runner.live_ids()

    async def msg_set_picture(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        slot = str(msg.get("slot"))
        if msg.get("url"):
            return await self.studio._set_picture(slot, str(msg["url"]))
        if not buffers:
            raise InputError("no picture bytes arrived", field=slot)
        return await self.studio._set_picture(
            slot, bytes(buffers[0]), name=str(msg.get("name") or "")
        )

    async def msg_clear_picture(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        self.studio._clear_picture(str(msg.get("slot")))
        return None

    async def msg_generate(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        return {"local_id": await self.studio.asubmit()}

    async def msg_history(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        # Rows of a blind comparison's tasks are held back while it is judged: they carry the
        # settings, and their order is the order the plan sent them in.
        filters: dict[str, Any] = {
            "user": self.studio.shown_user,
            "exclude": self.studio._desk.hidden(),
        }
        if msg.get("status"):
            filters["status"] = msg["status"]
        if msg.get("text"):
            filters["text"] = str(msg["text"])
        limit = max(1, min(int(msg.get("limit") or 50), 10_000))
        offset = max(0, int(msg.get("offset") or 0))
        rows = self.studio.history.records(limit=limit, offset=offset, **filters)
        routes = bool(msg.get("poster_routes"))
        return {
            "rows": [history_row(r, poster_routes=routes) for r in rows],
            "total": self.studio.history.count(**filters),
        }

    async def msg_video(self, msg: dict[str, Any], buffers: list[bytes], req_id: Any) -> Any:
        record = self.studio.history.get(str(msg.get("local_id")))
        if record is None:
            raise InputError("no such task in the history", field="local_id")
        # `force_bytes`: the front end could not play the URL it had; only bytes will do.
        by_url = not msg.get("force_bytes")
        if by_url:
            try:
                signed = await asyncio.to_thread(self.studio.history.video_signer, record)
            except Exception as exc:  # a store that cannot sign now: the file or bytes still play
                log.info("no signed URL for %s: %s", record.local_id, exc)
                signed = None
            if signed:
                return _video_reply(url=signed)
        try:  # the saved file, or a shared history's copy fetched into this machine's cache
            path: Path | None = await asyncio.to_thread(
                self.studio.history.video_file, record.local_id
            )
        except HistoryError:
            path = None
        if (path is None or not path.is_file()) and not by_url and record.video_url:
            path = await self.studio._engine.arun(
                self.studio.runner.cache.download(record.video_url, record.task_id or "video")
            )
            # Off the event loop: saving puts the video into the store (an upload).
            await asyncio.to_thread(self.studio.history.set_video, record.local_id, path)
        if path is not None and path.is_file():
            route = media_route(path) if by_url else None
            if route is not None:
                return _video_reply(route=route, size=path.stat().st_size)
            return self._send_file(path, req_id)
        if record.video_url and not record.url_expired:
            return _video_reply(url=record.video_url)
        raise KlingStudioError(record.download_error or "this task has no video")

    def _send_file(self, path: Path, req_id: Any) -> dict[str, Any]:
        data = path.read_bytes()
        chunks = [data[i : i + VIDEO_CHUNK_BYTES] for i in range(0, len(data), VIDEO_CHUNK_BYTES)]
        for seq, chunk in enumerate(chunks):
            self.studio.send(
                {
                    "kind": "video_chunk",
                    "req_id": req_id,
                    "seq": seq,
                    "total": len(chunks),
                    "mime": "video/mp4",
                },
                [chunk],
            )
        return _video_reply(size=len(data), chunks=len(chunks))

    def _not_judged_blind(self, *local_ids: object) -> None:
        """Refuse to reveal (or reuse) the settings of a task judged blind right now."""
        hidden = self.studio._desk.hidden()
        if any(local_id in hidden for local_id in local_ids):
            raise InputError(
                "this task is a variant of a comparison you are judging blind: its settings "
                "stay hidden until you have rated every variant (or switched blind off)",
                field="local_id",
            )

    async def msg_load_settings(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        self._not_judged_blind(msg.get("local_id"))
        record = self.studio.history.get(str(msg.get("local_id")))
        if record is None:
            raise InputError("no such task in the history", field="local_id")
        request = request_from_record(record)
        self.studio.form = dict(form_from_request(request))
        for slot, source in (("image", request.image), ("image_tail", request.image_tail)):
            if isinstance(source, str) and is_url(source):
                self.studio._pictures[slot] = source
                self.studio.pictures = {
                    **self.studio.pictures,
                    slot: url_picture_info(source, slot),
                }
            else:
                self.studio._clear_picture(slot)
        return None

    async def msg_remix(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        changes = msg.get("changes") or {}
        if not isinstance(changes, dict):
            raise InputError("changes must be an object of form fields", field="changes")
        unknown = set(changes) - set(FORM_FIELDS)
        if unknown:
            raise InputError(f"unknown field(s) {sorted(unknown)}", field="changes")
        self._not_judged_blind(msg.get("local_id"))
        request = self.studio.runner.request_from(str(msg.get("local_id")), **changes)
        local_id = await self.studio._engine.arun(self.studio._submit(request))
        self.studio._refresh_history()
        return {"local_id": local_id}

    async def msg_continue_from(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        return await self.studio._continue_from(msg.get("local_id"), str(msg.get("slot")))

    async def msg_stitch(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        parts = msg.get("local_ids")
        self._not_judged_blind(*(parts if isinstance(parts, list) else ()))
        record = await self.studio._stitch(msg.get("local_ids"))
        return {"local_id": record.local_id}

    def _axes_grid(self, msg: dict[str, Any]) -> cmp.Grid:
        tail = self.studio._pictures["image_tail"]
        return grid_from_axes(
            msg.get("axes"),
            self.studio.request(),
            image_tail=tail.data if isinstance(tail, Picture) else tail,
            picture_names=self.studio._picture_names(),
        )

    async def msg_compare_plan(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        return self.studio._desk.plan_reply(self._axes_grid(msg))

    async def msg_compare_run(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        grid = self._axes_grid(msg)
        confirmed = msg.get("confirmed") is True
        comparison = await self.studio._engine.arun(
            self.studio._desk.run(grid, confirm=confirmed, hint="confirm to send them")
        )
        return {"group_id": comparison.group_id}

    async def msg_compare_open(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        group_id = msg.get("group_id")
        if not isinstance(group_id, str) or not group_id:
            raise InputError("compare_open needs a group_id", "group_id")
        self.studio._desk.show(self.studio._desk.get(group_id))
        return None

    async def msg_compare_blind(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        blind = msg.get("blind")
        if not isinstance(blind, bool):
            raise InputError("compare_blind needs blind: true or false", "blind")
        self.studio._desk.set_blind(blind)
        return None

    async def msg_rate(self, msg: dict[str, Any], buffers: list[bytes], _r: Any) -> Any:
        self.studio._desk.rate_message(msg)
        return None
