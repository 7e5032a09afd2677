"""The one key-scrubbing mechanism: every key in use is remembered, and text is cleaned of it.

A key enters the package in two ways (FOXAPI_API_KEY, or `api_key=`); `config.resolve_api_key`
remembers it either way. Server text enters through error construction and task parsing, which
call `scrub`; the history and the snippets call it again as a second guard. Imports nothing from
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

_keys: set[str] = set()
_lock = threading.Lock()


def remember(key: str | None) -> None:
    """Note a key in use, so that no later message can show it."""
    if key and len(key) >= MIN_CHARS:
        with _lock:
            _keys.add(key)


def _known() -> list[str]:
    env_key = os.environ.get(API_KEY_ENV, "").strip()
    with _lock:
        keys = set(_keys)
    if len(env_key) >= MIN_CHARS:
        keys.add(env_key)
    # Longest first: a key that contains another is replaced whole.
    return sorted(keys, key=len, reverse=True)


@overload
def scrub(text: str, replacement: str = ...) -> str: ...
@overload
def scrub(text: None, replacement: str = ...) -> None: ...
def scrub(text: str | None, replacement: str = REPLACEMENT) -> str | None:
    """`text` with every known key replaced."""
    if not text:
        return text
    for key in _known():
        if key in text:
            text = text.replace(key, replacement)
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
