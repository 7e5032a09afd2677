"""A real JupyterHub (tests/jupyterhub_server.py) shared by the module's tests: it takes ~20 s to
start on a busy machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..jupyterhub_server import Hub, running_hub


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    with running_hub(("ada", "bob")) as running:
        yield running
