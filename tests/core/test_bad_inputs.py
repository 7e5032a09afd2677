"""Bad inputs, table-driven: every rule of docs/contract.md sections 1 and 6, broken pictures, files
that are not pictures, unreachable URLs, a wrong key, a 402. Each gets a message that names the
field and says what to fix; where the input is at fault, no request reaches the API; and the
studio keeps working after each one.
"""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kling_studio import (
    AsyncClient,
    AuthenticationError,
    InputError,
    InsufficientQuotaError,
    Studio,
)
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from ..server_counts import api_requests, route_counts
from ..studio.test_widget_backend import Recorder, ask, wait_for

FAST = PollPolicy(tail_max=0.05, min_interval=0.01)
WRONG_KEY = "sk-wrong-key-0000000000"


@dataclass
class Ctx:
    folder: Path
    base_url: str
    uploaded_url: str  # a good picture at the simulator's CDN


def file_of(name: str, data: bytes) -> Callable[[Ctx], Path]:
    def make(ctx: Ctx) -> Path:
        path = ctx.folder / name
        path.write_bytes(data)
        return path

    return make


def big_png(ctx: Ctx) -> Path:
    """A real PNG over 10 MB (noise does not compress)."""
    from PIL import Image

    path = ctx.folder / "huge.png"
    Image.frombytes("RGB", (2000, 2000), os.urandom(2000 * 2000 * 3)).save(path, compress_level=0)
    assert path.stat().st_size > 10 * 1024 * 1024
    return path


