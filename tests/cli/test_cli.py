"""The `kling-studio` command, run as a real process against the simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_studio.simulator import Simulator

from ..conftest import make_picture

CLI = [sys.executable, "-m", "kling_studio"]


@pytest.fixture
def server(sim: Simulator) -> Iterator[Simulator]:
    sim.set_faults(None)
    yield sim
    sim.set_faults(None)


def run(
    *args: str, server: Simulator | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if server is not None:
        env.update(FOXAPI_API_KEY=server.api_key, FOXAPI_BASE_URL=server.base_url)
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def api_requests(server: Simulator) -> int:
    counts: dict[str, int] = server.stats()["requests"]
    return sum(counts.get(route, 0) for route in ("create", "get", "upload"))


@pytest.fixture
def frame(tmp_path: Path) -> Path:
    path = tmp_path / "first.png"
    path.write_bytes(make_picture(640, 360))
    return path


def test_generate_downloads_and_prints_json(server: Simulator, frame: Path, tmp_path: Path) -> None:
    out = tmp_path / "clips" / "video.mp4"
    done = run(
        "generate",
        "--image",
        str(frame),
        "--prompt",
        "a red field",
        "--duration",
        "5",
        "--out",
        str(out),
        "--json",
        server=server,
    )
    assert done.returncode == 0, done.stderr
    task = json.loads(done.stdout)
    assert task["status"] == "completed" and task["id"].startswith("task-")
    assert task["video_path"] == str(out)
    assert out.read_bytes()[4:8] == b"ftyp"
    history = run("history", "--json")
    rows = json.loads(history.stdout)
    assert [r["task_id"] for r in rows] == [task["id"]]
    assert rows[0]["status"] == "completed" and rows[0]["prompt"] == "a red field"
    assert Path(rows[0]["video_path"]).is_file()


def test_generate_on_the_built_in_simulator(frame: Path) -> None:
    done = run(
        "generate",
        "--simulator",
        "--time-scale",
        "0.02",
        "--image",
        str(frame),
        "--prompt",
        "classroom",
        "--audio",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    task = json.loads(done.stdout)
    assert task["status"] == "completed"
    # Simulated tasks keep out of the real history, as in the studio.
    assert json.loads(run("history", "--json").stdout) == []
    simulated = json.loads(run("history", "--simulator", "--json").stdout)
    assert [r["task_id"] for r in simulated] == [task["id"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--duration", "7"], "invalid choice: 7"),
        (["--prompt", "x" * 2501], "prompt: is 2,501 characters"),
        (["--image", "missing.png"], "no file at 'missing.png'"),
        (["--voice", "v1"], "--voice needs --audio"),
        (["--resolution", "8k"], "invalid choice: '8k'"),
        (["--tail", "http://127.0.0.1:9/x.png"], "cannot fetch"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_sends_nothing(
    server: Simulator, frame: Path, args: list[str], message: str
) -> None:
    base = {"--image": str(frame), "--prompt": "ok"}
    for flag, value in zip(args[::2], args[1::2], strict=False):
        base[flag] = value
    argv = [x for pair in base.items() for x in pair]
    argv += [a for a in args if a.startswith("--") and a not in base]
    before = api_requests(server)
    done = run("generate", *argv, server=server)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert api_requests(server) == before


def test_multi_prompt_file(server: Simulator, frame: Path, tmp_path: Path) -> None:
    segments = tmp_path / "shots.json"
    command = ["generate", "--image", str(frame), "--prompt", "p", "--multi-prompt", str(segments)]
    segments.write_text(
        json.dumps([{"prompt": "one", "duration": 2}, {"prompt": "two", "duration": 2}])
    )
    done = run(*command, server=server)
    assert done.returncode == 2 and "add up to 4 s but duration is 5 s" in done.stderr
    segments.write_text("[not json")
    done = run(*command, server=server)
    assert done.returncode == 2 and "is not JSON" in done.stderr


def test_failed_task_exits_1_with_its_code(server: Simulator, frame: Path) -> None:
    server.set_faults("fail=1.0")
    done = run("generate", "--image", str(frame), "--prompt", "doomed", server=server)
    assert done.returncode == 1
    assert "failed" in done.stderr and ":" in done.stderr
    rows = json.loads(run("history", "--json", "--status", "failed").stdout)
    assert rows and rows[0]["error_code"]


def test_wrong_key_exits_1_without_echoing_it(server: Simulator, frame: Path) -> None:
    env_key = "sk-not-the-right-one-42"
    done = subprocess.run(
        [*CLI, "generate", "--image", str(frame), "--prompt", "p"],
        env=dict(os.environ, FOXAPI_API_KEY=env_key, FOXAPI_BASE_URL=server.base_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and "401" in done.stderr
    assert env_key not in done.stderr + done.stdout


def test_history_csv_and_bad_status(server: Simulator, frame: Path) -> None:
    assert run("generate", "--image", str(frame), "--prompt", "csv", server=server).returncode == 0
    csv = run("history", "--csv")
    assert csv.returncode == 0 and "status" in csv.stdout.splitlines()[0]
    bad = run("history", "--status", "finished")
    assert bad.returncode == 2 and "unknown status 'finished'" in bad.stderr


def test_simulator_command_serves_the_contract(frame: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [*CLI, "simulator", "--port", str(port), "--time-scale", "0.02", "--fault", "429=0.3@get"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = ""
        for _ in range(20):
            banner += server.stdout.readline()
            if "sk-" in banner:
                break
        base_url = f"http://127.0.0.1:{port}"
        assert base_url in banner
        key = next(w for w in banner.split() if w.startswith("sk-"))
        env = dict(os.environ, FOXAPI_API_KEY=key, FOXAPI_BASE_URL=base_url)
        done = subprocess.run(
            [*CLI, "generate", "--image", str(frame), "--prompt", "served", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["status"] == "completed"
    finally:
        server.terminate()
        server.wait(10)
    assert server.returncode == 0
