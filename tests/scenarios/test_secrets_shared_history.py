"""The database password of a shared history is a secret like the API key: a studio on a
PostgreSQL URL with a password runs a task, and the password is in none of the widget state,
the reprs, the history (rows, DataFrame, the database itself), the log records (DEBUG, every
logger), nor the errors of a bad URL."""

from __future__ import annotations

import json
import logging
import traceback
from urllib.parse import urlsplit

import pytest

from kling_studio import Studio
from kling_studio.errors import HistoryError
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from ..postgres_server import PostgresServer


def test_the_database_password_reaches_nothing(
    sim: Simulator, postgres: object, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert isinstance(postgres, PostgresServer)
    password = postgres.password
    assert password and password in postgres_url  # the URL really carries it
    caplog.set_level(logging.DEBUG)
    sim.set_faults(None)
    studio = Studio(
        api_key=sim.api_key, base_url=sim.base_url, history=postgres_url, user="ada", resume=False
    )
    try:
        studio.set_image(make_picture())
        record = studio.generate(prompt=f"a prompt quoting the password {password}", timeout=60)
        seen = [
            json.dumps(studio.get_state(), default=str),
            repr(studio),
            repr(studio.history),
            repr(studio.history.location),
            repr(record),
            json.dumps(record.to_row(), default=str),
            repr(studio.history_df().to_dict("records")),
        ]
    finally:
        studio.close()
    try:
        Studio(
            api_key=sim.api_key,
            base_url=sim.base_url,
            history=postgres_url.replace("/kls_test_", "/missing_"),
        )
    except HistoryError as exc:
        seen += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    else:
        pytest.fail("a missing database was not refused")
    seen += [r.getMessage() for r in caplog.records] + [caplog.text]
    database = urlsplit(postgres_url).path.lstrip("/")
    seen.append(repr(postgres.sql(database, "SELECT * FROM tasks")))
    for text in seen:
        assert password not in text
    assert record.user == "ada" and record.has_video
    assert "<password>" in seen[-1]  # the prompt was scrubbed before it was stored
