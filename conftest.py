"""Root pytest configuration: every test run, notebooks included, is isolated from the user.

nbval starts kernels that inherit this process's environment, so the isolation must be in the
environment itself, before any kernel starts: no real API key, and a throw-away data folder.
"""

from __future__ import annotations

import os
import tempfile

import pytest


def pytest_configure(config: pytest.Config) -> None:
    os.environ.pop("FOXAPI_API_KEY", None)
    os.environ.pop("FOXAPI_BASE_URL", None)
    os.environ.pop("KLING_STUDIO_HISTORY", None)
    if not os.environ.get("KLING_STUDIO_TEST_HOME_KEEP"):
        os.environ["KLING_STUDIO_HOME"] = tempfile.mkdtemp(prefix="kling-studio-tests-")
