"""scripts/test.sh runs pytest on several pytest-xdist workers. Under its `--dist` mode a
module's tests run on one worker, in their order (a module fixture is set up once; nbval runs a
notebook's cells in one kernel), and different modules are spread over the workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DIST = ["--dist", "loadscope", "--no-loadscope-reorder"]

SHARED = """
import os, time
import pytest

def note(name, line):
    with open(os.path.join(os.environ["LOGS"], name), "a") as f:
        f.write(line + "\\n")

@pytest.fixture(scope="module")
def expensive():
    note("setups", os.environ.get("PYTEST_XDIST_WORKER", "main"))
    return "ready"

@pytest.mark.parametrize("n", range(6))
def test_in_order(expensive, n):
    time.sleep(0.1)
    note("order", f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')} {n}")
    assert expensive == "ready"
"""

OTHER = """
import os, time

def test_elsewhere():
    time.sleep(0.3)
    with open(os.path.join(os.environ["LOGS"], "others"), "a") as f:
        f.write(os.environ.get("PYTEST_XDIST_WORKER", "main") + "\\n")
"""


def test_test_sh_uses_this_dist_mode() -> None:
    script = (REPO / "scripts" / "test.sh").read_text()
    assert " ".join(DIST) in script


def test_a_module_runs_on_one_worker_in_order_and_modules_spread(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_shared.py").write_text(SHARED)
    for n in range(4):
        (tests / f"test_other_{n}.py").write_text(OTHER)
    logs = tmp_path / "logs"
    logs.mkdir()
    # Without the project's addopts and nbval: an inner pytest that starts quickly.
    quick = ["-o", "addopts=", "-p", "no:nbval", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "-q", "-n", "3", *DIST, *quick],
        cwd=tmp_path,
        env=dict(os.environ, LOGS=str(logs)),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "10 passed" in done.stdout, done.stdout

    assert len((logs / "setups").read_text().split()) == 1  # set up once
    order = [line.split() for line in (logs / "order").read_text().splitlines()]
    assert len({worker for worker, _ in order}) == 1  # one worker...
    assert [int(n) for _, n in order] == list(range(6))  # ...in the module's order
    assert len(set((logs / "others").read_text().split())) > 1  # other modules spread
