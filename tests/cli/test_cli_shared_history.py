"""The CLI on a shared PostgreSQL history: `--history URL` on every command (before or after
it) or KLING_STUDIO_HISTORY, authors in `history`, and a bad URL as one line without the
password. Real processes, a real server."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kling_studio.history._store import History
from kling_studio.simulator import Simulator

from ..postgres_server import PostgresServer
from .test_cli import frame as frame  # the fixture
from .test_cli import run


def _env_run(*args: str, server: Simulator, **env: str) -> tuple[int, str, str]:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        done = run(*args, server=server)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return done.returncode, done.stdout, done.stderr


def test_generate_and_history_share_one_postgresql_history(
    sim: Simulator, postgres_url: str, frame: Path
) -> None:
    sim.set_faults(None)
    code, out, err = _env_run(
        "--history",
        postgres_url,
        "generate",
        "--image",
        str(frame),
        "--prompt",
        "ada's clip",
        "--json",
        server=sim,
        KLING_STUDIO_USER="ada",
    )
    assert code == 0, err
    local_id = json.loads(out)["local_id"]
    # The other position, and another author: the history is the same one.
    code, out, err = _env_run(
        "generate",
        "--history",
        postgres_url,
        "--image",
        str(frame),
        "--prompt",
        "bob's clip",
        server=sim,
        KLING_STUDIO_USER="bob",
    )
    assert code == 0, err

    code, out, err = _env_run("history", "--json", server=sim, KLING_STUDIO_HISTORY=postgres_url)
    assert code == 0, err
    rows = json.loads(out)
    assert {(r["prompt"], r["user"]) for r in rows} == {
        ("ada's clip", "ada"),
        ("bob's clip", "bob"),
    }

    code, out, err = _env_run(
        "history", "--history", postgres_url, "--user", "me", server=sim, KLING_STUDIO_USER="ada"
    )
    assert code == 0, err
    assert "ada's clip" in out and "bob's clip" not in out and " ada " in out
    with History(postgres_url) as h:
        assert h[local_id].user == "ada" and h[local_id].has_video


def test_a_wrong_password_is_one_line_without_the_password(
    sim: Simulator, postgres: object
) -> None:
    assert isinstance(postgres, PostgresServer)
    url = postgres.url("postgres", password="Wr0ng-Passw0rd")
    code, out, err = _env_run("history", "--history", url, server=sim)
    assert code == 1 and out == ""
    assert "Wr0ng-Passw0rd" not in err and "Traceback" not in err
    assert err.count("\n") == 1 and postgres.host in err and "password" in err
