"""Every way the command can fail ends in one sentence on stderr and a non-zero exit: no
traceback, no empty message, nothing half-printed on stdout (--json: valid JSON or nothing)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kling_studio import AsyncClient
from kling_studio.history._store import History
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from .test_cli import CLI, api_requests, frame, run, server  # noqa: F401 - fixtures

HOME_HISTORY = "history.sqlite3"


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens there


def one_sentence(stderr: str) -> str:
    """The failure's sentence: the last line of stderr; any line before it is a task's status
    line (`<id>: <status>`, for logs), never a traceback."""
    assert "Traceback" not in stderr, stderr
    *before, last = stderr.strip().splitlines()
    assert last.startswith("kling-studio: ") and len(last) > len("kling-studio: ") + 10, stderr
    assert all(len(line.split()) == 2 and line.split()[0].endswith(":") for line in before), stderr
    return last


def pending_task_in_history(sim: Simulator) -> tuple[str, str]:
    """A task created at the simulator and journalled as pending in the CLI's history."""

    async def make() -> tuple[str, str]:
        history = History(Path(os.environ["KLING_STUDIO_HOME"]) / HOME_HISTORY)
        async with AsyncClient(sim.api_key, sim.base_url) as client:
            prepared = await client.prepare(prompt="left pending", image=make_picture())
            local_id = history.journal_submit(prepared)
            task = await client.create(prepared)
            history.mark_created(local_id, task)
        history.close()
        return local_id, task.id

    return asyncio.run(make())


@pytest.mark.parametrize("as_json", [False, True])
def test_resume_without_a_key_says_what_was_not_followed(
    server: Simulator,  # noqa: F811
    as_json: bool,
) -> None:
    _, task_id = pending_task_in_history(server)
    done = run("resume", *(["--json"] if as_json else []))  # no FOXAPI_API_KEY
    assert done.returncode != 0
    line = one_sentence(done.stderr)
    assert "FOXAPI_API_KEY" in line and task_id in line and "not followed" in line
    assert done.stdout == ""
    record = History(Path(os.environ["KLING_STUDIO_HOME"]) / HOME_HISTORY).records()[0]
    assert record.status == "pending"  # untouched, for the next resume


def test_resume_with_the_api_unreachable_says_what_was_not_followed(
    server: Simulator,  # noqa: F811
) -> None:
    _, task_id = pending_task_in_history(server)
    env = dict(os.environ, FOXAPI_API_KEY=server.api_key, FOXAPI_BASE_URL=closed_port_url())
    done = subprocess.run(
        [*CLI, "resume"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1
    line = one_sentence(done.stderr)
    assert task_id in line and "not followed" in line and "cannot connect" in line
    assert "resumed" not in done.stdout


def test_resume_follows_and_exits_0(server: Simulator) -> None:  # noqa: F811
    local_id, _ = pending_task_in_history(server)
    done = run("resume", "--json", server=server)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert row["local_id"] == local_id and row["status"] == "completed" and row["video_path"]


@pytest.mark.parametrize("as_json", [False, True])
def test_generate_into_a_folder_that_cannot_exist_is_refused_before_sending(
    server: Simulator,  # noqa: F811
    frame: Path,  # noqa: F811
    tmp_path: Path,
    as_json: bool,
) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    out = blocker / "clips" / "video.mp4"
    before = api_requests(server)
    args = ["generate", "--image", str(frame), "--prompt", "p", "--out", str(out)]
    done = run(*args, *(["--json"] if as_json else []), server=server)
    assert done.returncode == 2
    assert "--out" in one_sentence(done.stderr)
    assert done.stdout == ""
    assert api_requests(server) == before  # nothing sent, nothing paid


def test_a_locked_history_is_one_sentence_and_nothing_is_sent(
    server: Simulator,  # noqa: F811
    frame: Path,  # noqa: F811
) -> None:
    from ..history.lock_holder import hold_write_lock

    path = Path(os.environ["KLING_STUDIO_HOME"]) / HOME_HISTORY
    History(path).close()
    before = api_requests(server)
    with hold_write_lock(path):
        env = dict(os.environ, FOXAPI_API_KEY=server.api_key, FOXAPI_BASE_URL=server.base_url)
        code = (  # the CLI as it is, with a short lock timeout so that the test is quick
            "import sys; from kling_studio.cli import main; "
            "import kling_studio.history._store as s;"
            "s.History.__init__.__kwdefaults__['busy_timeout'] = 0.3;"
            "sys.exit(main(sys.argv[1:]))"
        )
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                "generate",
                "--image",
                str(frame),
                "--prompt",
                "p",
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert "locked" in one_sentence(done.stderr)
    assert done.stdout == ""
    assert api_requests(server) - before <= 1  # at most the upload: no create


def test_a_task_that_cannot_be_looked_up_is_reported_without_a_traceback(
    server: Simulator,  # noqa: F811
) -> None:
    from kling_studio.models import Task

    history = History(Path(os.environ["KLING_STUDIO_HOME"]) / HOME_HISTORY)
    local_id = history.journal_submit(asyncio.run(_prepared(server)))
    # An id the client refuses to put in a URL (from an older version, or a hand-edited row).
    history.mark_created(local_id, Task(id="odd/id", status="pending"))
    history.close()
    done = run("resume", server=server)
    assert done.returncode == 1
    line = one_sentence(done.stderr)
    assert "odd/id" in line and "not followed" in line


async def _prepared(sim: Simulator) -> object:
    async with AsyncClient(sim.api_key, sim.base_url) as client:
        return await client.prepare(prompt="odd id", image=make_picture())


def test_a_history_that_cannot_be_opened_is_one_sentence(tmp_path: Path) -> None:
    home = tmp_path / "home-is-a-file"
    home.write_text("not a folder")
    done = run("--home", str(home), "history", "--json")
    assert done.returncode != 0
    one_sentence(done.stderr)
    assert done.stdout == ""
