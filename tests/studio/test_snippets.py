"""Teaching snippets: the exact create and status calls, as HTTP, curl and httpx, never the key.

The curl and httpx texts are run for real against the simulator, with the key only in the
child process's environment, so quoting mistakes (quotes, `$`, backticks, unicode) show up.
"""

from __future__ import annotations

import ast
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kling_studio import AsyncClient, InputError, VideoRequest
from kling_studio.client._polling import PollPolicy
from kling_studio.history._records import TaskRecord
from kling_studio.history._store import History
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator
from kling_studio.studio._snippets import HttpCall, Snippets, create_call, snippets, status_call

from ..conftest import make_picture

TRICKY = 'It\'s a "quiet" lake — 湖の夜明け $HOME `date` \\n; echo pwned & <b>'
PLANTED = "sk-planted-0123456789abcdef"


@pytest.fixture
async def record(sim: Simulator, tmp_path: Path) -> AsyncIterator[TaskRecord]:
    """A finished task of the simulator with a tricky prompt."""
    sim.set_faults(None)
    history = History(tmp_path / "h.sqlite3")
    async with AsyncClient(
        sim.api_key, sim.base_url, poll_policy=PollPolicy(tail_max=0.05, min_interval=0.01)
    ) as client:
        runner = Runner(client, history, download_videos=False)
        request = VideoRequest.build(
            prompt=TRICKY, image=make_picture(), negative_prompt="blur, 'grain'", duration=5
        )
        yield await runner.run(request)
        await runner.aclose()
    history.close()


