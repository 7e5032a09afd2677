"""Real processes standing in for kernels: a Python script run with its own environment (API
key, user), talked to over stdin and read line by line. Shared by the tests that prove
behaviour across processes (tests/shared/, tests/budget/)."""

from __future__ import annotations

import os
import subprocess
import sys


def start_script(script: str, env: dict[str, str], *argv: str) -> subprocess.Popen[str]:
    """`python -c script argv...` with os.environ updated by `env`."""
    return subprocess.Popen(
        [sys.executable, "-c", script, *argv],
        env=dict(os.environ, **env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_line(proc: subprocess.Popen[str]) -> str:
    """The process's next line; if it ended instead, fail with what it wrote to stderr."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else "no output"
    return line.strip()
