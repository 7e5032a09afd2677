"""Where the test suite's time goes, from a pytest JUnit XML report.

`bash scripts/test.sh` writes one to $KLING_STUDIO_ARTIFACTS/pytest.xml (artifacts/ by default).
The report gives, per test folder, the seconds its tests took (setup, call and teardown: what a
run in one process would spend on them) and the slowest tests; against the wall time of the
run, their total says how much the pytest-xdist workers overlapped.

    python -m benchmarks.suite_time [artifacts/pytest.xml] [--top N]
"""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TestTime:
    module: str  # JUnit's classname: "tests.cli.test_cli", or a notebook's file
    name: str
    seconds: float

    @property
    def folder(self) -> str:
        """tests/<layer> for a test, notebooks for a notebook's cells."""
        parts = self.module.replace("/", ".").split(".")
        return "/".join(parts[:2]) if parts[0] == "tests" and len(parts) > 2 else parts[0]


def read_report(path: Path) -> tuple[list[TestTime], float]:
    """The tests of a JUnit XML report and the run's wall time (its testsuite's `time`)."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    wall = sum(float(s.get("time", 0)) for s in suites)
    tests = [
        TestTime(case.get("classname", ""), case.get("name", ""), float(case.get("time", 0)))
        for case in root.iter("testcase")
    ]
    return tests, wall


def report(tests: list[TestTime], wall: float, top: int = 10) -> str:
    by_folder: dict[str, list[float]] = defaultdict(list)
    for test in tests:
        by_folder[test.folder].append(test.seconds)
    total = sum(t.seconds for t in tests)
    lines = ["| folder | tests | test-seconds | share |", "|---|---:|---:|---:|"]
    for folder, times in sorted(by_folder.items(), key=lambda kv: -sum(kv[1])):
        share = sum(times) / total if total else 0.0
        lines.append(f"| {folder} | {len(times)} | {sum(times):.0f} | {share:.0%} |")
    lines.append(f"| all | {len(tests)} | {total:.0f} | 100% |")
    overlap = total / wall if wall else 0.0
    lines += ["", f"wall time {wall:.0f} s; test-seconds / wall = {overlap:.2f}x", ""]
    lines.append(f"slowest {top}:")
    for test in sorted(tests, key=lambda t: -t.seconds)[:top]:
        lines.append(f"  {test.seconds:7.1f} s  {test.module}::{test.name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("report", nargs="?", default="artifacts/pytest.xml", type=Path)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    tests, wall = read_report(args.report)
    print(report(tests, wall, args.top))


if __name__ == "__main__":
    main()
