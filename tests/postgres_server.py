"""A real PostgreSQL server for the tests: `KLING_STUDIO_TEST_POSTGRES` when set, otherwise a
throwaway one started from the machine's PostgreSQL binaries (Debian's
/usr/lib/postgresql/<version>/bin) in a temporary folder, on 127.0.0.1 and a free port.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (which
Debian's package creates). Without binaries the tests are skipped, or fail when
`KLING_STUDIO_REQUIRE_POSTGRES=1` (CI sets it): a green CI never hides a missing server.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ENV_URL = "KLING_STUDIO_TEST_POSTGRES"  # postgresql://user:password@host:port/database
ENV_REQUIRE = "KLING_STUDIO_REQUIRE_POSTGRES"  # "1": no server is a failure, not a skip
SUPERUSER = "postgres"


def required() -> bool:
    return os.environ.get(ENV_REQUIRE, "").strip() not in ("", "0")


ENV_BIN = "KLING_STUDIO_POSTGRES_BIN"  # a bin folder to use instead of looking (tests of this)


def find_binaries() -> Path | None:
    """The PostgreSQL bin folder with initdb and pg_ctl: KLING_STUDIO_POSTGRES_BIN, else the
    one on PATH, else the newest of Debian's."""
    chosen = os.environ.get(ENV_BIN, "").strip()
    if chosen:
        folder = Path(chosen)
        return folder if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file() else None
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / "initdb").is_file() and (root / "pg_ctl").is_file():
            return root
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A server to make databases in: `new_database()` returns the URL of a fresh, empty one."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        parts = urlsplit(admin_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432
        self.user = parts.username or SUPERUSER
        self.password = parts.password or ""

    def url(self, database: str, *, user: str | None = None, password: str | None = None) -> str:
        user = user or self.user
        password = self.password if password is None else password
        auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
        return urlunsplit(("postgresql", f"{auth}@{self.host}:{self.port}", f"/{database}", "", ""))

    def new_database(self) -> str:
        import psycopg

        name = f"kls_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def sql(self, database: str, statement: str) -> list[tuple[object, ...]]:
        """Run one statement as the administrator (to look at or damage a database directly)."""
        import psycopg

        with psycopg.connect(self._dsn(database), autocommit=True) as conn:
            cursor = conn.execute(statement)  # type: ignore[arg-type]
            return list(cursor.fetchall()) if cursor.description else []

    def _dsn(self, database: str) -> str:
        return self.url(database)


@contextmanager
def throwaway_server(binaries: Path, *, durable: bool = False) -> Iterator[PostgresServer]:
    """initdb + pg_ctl in a temporary folder; stopped and removed at the end. Not `durable`
    (the tests): no fsync, for speed. `durable` (the benchmarks): PostgreSQL's defaults, so it
    is compared fairly with SQLite's synchronous=FULL."""
    as_root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="kls-pg-"))
    data, sockets, log = folder / "data", folder / "sockets", folder / "server.log"
    password = secrets.token_urlsafe(16)
    (folder / "pw").write_text(password + "\n")
    sockets.mkdir()
    if as_root:
        owner = pwd.getpwnam(SUPERUSER)
        for path in (folder, sockets, folder / "pw"):
            os.chown(path, owner.pw_uid, owner.pw_gid)

    def run(*argv: str) -> None:
        command = ["runuser", "-u", SUPERUSER, "--", *argv] if as_root else list(argv)
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    port = _free_port()
    run(
        str(binaries / "initdb"),
        "-D",
        str(data),
        "-U",
        SUPERUSER,
        "--auth=scram-sha-256",
        f"--pwfile={folder / 'pw'}",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    )
    options = f"-h 127.0.0.1 -p {port} -k {sockets} -c max_connections=200 -c shared_buffers=32MB"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    try:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        server = PostgresServer(f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{port}/postgres")
        _wait_ready(server)
        yield server
    finally:
        with suppress(subprocess.CalledProcessError):
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(server: PostgresServer, seconds: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(server._dsn("postgres"), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