def truncated_jpeg() -> bytes:
    data = make_picture(640, 360, fmt="JPEG")
    return data[: len(data) // 2]


def picture_in(fmt: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (640, 360), (10, 120, 200)).save(buf, format=fmt)
    return buf.getvalue()


GOOD = make_picture(640, 360)


@dataclass
class Case:
    id: str
    fields: dict[str, Any] | Callable[[Ctx], dict[str, Any]]
    field: str  # the field the message must name
    fragment: str  # what the message must say (what to fix)
    error: type[Exception] = InputError
    at_fault: bool = True  # the input is at fault: no API request may be sent
    key: str | None = None  # another key for this case
    balance: float | None = None  # the account's balance for this case
    marks: list[Any] = field(default_factory=list)


def seg(prompt: str, duration: Any) -> dict[str, Any]:
    return {"prompt": prompt, "duration": duration}


CASES = [
    # docs/contract.md section 1: the fields.
    Case("prompt too long", {"prompt": "x" * 2501}, "prompt", "limit is 2,500; shorten it by 1"),
    Case("prompt empty", {"prompt": ""}, "prompt", "is required: describe the video"),
    Case("prompt blank", {"prompt": "   \n"}, "prompt", "is required: describe the video"),
    Case("prompt not text", {"prompt": 42}, "prompt", "must be text, got int"),
    Case("image missing", lambda ctx: {"prompt": "p"}, "image", "is required"),
    Case("field name typo", {"resolutoin": "1080p"}, "resolutoin", "did you mean 'resolution'"),
    Case(
        "negative prompt too long",
        {"negative_prompt": "blur, " * 500},
        "negative_prompt",
        "the limit is 2,500",
    ),
    Case("resolution unknown", {"resolution": "8k"}, "resolution", "720p, 1080p, 4k; got '8k'"),
    Case("duration 7", {"duration": 7}, "duration", "must be 5 or 10 seconds"),
    Case("duration float", {"duration": 5.0}, "duration", "(an integer); got 5.0"),
    Case("duration bool", {"duration": True}, "duration", "got True"),
    Case("audio not bool", {"generate_audio": "yes"}, "generate_audio", "must be True or False"),
    Case(
        "three voices",
        {"generate_audio": True, "voice_ids": ["v1", "v2", "v3"]},
        "voice_ids",
        "at most 2 voices; got 3",
    ),
    Case("voice without audio", {"voice_ids": ["v1"]}, "voice_ids", "need generate_audio=True"),
    Case(
        "empty voice id",
        {"generate_audio": True, "voice_ids": [""]},
        "voice_ids",
        "each voice id is a non-empty string",
    ),
    # docs/contract.md section 6: multi-shot.
    Case("no segments", {"multi_prompt": []}, "multi_prompt", "takes 1 to 6 segments; got 0"),
    Case(
        "seven segments",
        {"duration": 10, "multi_prompt": [seg(f"s{i}", 1) for i in range(6)] + [seg("s7", 4)]},
        "multi_prompt",
        "takes 1 to 6 segments; got 7",
    ),
    Case(
        "segments do not add up",
        {"duration": 5, "multi_prompt": [seg("a", 2), seg("b", 2)]},
        "multi_prompt",
        "add up to 4 s but duration is 5 s",
    ),
    Case(
        "segment prompt too long",
        {"multi_prompt": [seg("y" * 513, 5)]},
        "multi_prompt[1]",
        "the limit is 512",
    ),
    Case(
        "segment shorter than 1 s",
        {"multi_prompt": [seg("a", 0), seg("b", 5)]},
        "multi_prompt[1]",
        "lasts at least 1 s; got 0",
    ),
    Case(
        "segment duration float",
        {"multi_prompt": [seg("a", 2.5), seg("b", 2.5)]},
        "multi_prompt[1]",
        "duration must be whole seconds",
    ),
    Case("segments not a list", {"multi_prompt": "a, b"}, "multi_prompt", "list of segments"),
    Case(
        "segment with a wrong key",
        {"multi_prompt": [{"text": "a", "duration": 5}]},
        "multi_prompt",
        "unknown segment keys ['text']; use prompt and duration",
    ),
    # docs/contract.md section 6: pictures.
    Case(
        "picture too small",
        {"image": make_picture(200, 200)},
        "image",
        "each side must be at least 300 px",
    ),
    Case("picture too wide", {"image": make_picture(1000, 300)}, "image", "2.5:1 — crop it"),
    Case("picture too tall", {"image": make_picture(300, 1000)}, "image", "2.5:1 — crop it"),
    Case(
        "last frame too small",
        {"image_tail": make_picture(640, 200)},
        "image_tail",
        "at least 300 px",
    ),
    Case(
        "picture over 10 MB",
        lambda ctx: {"image": big_png(ctx)},
        "image",
        "the limit is 10 MB — export it smaller or as JPG",
    ),
    Case(
        "GIF",
        {"image": picture_in("GIF")},
        "image",
        "must be a JPG or PNG picture; this one is GIF",
    ),
    Case(
        "WebP",
        {"image": picture_in("WEBP")},
        "image",
        "must be a JPG or PNG picture; this one is WEBP",
    ),
    Case(
        "truncated JPEG",
        {"image": truncated_jpeg()},
        "image",
        "is cut short (a truncated or partly downloaded file)",
    ),
    Case(
        "text file named .png",
        lambda ctx: {"image": file_of("notes.png", b"just some text, not a picture\n")(ctx)},
        "image",
        "'notes.png' is not a picture Pillow can read",
    ),
    Case(
        "empty file",
        lambda ctx: {"image": file_of("empty.jpg", b"")(ctx)},
        "image",
        "'empty.jpg' is empty",
    ),
    Case(
        "missing file",
        lambda ctx: {"image": str(ctx.folder / "nowhere.png")},
        "image",
        "give an http(s) URL or an existing file",
    ),
    Case(
        "data: URL",
        {"image": "data:image/png;base64,iVBORw0KGgo="},
        "image",
        "data: URLs are not accepted by FoxAPI; pass the file's path or its bytes",
    ),
    Case(
        "unreachable URL",
        {"image": "http://127.0.0.1:9/first.png"},
        "image",
        "cannot fetch http://127.0.0.1:9/first.png (ConnectError); FoxAPI must be able",
    ),
    Case(
        "URL answering 404",
        lambda ctx: {"image": f"{ctx.base_url}/files/nothing/first.png"},
        "image",
        "answered HTTP 404; FoxAPI must be able to fetch it — check the URL",
    ),
    # The account: the request has to be sent to learn these; nothing is created.
    Case(
        "wrong key",
        lambda ctx: {"image": ctx.uploaded_url},
        "key",
        "Missing or invalid API key",
        error=AuthenticationError,
        at_fault=False,
        key=WRONG_KEY,
    ),
    Case(
        "wrong key, local picture",
        {},
        "key",
        "Missing or invalid API key",
        error=AuthenticationError,
        at_fault=False,
        key=WRONG_KEY,
    ),
    Case(
        "balance too low",
        lambda ctx: {"image": ctx.uploaded_url},
        "balance",
        "Insufficient balance: this task needs 10 credits; the balance is 1",
        error=InsufficientQuotaError,
        at_fault=False,
        balance=1,
    ),
]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 20
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.fixture
def server(sim: Simulator) -> Simulator:
    sim.set_faults(None)
    sim.balance = None
    return sim


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
async def test_bad_input(case: Case, server: Simulator, tmp_path: Path) -> None:
    async with AsyncClient(server.api_key, server.base_url, poll_policy=FAST) as good:
        ctx = Ctx(tmp_path, server.base_url, await good.upload(GOOD))
    fields: dict[str, Any] = {"prompt": "a good prompt", "image": GOOD}
    fields.update(case.fields(ctx) if callable(case.fields) else case.fields)
    if case.id == "image missing":
        del fields["image"]
    creates = len(server.created_tasks())
    before = api_requests(server.stats())
    server.balance = case.balance
    try:
        async with AsyncClient(case.key or server.api_key, server.base_url) as client:
            with pytest.raises(case.error) as info:
                await client.submit(**fields)
    finally:
        server.balance = None
    message = str(info.value)
    assert case.fragment in message, message
    if isinstance(info.value, InputError):
        assert case.field in {p.field for p in info.value.problems}, info.value.problems
        assert message.startswith(f"{case.field}:") or f"- {case.field}:" in message
    if case.at_fault:
        assert api_requests(server.stats()) == before, "a request was sent for a bad input"
    assert len(server.created_tasks()) == creates  # never a task for a bad input
    assert WRONG_KEY not in message and server.api_key not in message


# --- the studio: after each bad input, a good task still runs to a video -----------------------


@pytest.fixture
async def studio(server: Simulator, tmp_path: Path) -> AsyncIterator[tuple[Studio, Recorder]]:
    s = Studio(api_key=server.api_key, base_url=server.base_url, history=tmp_path / "h.sqlite3")
    s.client.poll_policy = FAST
    rec = Recorder()
    s.send = rec  # type: ignore[method-assign]
    yield s, rec
    await s.runner.aclose()
    await s.client.aclose()


GOOD_FORM = {
    "prompt": "a good prompt",
    "negative_prompt": "",
    "resolution": "720p",
    "duration": 5,
    "generate_audio": False,
    "voice_ids": [],
    "multi_prompt": [],
}

# (name, message to send, picture bytes, form changes, fragment of the answer)
WIDGET_CASES: list[tuple[str, dict[str, Any], bytes | None, dict[str, Any], str]] = [
    (
        "text bytes as a picture",
        {"kind": "set_picture", "slot": "image", "name": "x.png"},
        b"not a picture",
        {},
        "not a picture Pillow can read",
    ),
    (
        "unreachable picture URL",
        {"kind": "set_picture", "slot": "image", "url": "http://127.0.0.1:9/a.png"},
        None,
        {},
        "cannot fetch",
    ),
    (
        "tiny picture, then Generate",
        {"kind": "generate"},
        make_picture(200, 200),
        {},
        "each side must be at least 300 px",
    ),
    ("prompt too long", {"kind": "generate"}, None, {"prompt": "z" * 2600}, "2,600 characters"),
    ("duration 7", {"kind": "generate"}, None, {"duration": 7}, "must be 5 or 10 seconds"),
    ("voice without audio", {"kind": "generate"}, None, {"voice_ids": ["v1"]}, "generate_audio"),
    (
        "segments do not add up",
        {"kind": "generate"},
        None,
        {"multi_prompt": [seg("a", 1), seg("b", 1)]},
        "add up to 2 s but duration is 5 s",
    ),
    ("remix of no task", {"kind": "remix", "local_id": "nope"}, None, {}, "no task 'nope'"),
]


def sends(server: Simulator) -> tuple[int, int]:
    """Creates and uploads so far (a task in flight polls meanwhile: GETs are not counted)."""
    counts = route_counts(server.stats())
    return counts["create"], counts["upload"]


def answered(s: Studio, local_id: str) -> bool:
    """The task's create was answered (it has a task id)."""
    record = s.history.get(local_id)
    return record is not None and record.task_id is not None


async def test_studio_stays_usable_after_each_bad_input(
    studio: tuple[Studio, Recorder], server: Simulator
) -> None:
    s, rec = studio
    good_ids: list[str] = []
    for name, msg, picture, form, fragment in WIDGET_CASES:
        if msg["kind"] == "generate" and picture is not None:
            await ask(s, rec, {"kind": "set_picture", "slot": "image", "name": "t.png"}, [picture])
        s.form = {**GOOD_FORM, **form}
        before = sends(server)
        reply = await ask(s, rec, msg, [picture] if picture and msg["kind"] != "generate" else [])
        assert not reply["ok"], (name, reply)
        assert fragment in reply["error"]["message"], (name, reply)
        assert sends(server) == before, name
        assert s.error is None, (name, s.error)  # an input problem is an answer, not a crash
        # ...and the studio still works: a good picture and form make a task at once.
        await ask(s, rec, {"kind": "set_picture", "slot": "image", "name": "a.png"}, [GOOD])
        s.form = {**GOOD_FORM, "prompt": f"good after {name}"}
        ok = await ask(s, rec, {"kind": "generate"})
        assert ok["ok"], (name, ok)
        good_ids.append(ok["data"]["local_id"])
        # Its create answered, so the next bad input's window holds only polls of this task.
        await wait_for(lambda: answered(s, good_ids[-1]))
    # The account refuses a task (402): the card says so, and the next task runs.
    server.balance = 1
    try:
        refused = await ask(s, rec, {"kind": "generate"})
        assert refused["ok"]  # accepted locally; FoxAPI's refusal arrives on the card
        await s.runner.finished(refused["data"]["local_id"])
    finally:
        server.balance = None
    record = s.history.get(refused["data"]["local_id"])
    assert record is not None and record.status == "rejected"
    assert "Insufficient balance" in (record.error_message or "")
    card = [m["card"] for m in rec.kinds("task") if m["card"]["local_id"] == record.local_id][-1]
    assert card["status"] == "failed" and card["error"]["code"] == "insufficient_quota"
    last = await ask(s, rec, {"kind": "generate"})
    good_ids.append(last["data"]["local_id"])

    def all_done() -> bool:
        records = [s.history.get(i) for i in good_ids]
        return all(r is not None and r.status == "completed" and r.has_video for r in records)

    await wait_for(all_done, timeout=60)
    assert s.error is None
