"""benchmarks/suite_time.py reads a real pytest JUnit report: per folder, test-seconds and the
slowest tests. No timing is asserted beyond what the tests below sleep."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks import suite_time


def test_a_real_junit_report_is_summed_by_folder(tmp_path: Path) -> None:
    for layer, body in (("alpha", "time.sleep(0.2)"), ("beta", "pass")):
        folder = tmp_path / "tests" / layer
        folder.mkdir(parents=True)
        (folder / f"test_{layer}.py").write_text(
            f"import time\n\ndef test_one():\n    {body}\n\ndef test_two():\n    pass\n"
        )
    xml = tmp_path / "pytest.xml"
    # Without the project's addopts and nbval: an inner pytest that starts quickly.
    quick = ["-o", "addopts=", "-p", "no:nbval", "-p", "no:cacheprovider", "-p", "no:xdist"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "-q", f"--junitxml={xml}", *quick],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    tests, wall = suite_time.read_report(xml)
    assert sorted(t.folder for t in tests) == ["tests/alpha"] * 2 + ["tests/beta"] * 2
    assert wall >= 0.2
    text = suite_time.report(tests, wall, top=1)
    assert "| tests/alpha | 2 |" in text and "| tests/beta | 2 |" in text
    assert "| all | 4 |" in text
    (slowest,) = [line for line in text.splitlines() if line.startswith("  ")]
    assert slowest.endswith("tests.alpha.test_alpha::test_one")
