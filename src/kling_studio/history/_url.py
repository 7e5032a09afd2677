"""Where a history lives: a path or `sqlite:///...` (one person, zero setup) or
`postgresql://user:password@host:port/database` (a class or a team sharing one history).

The choice is the same everywhere: `History(location)`, `Studio(history=...)`, the CLI's
`--history`, else the environment variable `KLING_STUDIO_HISTORY`, else
`<home>/history.sqlite3`. The password is a secret like the API key: `Location.display` and
every message leave it out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from .. import config
from ..errors import HistoryError

DB_NAME: Final = "history.sqlite3"
HISTORY_ENV: Final = "KLING_STUDIO_HISTORY"
POSTGRES_SCHEMES: Final = ("postgresql", "postgres", "postgresql+psycopg")


@dataclass(frozen=True)
class Location:
    """A resolved history location. `path` is set for SQLite; host/port/database/username for
    PostgreSQL. `password` never appears in `display` nor in the repr."""

    kind: str  # "sqlite" or "postgresql"
    display: str  # what messages and reprs show: never the password
    path: Path | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    query: str = ""

    @property
    def shared(self) -> bool:
        return self.kind == "postgresql"

    def sqlalchemy_url(self) -> object:
        """The SQLAlchemy URL (built field by field, so odd characters in a password need no
        quoting by the user beyond the URL's own)."""
        from sqlalchemy.engine import URL

        if self.kind == "sqlite":
            return URL.create("sqlite", database=str(self.path))
        query: dict[str, str] = {}
        for pair in filter(None, self.query.split("&")):
            name, _, value = pair.partition("=")
            query[unquote(name)] = unquote(value)
        return URL.create(
            "postgresql+psycopg",
            username=self.username,
            password=self.password,
            host=self.host,
            port=self.port,
            database=self.database,
            query=query,
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
    except ValueError as exc:  # e.g. a port that is not a number
        raise HistoryError(
            f"The history URL {_redact(text)} is not a valid PostgreSQL URL ({exc}). Use "
            "postgresql://user:password@host:5432/database."
        ) from None
    database = unquote(parts.path.lstrip("/"))
    host = parts.hostname
    if not host or not database or "/" in database:
        raise HistoryError(
            f"The history URL {_redact(text)} must name a host and one database: "
            "postgresql://user:password@host:5432/database."
        )
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    shown = f"postgresql://{username + '@' if username else ''}{host}:{port or 5432}/{database}"
    return Location(
        kind="postgresql",
        display=shown,
        host=host,
        port=port or 5432,
        database=database,
        username=username,
        password=password,
        query=parts.query,
    )


def _redact(text: str) -> str:
    """A URL as it may be shown: the password replaced."""
    try:
        parts = urlsplit(text)
        password = parts.password
    except ValueError:
        password = None
        parts = None
    if parts is not None and password:
        return repr(text.replace(f":{password}@", ":***@", 1))
    if "@" in text:  # unparsable but has credentials: show nothing of them
        return repr(text.split("://", 1)[0] + "://***@" + text.rsplit("@", 1)[1])
    return repr(text)
