"""Without PostgreSQL binaries the PostgreSQL tests are skipped here, and fail in CI
(KLING_STUDIO_REQUIRE_POSTGRES=1): a green CI never hides a missing server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
def test_needs_postgres(postgres_url):
    assert postgres_url.startswith("postgresql://")
"""


@pytest.mark.parametrize(("required", "outcome"), [("", "1 skipped"), ("1", "1 error")])
def test_no_binaries_skip_locally_and_fail_when_required(
    required: str, outcome: str, tmp_path: Path
) -> None:
    here = Path(__file__).resolve().parent
    probe = here / f"test_zz_probe_{os.getpid()}_{required or 'local'}.py"
    probe.write_text(PROBE)
    try:
        env = {k: v for k, v in os.environ.items() if k != "KLING_STUDIO_TEST_POSTGRES"}
        env.update(
            KLING_STUDIO_POSTGRES_BIN=str(tmp_path / "no-postgres-here"),
            KLING_STUDIO_REQUIRE_POSTGRES=required,
        )
        # Without the project's addopts and nbval: nbval's imports alone cost ~3 s of CPU.
        quick = ["-o", "addopts=", "-p", "no:nbval", "-p", "no:cacheprovider"]
        done = subprocess.run(
            [sys.executable, "-m", "pytest", str(probe), "-q", "-p", "no:randomly", *quick],
            cwd=here.parents[1],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        probe.unlink()
    assert outcome in done.stdout, done.stdout + done.stderr
    if required:
        assert "KLING_STUDIO_REQUIRE_POSTGRES=1" in done.stdout
