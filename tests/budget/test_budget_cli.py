"""`kling-studio generate --budget / --dry-run` and `kling-studio spend`, run as real processes
against the simulator, on one history file."""

from __future__ import annotations

import json
from pathlib import Path

from kling_studio.simulator import Simulator

from ..cli.test_cli import api_requests, run
from ..conftest import make_picture


def test_dry_run_budget_and_spend_from_the_command_line(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(None)
    frame = tmp_path / "first.png"
    frame.write_bytes(make_picture(640, 360))
    history = str(tmp_path / "h.sqlite3")
    task = ["generate", "--image", str(frame), "--prompt", "a red field", "--history", history]

    before = api_requests(sim)
    dry = run(*task, "--dry-run", server=sim)
    assert dry.returncode == 0, dry.stderr
    assert "unknown until a first 720p 5 s task" in dry.stdout and "nothing was sent" in dry.stdout
    assert api_requests(sim) == before

    done = run(*task, "--budget", "tasks=1,per=day", server=sim)
    assert done.returncode == 0, done.stderr
    dry = run(*task, "--dry-run", server=sim)
    assert "would reserve about 10 credits (last task, 720p 5 s)" in dry.stdout

    before = api_requests(sim)
    refused = run(*task, "--budget", "tasks=1,per=day", server=sim)
    assert refused.returncode == 1
    assert "1 of 1 tasks used" in refused.stderr and "Nothing was sent" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert api_requests(sim) == before

    blue = [*task[:4], "a blue field", *task[5:]]
    warned = run(*blue, "--budget", "tasks=1,per=day,action=warn", server=sim)
    assert warned.returncode == 0, warned.stderr  # sent all the same
    # Besides the status lines ("<id>: pending"): one sentence, no Python warning noise.
    (line,) = [x for x in warned.stderr.splitlines() if x.startswith("kling-studio:")]
    assert "BudgetWarning" not in warned.stderr and ".py:" not in warned.stderr
    assert line.startswith("kling-studio: warning: budget of 1 task a day for ")
    assert "1 of 1 tasks used; it resets at" in line

    bad = run(*task, "--budget", "tasks=three", server=sim)
    assert bad.returncode == 2 and "--budget" in bad.stderr

    ledger = run("spend", "--by", "settings", "--json", "--history", history)
    assert ledger.returncode == 0, ledger.stderr
    rows = json.loads(ledger.stdout)
    assert [(r["settings"], r["tasks"], r["credits"]) for r in rows] == [
        ("kling-v3-image-to-video 720p 5 s", 2, 20.0)
    ]
    table = run("spend", "--history", history)
    assert table.returncode == 0 and "credits" in table.stdout
