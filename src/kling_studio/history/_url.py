"""Where a history lives: a path or `sqlite:///...` (one person, zero setup) or
`postgresql://user:password@host:port/database` (a class or a team sharing one history).

The choice is the same everywhere: `History(location)`, `Studio(history=...)`, the CLI's
`--history`, else the environment variable `KLING_STUDIO_HISTORY`, else
`<home>/history.sqlite3`. The password is a secret like the API key: `Location.display` and
every message leave it out.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .. import _secrets, config
from ..errors import HistoryError

DB_NAME: Final = "history.sqlite3"
HISTORY_ENV: Final = "KLING_STUDIO_HISTORY"
POSTGRES_SCHEMES: Final = ("postgresql", "postgres", "postgresql+psycopg")
PASSWORD_ENV: Final = "PGPASSWORD"  # libpq's: used when the location gives no password
# Options whose values are secrets wherever they are given (URL query or key/value string).
SECRET_OPTIONS: Final = frozenset({"sslpassword", "passfile"})
SECRET_KEYS: Final = ("password", "sslpassword", "passfile")
# Options that are parts of the location itself rather than connect options.
URL_FIELDS: Final = frozenset({"host", "hostaddr", "port", "dbname", "user", "password"})
# libpq's connection keywords (its documentation, section "Parameter Key Words").
KEYWORDS: Final = frozenset(
    {
        "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "require_auth",
        "channel_binding", "connect_timeout", "client_encoding", "options", "application_name",
        "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "replication", "gssencmode", "sslmode",
        "requiressl", "sslnegotiation", "sslcompression", "sslcert", "sslkey", "sslpassword",
        "sslcertmode", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
        "ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname", "gsslib",
        "gssdelegation", "service", "target_session_attrs", "load_balance_hosts",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Location:
    """A resolved history location. `path` is set for SQLite; host/port/database/username for
    PostgreSQL. `display`, the repr and every message leave out the password and every other
    secret libpq takes (`secrets`); `query` holds only the options that are not secret."""

    kind: str  # "sqlite" or "postgresql"
    display: str  # what messages and reprs show: never a secret
    path: Path | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    query: str = ""  # the non-secret libpq options, as a URL query
    # sslpassword / passfile, handed to the driver as connect arguments (never in a URL, whose
    # text SQLAlchemy shows in reprs and logs).
    secret_options: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    env_password: str | None = field(default=None, repr=False)  # PGPASSWORD when resolved

    @property
    def shared(self) -> bool:
        return self.kind == "postgresql"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value this location carries (to cut from any text)."""
        found = [self.password, self.env_password, *(v for _, v in self.secret_options)]
        return tuple(v for v in found if v)

    def connect_secrets(self) -> dict[str, str]:
        """The secret options as the driver's connect arguments."""
        return dict(self.secret_options)

    def sqlalchemy_url(self) -> object:
        """The SQLAlchemy URL (built field by field, so odd characters in a password need no
        quoting by the user beyond the URL's own). Secret options are not in it."""
        from sqlalchemy.engine import URL

        if self.kind == "sqlite":
            return URL.create("sqlite", database=str(self.path))
        return URL.create(
            "postgresql+psycopg",
            username=self.username,
            password=self.password,
            host=self.host,
            port=self.port,
            database=self.database,
            query=dict(parse_qsl(self.query, keep_blank_values=True)),
        )


def resolve(location: str | os.PathLike[str] | Location | None = None) -> Location:
    """The history named by `location`, else by `KLING_STUDIO_HISTORY`, else the default file."""
    if isinstance(location, Location):
        return location
    if location is None:
        location = config.env(HISTORY_ENV)
    if location is None:
        return _sqlite(config.default_home() / DB_NAME)
    if isinstance(location, os.PathLike):
        return _sqlite(Path(location))
    text = str(location).strip()
    if not text:
        raise HistoryError("The history location is empty: pass a path or a postgresql:// URL.")
    scheme = text.split(":", 1)[0].lower() if "://" in text else ""
    if not scheme and _looks_like_key_values(text):
        return _postgres_key_values(text)
    if not scheme:
        return _sqlite(Path(text))
    if scheme == "sqlite":
        return _sqlite(Path(_sqlite_path(text)))
    if scheme in POSTGRES_SCHEMES:
        return _postgres(text)
    raise HistoryError(
        f"The history location {_redact(text)} is neither a path nor a sqlite:/// or "
        "postgresql:// URL. Use e.g. ~/kling/history.sqlite3 or "
        "postgresql://user:password@host:5432/database."
    )


def _sqlite(path: Path) -> Location:
    target = path.expanduser()
    if target.is_dir():
        target = target / DB_NAME
    target = target.absolute()
    return Location(kind="sqlite", display=str(target), path=target)


def _sqlite_path(text: str) -> str:
    # sqlite:///relative/or/absolute as SQLAlchemy reads it: three slashes then the path
    # (sqlite:////abs for an absolute one), or sqlite:///:memory: which a history cannot be.
    rest = text.split("://", 1)[1]
    if not rest.startswith("/"):
        raise HistoryError(
            f"The history URL {text!r} has a host part; a SQLite URL is sqlite:///path/to/file."
        )
    path = unquote(rest[1:].split("?", 1)[0])
    if not path or path == ":memory:":
        raise HistoryError(
            f"The history URL {text!r} names no file; use sqlite:///path/to/history.sqlite3."
        )
    return path


