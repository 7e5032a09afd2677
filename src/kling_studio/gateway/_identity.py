"""Who is asking: an ordered list of identifiers, each turning a bearer token into a student's
name or None. The token table comes first; `gateway serve --jupyterhub` adds the hub's
(`_hub.HubIdentity`: a single-user server's JUPYTERHUB_API_TOKEN, asked of the hub's API)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ._students import Students

MAX_TOKEN = 512  # longer is no token of ours nor the hub's: refused unread


class Identifier(Protocol):
    async def user_for(self, token: str) -> str | None: ...


class TokenIdentity:
    """Tokens made by `kling-studio gateway user add` (read per request: a revocation holds on
    every replica at once)."""

    def __init__(self, students: Students) -> None:
        self.students = students

    async def user_for(self, token: str) -> str | None:
        return await asyncio.to_thread(self.students.name_for, token)


def bearer(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN:
        return None
    return token


async def identify(identifiers: list[Identifier], authorization: str) -> str | None:
    """The first identifier's answer for the request's bearer token, else None (a 401)."""
    token = bearer(authorization)
    if token is None:
        return None
    for identifier in identifiers:
        user = await identifier.user_for(token)
        if user:
            return user
    return None


def identifiers_for(students: Students, *, jupyterhub: bool) -> list[Identifier]:
    found: list[Identifier] = [TokenIdentity(students)]
    if jupyterhub:
        from ._hub import HubIdentity  # type: ignore[import-not-found,unused-ignore]

        found.append(HubIdentity.from_environment())
    return found
