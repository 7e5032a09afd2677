"""A task id is one path segment of GET /v1/tasks/{id}: an id that is not (`..` would make it
GET /v1, with the key) is refused before any request, wherever it comes from: a caller's
`get`/`wait`, a create's odd answer kept in the history, `resume`, the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kling_studio import AsyncClient, Client, InputError
from kling_studio.history._store import History
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..conftest import make_picture

BAD_IDS = ["..", ".", " ", "a/../b", "x?y", "#", "%2e%2e", "t\n"]
KEY = "sk-recorded-0123456789"


class Recorder(ThreadingHTTPServer):
    """Records every request's method and raw path; answers FoxAPI's 404 to all of them."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path))
        body = json.dumps({"error": {"message": "not found", "type": "not_found_error"}})
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST = do_HEAD = _answer


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_get_and_wait_refuse_an_id_that_is_not_one_segment_before_sending(
    recorder: Recorder,
) -> None:
    async with AsyncClient(KEY, recorder.base_url, max_retries=0) as client:
        for bad in BAD_IDS:
            with pytest.raises(InputError, match=r"is not a task id.*one path segment"):
                await client.get(bad)
            with pytest.raises(InputError, match="nothing was sent"):
                await client.wait(bad, timeout=5)
        assert recorder.seen == []
        with pytest.raises(Exception, match="not found"):  # a good id does reach the server
            await client.get("task-unified-1-abc")
    assert recorder.seen == [("GET", "/v1/tasks/task-unified-1-abc")]


def test_the_sync_client_refuses_them_too(recorder: Recorder) -> None:
    with Client(KEY, recorder.base_url, max_retries=0) as client:
        for bad in ("..", "."):
            with pytest.raises(InputError, match="is not a task id"):
                client.get(bad)
            with pytest.raises(InputError, match="is not a task id"):
                client.wait(bad, timeout=5)
    assert recorder.seen == []


async def history_with_odd_ids(sim: Simulator, path: Path) -> list[str]:
    """Tasks the history knows only by an id a create's answer carried: `..` and `.`."""
    history = History(path)
    ids = []
    async with AsyncClient(sim.api_key, sim.base_url) as client:
        for odd in ("..", "."):
            prepared = await client.prepare(prompt=f"answered {odd}", image=make_picture())
            local_id = history.journal_submit(prepared)
            history.mark_unknown(local_id, "the answer's id was odd", task_id=odd)
            ids.append(local_id)
    history.close()
    return ids


async def test_resume_never_sends_a_kept_odd_id(
    sim: Simulator, recorder: Recorder, tmp_path: Path
) -> None:
    await history_with_odd_ids(sim, tmp_path / "h.sqlite3")
    history = History(tmp_path / "h.sqlite3")
    async with AsyncClient(KEY, recorder.base_url, max_retries=0) as client:
        runner = Runner(client, history)
        resumed = await runner.resume()
        assert len(resumed) == 2
        await asyncio.wait_for(runner.join(), 30)  # before the fix: polls `/v1` for ever
        cards = runner.cards()
        await runner.aclose()
    history.close()
    assert recorder.seen == []
    assert all("is not a task id" in (c["error"] or {}).get("message", "") for c in cards), cards


def test_the_cli_resume_never_sends_a_kept_odd_id(sim: Simulator, recorder: Recorder) -> None:
    home = Path(os.environ["KLING_STUDIO_HOME"])
    asyncio.run(history_with_odd_ids(sim, home / "history.sqlite3"))
    env = dict(os.environ, FOXAPI_API_KEY=KEY, FOXAPI_BASE_URL=recorder.base_url)
    done = subprocess.run(
        [sys.executable, "-m", "kling_studio", "resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert recorder.seen == [], done.stderr
