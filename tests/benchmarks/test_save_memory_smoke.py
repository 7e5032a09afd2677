"""The save-memory benchmark runs and reports its three ways (a tiny clip; no figure asserted)."""

from __future__ import annotations

import json

import pytest

from benchmarks import save_memory

from ..s3_server import ENV_REQUIRE, find_weed, required


def test_it_reports_the_store_ways_and_the_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    if find_weed() is None:
        if required():
            pytest.fail(f"no `weed` binary, and {ENV_REQUIRE}=1", pytrace=False)
        pytest.skip("no `weed` binary")
    assert save_memory.main(["--mb", "0.5", "--rounds", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(report["peak_growth_mib"]) == {"s3", "folder", "table (before stores)"}
    assert report["clip_mib"] == 0.5
