"""What `import kling_studio` costs against `import httpx`, in fresh interpreters.

    .venv/bin/python -m benchmarks.import_time [--rounds N] [--json]

Each round starts one fresh interpreter per statement, in alternating order (so load on a shared
machine hits both sides alike), and times the statement inside it with `time.perf_counter`
(interpreter start-up is the same for both and left out). The figure is the ratio of medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from typing import Any

BASELINE = "import httpx"
STATEMENTS = {
    "import kling_studio": "import kling_studio",
    "from kling_studio import Client": "from kling_studio import Client",
    "Client() + first Task": (
        "from kling_studio import Client, Task; Task.from_api({'id': 't', 'status': 'pending'})"
    ),
}
TARGET_RATIO = 1.5  # `import kling_studio` over `import httpx`

_PROBE = (
    "import time, sys; t = time.perf_counter(); exec(sys.argv[1]); print(time.perf_counter() - t)"
)


def time_once(statement: str) -> float:
    """Seconds `statement` takes in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, statement],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def run(rounds: int = 15, statements: dict[str, str] | None = None) -> dict[str, Any]:
    """Medians and ratios; `statements` (name -> code) must include `import kling_studio`."""
    chosen = STATEMENTS if statements is None else statements
    samples: dict[str, list[float]] = {BASELINE: [], **{name: [] for name in chosen}}
    order = [(BASELINE, BASELINE), *chosen.items()]
    for n in range(rounds):
        turn = order if n % 2 == 0 else order[::-1]  # alternate who goes first
        for name, statement in turn:
            samples[name].append(time_once(statement))
    base = statistics.median(samples[BASELINE])
    rows = {
        name: {
            "median_ms": statistics.median(values) * 1000,
            "ratio": statistics.median(values) / base,
        }
        for name, values in samples.items()
    }
    ratio = rows["import kling_studio"]["ratio"]
    return {
        "rounds": rounds,
        "baseline": BASELINE,
        "rows": rows,
        "targets": {"import kling_studio <= 1.5x import httpx": ratio <= TARGET_RATIO},
    }


def render(report: dict[str, Any]) -> str:
    lines = [
        f"{report['rounds']} rounds, fresh interpreters, medians, ratio to `{report['baseline']}`",
        "",
        "| statement | median ms | ratio |",
        "|---|---|---|",
    ]
    for name, row in report["rows"].items():
        lines.append(f"| `{name}` | {row['median_ms']:.0f} | {row['ratio']:.2f}x |")
    lines.append("")
    lines += [
        f"- {target}: {'met' if ok else 'NOT met'}" for target, ok in report["targets"].items()
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(args.rounds)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
