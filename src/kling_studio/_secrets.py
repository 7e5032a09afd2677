"""The one key-scrubbing mechanism: every key in use is remembered, and text is cleaned of it.

A key enters the package in two ways (FOXAPI_API_KEY, or `api_key=`); `config.resolve_api_key`
remembers it either way. A history's database secrets (its password in any form libpq takes,
`sslpassword`, `passfile`, PGPASSWORD) are remembered by `history._url` with their own
replacement. Server text enters through error construction and task parsing, which call
`scrub`; the history and the snippets call it again as a second guard. Imports nothing from
the package, so `errors` can use it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any, Final, overload

API_KEY_ENV: Final = "FOXAPI_API_KEY"
REPLACEMENT: Final = "<api key>"
# A key shorter than this cannot be a real FoxAPI key, and replacing it would garble every
# message that happens to contain those few letters.
MIN_CHARS: Final = 8

PASSWORD: Final = "<password>"
# A database password this short is not scrubbed (it would garble ordinary words); one that
# long or longer is.
MIN_PASSWORD_CHARS: Final = 4

_keys: set[str] = set()
_others: dict[str, str] = {}  # a secret other than an API key -> what replaces it
_lock = threading.Lock()


def remember(key: str | None) -> None:
    """Note a key in use, so that no later message can show it."""
    if key and len(key) >= MIN_CHARS:
        with _lock:
            _keys.add(key)


def remember_secret(value: str | None, replacement: str = PASSWORD) -> None:
    """Note another secret in use (e.g. a database password), cut from every text as
    `replacement`."""
    if value and len(value) >= MIN_PASSWORD_CHARS:
        with _lock:
            _others.setdefault(value, replacement)


def _known(key_replacement: str) -> list[tuple[str, str]]:
    env_key = os.environ.get(API_KEY_ENV, "").strip()
    with _lock:
        found = dict(_others)
        keys = set(_keys)
    if len(env_key) >= MIN_CHARS:
        keys.add(env_key)
    found |= dict.fromkeys(keys, key_replacement)
    # Longest first: a secret that contains another is replaced whole.
    return sorted(found.items(), key=lambda pair: len(pair[0]), reverse=True)


@overload
def scrub(text: str, replacement: str = ...) -> str: ...
@overload
def scrub(text: None, replacement: str = ...) -> None: ...
def scrub(text: str | None, replacement: str = REPLACEMENT) -> str | None:
    """`text` with every known secret replaced: API keys by `replacement`, other secrets by
    their own (e.g. "<password>")."""
    if not text:
        return text
    for secret, instead in _known(replacement):
        if secret in text:
            text = text.replace(secret, instead)
    return text


def scrub_value(value: Any) -> Any:
    """A JSON-like value (a server's body) with every string in it scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {scrub(str(k)): scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    return value