def child_env(sim: Simulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOXAPI_")}
    return env | {"FOXAPI_API_KEY": sim.api_key}


def run_shell(command: str, sim: Simulator) -> Any:
    done = subprocess.run(
        ["bash", "-c", command], env=child_env(sim), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def run_python(script: str, sim: Simulator) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=child_env(sim),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_record_gives_its_exact_create_call_and_last_answer(record: TaskRecord) -> None:
    snip = snippets(record)
    assert snip.create.method == "POST"
    assert snip.create.url == "https://api.foxapi.cc/v1/videos/generations"
    assert snip.create.headers == {
        "Authorization": "Bearer $FOXAPI_API_KEY",
        "Content-Type": "application/json",
    }
    assert snip.create.body == record.payload and snip.create.body["prompt"] == TRICKY
    assert snip.response == record.raw and snip.response is not None
    assert snip.response["status"] == "completed"
    assert snip.status is not None and snip.status.method == "GET"
    assert snip.status.url == f"https://api.foxapi.cc/v1/tasks/{record.task_id}"
    assert snip.status.body is None
    http = snip.create.http()
    assert http.startswith("POST /v1/videos/generations HTTP/1.1\nHost: api.foxapi.cc\n")
    assert "Authorization: Bearer $FOXAPI_API_KEY" in http
    assert json.loads(http.split("\n\n", 1)[1]) == record.payload


def test_the_base_url_follows_the_argument_then_the_environment(
    record: TaskRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert snippets(record, base_url="http://127.0.0.1:9/").create.url == (
        "http://127.0.0.1:9/v1/videos/generations"
    )
    monkeypatch.setenv("FOXAPI_BASE_URL", "https://proxy.example/")
    assert snippets(record).create.url == "https://proxy.example/v1/videos/generations"


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_curl_snippets_run_as_they_are(record: TaskRecord, sim: Simulator) -> None:
    snip = snippets(record, base_url=sim.base_url)
    created_before = len(sim.created_tasks())
    answer = run_shell(snip.curl, sim)
    assert answer["status"] == "pending" and answer["id"]
    assert len(sim.created_tasks()) == created_before + 1
    assert sim.created_tasks()[-1]["body"] == record.payload  # every quote and character kept
    status = snippets(record, base_url=sim.base_url).status_curl
    assert status is not None
    assert run_shell(status, sim)["id"] == record.task_id
    # The key is written as the variable, double-quoted so the shell expands it.
    assert '-H "Authorization: Bearer $FOXAPI_API_KEY"' in snip.curl
    # Every other argument is one shell word.
    words = shlex.split(snip.curl.replace("\\\n", " "))
    assert words[words.index("--data-raw") + 1] == json.dumps(
        record.payload, ensure_ascii=False, indent=2
    )


def test_the_httpx_snippets_run_as_they_are(record: TaskRecord, sim: Simulator) -> None:
    snip = snippets(record, base_url=sim.base_url)
    assert 'key = os.environ["FOXAPI_API_KEY"]' in snip.httpx
    compile(snip.httpx, "<snippet>", "exec")
    created_before = len(sim.created_tasks())
    out = run_python(snip.httpx, sim)
    assert "'status': 'pending'" in out
    assert sim.created_tasks()[-1]["body"] == record.payload
    assert len(sim.created_tasks()) == created_before + 1
    assert snip.status_httpx is not None
    assert record.task_id is not None and record.task_id in run_python(snip.status_httpx, sim)


def test_the_httpx_body_is_a_python_literal_equal_to_the_body() -> None:
    body = {
        "prompt": TRICKY + "\u2028\u2029\t\x00",
        "generate_audio": True,
        "voice_ids": ["v1", "v2"],
        "multi_prompt": [{"index": 1, "prompt": "p", "duration": 2}],
        "empty": {},
        "nothing": None,
        "ratio": 1.5,
    }
    script = snippets(body).httpx
    tree = ast.parse(script)
    (call,) = [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "httpx.post"
    ]
    (literal,) = [k.value for k in call.keywords if k.arg == "json"]
    assert ast.literal_eval(literal) == body
    assert "\u2028" not in script  # written as an escape, not as a raw line separator


def test_the_key_is_never_written(record: TaskRecord, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOXAPI_API_KEY", PLANTED)
    snip = snippets(record)
    texts = [str(snip), snip._repr_markdown_(), snip.curl, snip.httpx, json.dumps(snip.as_dict())]
    texts += [snip.status_curl or "", snip.status_httpx or "", snip.create.http()]
    for text in texts:
        assert PLANTED not in text
    assert "$FOXAPI_API_KEY" in snip.curl and 'os.environ["FOXAPI_API_KEY"]' in snip.httpx
    # Second guard: a key pasted into a prompt is hidden too.
    leaky = snippets({"model": "kling-v3-image-to-video", "prompt": f"oops {PLANTED}"})
    for text in (str(leaky), leaky.curl, leaky.httpx, leaky._repr_markdown_()):
        assert PLANTED not in text


def test_markdown_and_text_show_every_part(record: TaskRecord) -> None:
    snip = snippets(record)
    md = snip._repr_markdown_()
    for title in ("Create request (HTTP)", "Create with curl", "Create with Python (httpx)"):
        assert f"**{title}**" in md
    for title in ("Status with curl", "Last response (JSON)"):
        assert f"**{title}**" in md and title in str(snip)
    assert "```bash\ncurl -sS -X POST" in md
    assert json.dumps(TRICKY, ensure_ascii=False) in md  # as JSON text, inside a fence


def test_a_prompt_with_backticks_gets_a_longer_fence() -> None:
    snip = snippets({"model": "m", "prompt": "say ```` hi", "image_url": "https://x/a.png"})
    md = snip._repr_markdown_()
    assert "`````bash\n" in md and "\n`````" in md


def test_requests_and_bodies_also_give_snippets(tmp_path: Path) -> None:
    request = VideoRequest.build(
        prompt="a lake", image="https://cdn.example/a.png", image_tail="https://cdn.example/b.png"
    )
    snip = snippets(request)
    assert snip.create.body == request.payload(
        "https://cdn.example/a.png", "https://cdn.example/b.png"
    )
    assert snip.status is None and snip.response is None
    assert "Status" not in str(snip)
    with pytest.raises(InputError, match="local picture"):
        snippets(VideoRequest.build(prompt="a lake", image=make_picture()))
    with pytest.raises(TypeError):
        snippets(42)  # type: ignore[arg-type]
    assert isinstance(snippets({"prompt": "x"}), Snippets)


async def test_a_prepared_request_and_its_task_give_every_part(sim: Simulator) -> None:
    sim.set_faults(None)
    async with AsyncClient(sim.api_key, sim.base_url) as client:
        prepared = await client.prepare(prompt="a lake", image=make_picture())
        task = await client.create(prepared)
    snip = snippets(prepared, base_url=sim.base_url, task=task)
    assert snip.create.body == prepared.payload
    assert snip.status is not None and snip.status.url == f"{sim.base_url}/v1/tasks/{task.id}"
    assert snip.response == task.raw and snip.response["status"] == "pending"
    assert snippets(prepared).status is None


def test_an_unknown_outcome_says_not_to_resend() -> None:
    unknown = snippets(
        TaskRecord(**(_blank() | {"status": "unknown", "task_id": None}))  # type: ignore[arg-type]
    )
    assert "Do not simply send it again" in str(unknown) and unknown.status is None


def test_a_task_id_is_quoted_in_the_url() -> None:
    call = status_call("task/../../x y")
    assert call.url.endswith("/v1/tasks/task%2F..%2F..%2Fx%20y")
    assert isinstance(create_call({}), HttpCall)


def _blank() -> dict[str, Any]:
    from datetime import UTC, datetime

    now = datetime.now(tz=UTC)
    return {
        "local_id": "l",
        "task_id": None,
        "status": "completed",
        "progress": 0,
        "prompt": "p",
        "negative_prompt": None,
        "resolution": "720p",
        "duration": 5,
        "generate_audio": False,
        "model": "kling-v3-image-to-video",
        "request": {},
        "payload": {"prompt": "p"},
        "request_hash": "h",
        "submitted_at": now,
        "created_at": None,
        "started_at": None,
        "finished_at": None,
        "updated_at": now,
        "estimated_time": None,
        "credits_reserved": None,
        "video_url": None,
        "video_path": None,
        "download_error": None,
        "url_expired": False,
        "download_attempts": 0,
        "error_code": None,
        "error_type": None,
        "error_message": None,
        "unknown_reason": "lost",
        "group_id": None,
        "variant": None,
        "rating": None,
        "winner": None,
        "note": None,
        "raw": None,
    }
