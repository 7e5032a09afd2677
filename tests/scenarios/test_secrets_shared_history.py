"""The database password of a shared history is a secret like the API key: a studio on a
PostgreSQL URL with a password runs a task, and the password is in none of the widget state,
the reprs, the history (rows, DataFrame, the database itself), the log records (DEBUG, every
logger), nor the errors of a bad URL."""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path
from urllib.parse import quote, urlsplit

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


# --- every form libpq takes a secret in -------------------------------------------------------

SSL_KEY_PASSWORD = "ssl-key-passphrase-7"  # libpq ignores it without an encrypted client key


def _forms(server: PostgresServer, database: str, tmp_path: Path) -> dict[str, tuple[str, str]]:
    """Each form: (location, the secret it carries). Every one really logs in (scram-sha-256)."""
    host, port, user, password = server.host, server.port, server.user, server.password
    quoted = password.replace("\\", "\\\\").replace("'", "\\'")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"{host}:{port}:*:{user}:{password}\n")
    passfile.chmod(0o600)
    plain = f"postgresql://{quote(user)}@{host}:{port}/{database}"
    return {
        "query password": (f"{plain}?password={quote(password, safe='')}", password),
        "key/value password": (
            f"host={host} port={port} dbname={database} user={user} password='{quoted}'",
            password,
        ),
        "PGPASSWORD": (plain, password),
        "sslpassword": (
            f"{server.url(database)}?sslpassword={SSL_KEY_PASSWORD}",
            SSL_KEY_PASSWORD,
        ),
        "passfile": (f"{plain}?passfile={quote(str(passfile))}", str(passfile)),
    }


@pytest.mark.parametrize(
    "form", ["query password", "key/value password", "PGPASSWORD", "sslpassword", "passfile"]
)
def test_a_secret_in_any_libpq_form_connects_and_shows_nowhere(
    form: str,
    postgres: object,
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from kling_studio import History, VideoRequest
    from kling_studio.models import PreparedRequest

    assert isinstance(postgres, PostgresServer)
    caplog.set_level(logging.DEBUG)
    database = urlsplit(postgres_url).path.lstrip("/")
    location, secret = _forms(postgres, database, tmp_path)[form]
    if form == "PGPASSWORD":
        monkeypatch.setenv("PGPASSWORD", secret)

    with History(location, user="ada") as history:  # it logs in with the secret
        request = VideoRequest.build(prompt=f"quoting {secret}", image="https://example.test/a")
        prepared = PreparedRequest(request, request.payload("https://example.test/a", None))
        local_id = history.journal_submit(prepared)
        history.set_rating(local_id, rating=4, note=f"the secret is {secret}")
        seen = [
            repr(history),
            repr(history.location),
            str(history.location),
            history.location.display,
            repr(history._engine),
            repr(history.get(local_id)),
            repr(history.df().to_dict("records")),
        ]
    missing = location.replace(database, "missing_db")
    with pytest.raises(HistoryError) as caught:
        History(missing)
    exc = caught.value
    seen += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    seen += [r.getMessage() for r in caplog.records] + [caplog.text]
    stored = repr(postgres.sql(database, "SELECT * FROM tasks"))
    notes = repr(postgres.sql(database, "SELECT note FROM ratings"))
    seen += [stored, notes]
    for text in seen:
        assert secret not in text
    assert "<password>" in notes and "<password>" in stored  # scrubbed before it was stored


@pytest.mark.parametrize(
    "location",
    [
        "postgresql://ada@db:5432/kling?password=hunter2-secret&port=x",
        "host=db dbname=kling user=ada password='hunter2-secret",  # unterminated quote
        "host=db user=ada password=hunter2-secret",  # no database
        "host=db dbname=kling password=hunter2-secret bogus=1",  # not a libpq keyword
        "postgresql://ada:hunter2-secret@db:notaport/kling",
    ],
)
def test_a_bad_location_names_no_secret_in_its_error(location: str) -> None:
    from kling_studio import History

    with pytest.raises(HistoryError) as caught:
        History(location)
    text = "".join(traceback.format_exception(caught.value))
    assert "hunter2-secret" not in text