def _postgres(text: str) -> Location:
    try:
        parts = urlsplit(text)
        port = parts.port
        options = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError as exc:  # e.g. a port that is not a number
        raise HistoryError(
            f"The history URL {_redact(text)} is not a valid PostgreSQL URL ({exc}). Use "
            "postgresql://user:password@host:5432/database."
        ) from None
    fields = {name: value for name, value in options if name in URL_FIELDS}
    database = unquote(parts.path.lstrip("/")) or fields.get("dbname", "")
    host = parts.hostname or fields.get("host")
    username = unquote(parts.username) if parts.username else fields.get("user")
    password = unquote(parts.password) if parts.password else fields.get("password")
    if port is None and fields.get("port"):
        port = _port(fields["port"], text)
    rest = [(k, v) for k, v in options if k not in URL_FIELDS]
    return _postgres_location(text, host, port, database, username, password, rest)


def _postgres_key_values(text: str) -> Location:
    """A libpq key/value string: `host=db dbname=kling user=ada password=...`."""
    pairs = _key_values(text)
    fields = dict(pairs)
    port = _port(fields["port"], text) if fields.get("port") else None
    rest = [(k, v) for k, v in pairs if k not in URL_FIELDS]
    return _postgres_location(
        text,
        fields.get("host") or fields.get("hostaddr"),
        port,
        fields.get("dbname", ""),
        fields.get("user"),
        fields.get("password"),
        rest,
    )


def _postgres_location(
    text: str,
    host: str | None,
    port: int | None,
    database: str,
    username: str | None,
    password: str | None,
    options: list[tuple[str, str]],
) -> Location:
    if not host or not database or "/" in database:
        raise HistoryError(
            f"The history location {_redact(text)} must name a host and one database: "
            "postgresql://user:password@host:5432/database."
        )
    secret = tuple((k, v) for k, v in options if k in SECRET_OPTIONS)
    plain = [(k, v) for k, v in options if k not in SECRET_OPTIONS]
    env_password = os.environ.get(PASSWORD_ENV) or None
    for value in (password, env_password, *(v for _, v in secret)):
        _secrets.remember_secret(value)  # cut from every text from now on (errors, logs, notes)
    shown = f"postgresql://{username + '@' if username else ''}{host}:{port or 5432}/{database}"
    return Location(
        kind="postgresql",
        display=shown,
        host=host,
        port=port or 5432,
        database=database,
        username=username,
        password=password,
        query=urlencode(plain),
        secret_options=secret,
        env_password=env_password,
    )


def _port(value: str, text: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise HistoryError(
            f"The history location {_redact(text)} has a port that is not a number from 1 to "
            f"65535 ({value!r})."
        )
    return int(value)


def _looks_like_key_values(text: str) -> bool:
    """A libpq key/value string starts with one of libpq's keywords and '='."""
    first = text.split("=", 1)[0].strip() if "=" in text else ""
    return first in KEYWORDS


def _key_values(text: str) -> list[tuple[str, str]]:
    """libpq's key/value syntax: `key = value` pairs apart by spaces; a value in single quotes
    may hold spaces, and a backslash escapes the next character. Unknown keywords are refused,
    as libpq refuses them."""
    pairs: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return pairs
        start = i
        while i < n and not text[i].isspace() and text[i] != "=":
            i += 1
        key = text[start:i]
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=" or key not in KEYWORDS:
            raise HistoryError(
                f"The history location {_redact(text)} is not a libpq key/value string "
                f"(near {key!r}): use e.g. 'host=db dbname=kling user=ada', or a "
                "postgresql://user@host:5432/database URL."
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        value: list[str] = []
        quoted = i < n and text[i] == "'"
        i += int(quoted)
        while i < n and (quoted or not text[i].isspace()):
            if text[i] == "\\" and i + 1 < n:
                value.append(text[i + 1])
                i += 2
                continue
            if quoted and text[i] == "'":
                break
            value.append(text[i])
            i += 1
        if quoted:
            if i >= n:
                raise HistoryError(
                    f"The history location {_redact(text)} has an unterminated quoted value."
                )
            i += 1
        pairs.append((key, "".join(value)))


def _redact(text: str) -> str:
    """A location as it may be shown: every secret in it replaced."""
    try:
        password = urlsplit(text).password
    except ValueError:
        password = None
        if "@" in text:  # unparsable but has credentials: show nothing of them
            text = text.split("://", 1)[0] + "://***@" + text.rsplit("@", 1)[1]
    if password:
        text = text.replace(f":{password}@", ":***@", 1)
    # `password=...` and its kin, in a URL's query or a key/value string: the value up to the
    # next space or `&`, or a whole quoted value.
    return repr(_SECRET_VALUE.sub(r"\1***", text))


_SECRET_VALUE: Final = re.compile(
    rf"(\b(?:{'|'.join(SECRET_KEYS)})\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&]*)"
)
