"""One scrubbing mechanism: every key in use (FOXAPI_API_KEY or api_key=) is cleaned from every
error the package raises, whatever server text it carries."""

from __future__ import annotations

import pytest

from kling_studio import AsyncClient
from kling_studio._secrets import scrub
from kling_studio.errors import APIError, AuthenticationError, KlingStudioError, TransportError
from kling_studio.models import Task

KEY = "sk-given-as-argument-1234"
ENV_KEY = "sk-from-the-environment-5678"


async def test_a_key_given_as_argument_is_scrubbed_from_errors() -> None:
    async with AsyncClient(KEY, "http://127.0.0.1:9"):
        pass
    error = AuthenticationError(f"Invalid token: {KEY}", body={"error": {"message": KEY}})
    assert KEY not in str(error) + repr(error) + repr(vars(error))
    assert "<api key>" in error.message


def test_a_key_from_the_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOXAPI_API_KEY", ENV_KEY)
    for error in (
        TransportError(f"connection to x?key={ENV_KEY} dropped"),
        KlingStudioError(f"anything {ENV_KEY}"),
        APIError(ENV_KEY, code=ENV_KEY, param=ENV_KEY),
    ):
        assert ENV_KEY not in str(error) + repr(vars(error))


def test_server_text_in_a_task_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOXAPI_API_KEY", ENV_KEY)
    task = Task.from_api(
        {"id": "t1", "status": "failed", "error": {"message": f"bad token {ENV_KEY}"}}
    )
    assert task.error is not None and ENV_KEY not in task.error.message
    assert ENV_KEY not in repr(task.raw)


def test_short_text_is_left_alone() -> None:
    assert scrub("a b c") == "a b c"
    assert scrub(None) is None
