"""`kling-studio app` refuses bad input in one line before Voila starts (the page itself is tested
in a real browser: tests/browser/test_app_page.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "kling_studio", "app", "--port", "0"]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    child = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
    child.update(env)
    return subprocess.run(
        [*CLI, *args], env=child, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("args", "env", "says", "status"),
    [
        (("--port", "70000"), {}, "--port must be 0-65535", 2),
        (("--simulator", "--time-scale", "0"), {}, "--time-scale must be above 0", 2),
        (("--show", "  "), {}, '--show is "mine", "everyone" or a user name', 2),
        (
            (),
            {"KLING_STUDIO_GATEWAY_URL": "http://127.0.0.1:9/gw"},
            "KLING_STUDIO_GATEWAY_URL names a class gateway but there is no key for it",
            2,
        ),
        # A history error is the history's failure (1), as in every other command.
        (("--history", "mysql://nowhere/db"), {}, "postgresql://", 1),
    ],
)
def test_bad_input_is_one_line_and_nothing_starts(
    args: tuple[str, ...], env: dict[str, str], says: str, status: int
) -> None:
    done = run(*args, **env)
    assert done.returncode == status, done
    assert done.stdout == ""  # no "kling-studio app on" line: Voila never started
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kling-studio: "), done.stderr
    assert says in lines[0]
    assert "Traceback" not in done.stderr


def test_an_unreachable_history_fails_before_voila(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "deeper" / "h.sqlite3"
    (tmp_path / "no-such-folder").write_text("a file where a folder should be")
    done = run("--simulator", "--history", str(missing))
    assert done.returncode in (1, 2), done
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
