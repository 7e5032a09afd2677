"""``python -m kling_studio.simulator`` (what ``kling-studio simulator`` calls)."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys

import httpx

from kling_studio.simulator import DEFAULT_API_KEY
from kling_studio.simulator.cli import configure_parser


def parse(*args: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    configure_parser(parser)
    return parser.parse_args(list(args))


def test_parser_defaults_and_options() -> None:
    args = parse()
    assert (args.port, args.host, args.time_scale, args.fault) == (8765, "127.0.0.1", 1.0, [])
    assert (args.seed, args.result_shape, args.balance) == (0, "objects", None)
    args = parse("--fault", "5xx=0.2", "--fault", "drop=0.1@create", "--time-scale", "0.05")
    assert args.fault == ["5xx=0.2", "drop=0.1@create"]
    assert args.time_scale == 0.05


def test_runs_in_the_foreground_until_interrupted() -> None:
    command = [
        sys.executable, "-m", "kling_studio.simulator", "--port", "0", "--time-scale", "0.01",
        "--fault", "429=1@get", "--result-shape", "strings", "--balance", "50",
        "--progress", "silent",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Simulator running at http://127.0.0.1:"), first
        base_url = first.rsplit(" ", 1)[1].strip()
        assert DEFAULT_API_KEY in process.stdout.readline()
        stats = httpx.get(f"{base_url}/_sim/stats", trust_env=False).json()
        assert stats["result_shape"] == "strings"
        assert stats["balance"] == 50
        assert stats["progress"] == "silent"
        assert httpx.get(f"{base_url}/v1/tasks/x", trust_env=False).status_code == 429
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_bad_fault_spec_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kling_studio.simulator", "--fault", "boom=1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "boom" in result.stdout + result.stderr
