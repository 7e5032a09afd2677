"""The class's students: a name and the SHA-256 of a long random token, shown once.

Administration is the database's (`kling-studio gateway user ...`), never HTTP. A token is
`kls_` and 43 URL-safe characters (32 random bytes); only its hash is stored, and a presented
token is matched by hash, compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from ..errors import InputError
from ..history._rows import iso, now, parse_time

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ..history._store import History

TOKEN_PREFIX: Final = "kls_"  # recognisable in a leaked file or a secret scanner
MAX_NAME: Final = 100


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Student:
    name: str
    created_at: datetime
    revoked_at: datetime | None


def check_name(name: str) -> str:
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned or len(cleaned) > MAX_NAME or cleaned == "*" or not cleaned.isprintable():
        raise InputError(
            f"a student's name is 1-{MAX_NAME} printable characters (not '*'); got {name!r}",
            "name",
        )
    return cleaned


class Students:
    """The `gateway_users` table of a history."""

    def __init__(self, history: History) -> None:
        self.history = history

    def add(self, name: str) -> str:
        """A new student; returns their token (the only time it exists outside their hands)."""
        from sqlalchemy import select

        from ..history._schema import gateway_users

        name = check_name(name)
        token = new_token()

        def work(conn: Connection) -> None:
            found = conn.execute(
                select(gateway_users.c.name).where(gateway_users.c.name == name)
            ).first()
            if found is not None:
                raise InputError(
                    f"there is already a student {name!r}; revoke them first or pick another name",
                    "name",
                )
            conn.execute(
                gateway_users.insert().values(
                    name=name, token_sha256=token_hash(token), created_at=iso(now())
                )
            )

        self.history._run(work, write=True)
        return token

    def revoke(self, name: str) -> bool:
        """Refuse this student's token from now on (every replica: it is read per request);
        the row stays, so their tasks keep their author. False if there is no such student."""
        from ..history._schema import gateway_users

        name = check_name(name)
        mine = (gateway_users.c.name == name) & gateway_users.c.revoked_at.is_(None)

        def work(conn: Connection) -> bool:
            done = conn.execute(gateway_users.update().where(mine).values(revoked_at=iso(now())))
            return bool(done.rowcount)

        return self.history._run(work, write=True)

    def exists(self, name: str) -> bool:
        return any(s.name == name and s.revoked_at is None for s in self.all())

    def all(self) -> list[Student]:
        from sqlalchemy import select

        from ..history._schema import gateway_users

        def work(conn: Connection) -> list[Student]:
            rows = conn.execute(select(gateway_users).order_by(gateway_users.c.name))
            return [
                Student(r.name, parse_time(r.created_at) or now(), parse_time(r.revoked_at))
                for r in rows
            ]

        return self.history._run(work, write=False)

    def name_for(self, token: str) -> str | None:
        """The active student whose token this is, else None."""
        from sqlalchemy import select

        from ..history._schema import gateway_users

        if not token.startswith(TOKEN_PREFIX):
            return None
        wanted = token_hash(token)

        def work(conn: Connection) -> tuple[str, str, str | None] | None:
            row = conn.execute(
                select(
                    gateway_users.c.name, gateway_users.c.token_sha256, gateway_users.c.revoked_at
                ).where(gateway_users.c.token_sha256 == wanted)
            ).first()
            return None if row is None else (row.name, row.token_sha256, row.revoked_at)

        found = self.history._run(work, write=False)
        if found is None or found[2] is not None:
            return None
        # The lookup was by hash; compare again in constant time all the same.
        return found[0] if hmac.compare_digest(found[1], wanted) else None
