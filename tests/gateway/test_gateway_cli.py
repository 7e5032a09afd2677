"""`kling-studio gateway user ...` and serve's refusals: a token printed alone and once, lists
that never show one, budgets in the CLI's --budget form, and one-line usage errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kling_studio.cli import EXIT_OK, EXIT_USAGE, main
from kling_studio.gateway import TOKEN_PREFIX, Students
from kling_studio.history._store import History


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_user_add_prints_the_token_alone_once_and_list_never_shows_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "class.sqlite3")
    code, out, err = run(
        capsys, "gateway", "user", "add", "ada", "--budget", "credits=300", "--history", db
    )
    assert code == EXIT_OK, err
    token = out.strip()
    assert out == f"{token}\n" and token.startswith(TOKEN_PREFIX) and len(token) >= 40
    with History(db) as h:
        assert Students(h).name_for(token) == "ada"
    assert token not in "\n".join(sqlite3.connect(db).iterdump())  # only its hash is kept

    code, out, err = run(capsys, "gateway", "user", "list", "--history", db)
    assert code == EXIT_OK
    assert "ada" in out and "300 credits a day" in out  # a class budget is per day by default
    assert token not in out and TOKEN_PREFIX not in out

    code, out, err = run(capsys, "gateway", "user", "add", "ada", "--history", db)
    assert code == EXIT_USAGE and out == "" and "already a student 'ada'" in err


def test_user_budget_and_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "class.sqlite3")
    token = run(capsys, "gateway", "user", "add", "bo", "--history", db)[1].strip()
    budget = ("gateway", "user", "budget", "bo")
    assert run(capsys, *budget, "tasks=5,per=total", "--history", db)[0] == EXIT_OK
    assert "5 tasks in total" in run(capsys, "gateway", "user", "list", "--history", db)[1]

    code, _, err = run(
        capsys, "gateway", "user", "budget", "bo", "tasks=5,per=session", "--history", db
    )
    assert code == EXIT_USAGE and "per=day or per=total" in err
    code, _, err = run(capsys, "gateway", "user", "budget", "nobody", "tasks=1", "--history", db)
    assert code == EXIT_USAGE and "no student 'nobody'" in err
    code, _, err = run(capsys, *budget, "tasks=lots", "--history", db)
    assert code == EXIT_USAGE and "tasks is a number" in err

    assert run(capsys, "gateway", "user", "revoke", "bo", "--history", db)[0] == EXIT_OK
    assert "revoked" in run(capsys, "gateway", "user", "list", "--history", db)[1]
    with History(db) as h:
        assert Students(h).name_for(token) is None
    code, _, err = run(capsys, "gateway", "user", "revoke", "bo", "--history", db)
    assert code == EXIT_USAGE and "no student 'bo'" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--timezone", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (("--max-in-flight", "0"), "--max-in-flight is at least 1"),
        (("--upstream", "ftp://x"), "--upstream is an http(s) URL or 'simulator'"),
        ((), "set FOXAPI_API_KEY in the gateway's environment"),
    ],
)
def test_serve_refuses_bad_options_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: tuple[str, ...],
    message: str,
) -> None:
    db = str(tmp_path / "class.sqlite3")
    code, _, err = run(capsys, "gateway", "serve", "--history", db, *options)
    assert code == EXIT_USAGE
    assert message in err and len(err.strip().splitlines()) == 1
