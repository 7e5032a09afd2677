#!/usr/bin/env bash
# Sets up, then runs every check and test: lint, type checks, vitest, pytest (simulator over
# loopback, real kernels, nbval notebooks, and the real-browser tests).
#
# pytest runs on KLING_STUDIO_TEST_WORKERS pytest-xdist workers (default 4: most tests wait on
# kernels, browsers and sockets rather than on the 2 cores); 0 runs it in this one process.
# --dist loadscope sends a module's tests (a notebook's cells) to one worker, in their order: a
# module fixture is set up once, and nbval runs a notebook's cells in one kernel. (loadgroup
# cannot group: xdist 3.8 renames test ids in a way pytest 9 ignores.) --no-loadscope-reorder
# sends modules in collection order, so the slow browser modules start first instead of last.
# Arguments go to pytest: `bash scripts/test.sh tests/client -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

stage_start=$SECONDS
stage() {  # prints how long the previous stage took, then the next one's name
  echo "   ($((SECONDS - stage_start)) s)"
  stage_start=$SECONDS
  echo "== $1"
}

echo "== setup"; bash scripts/setup.sh
stage "ruff"; .venv/bin/ruff check .
stage "ruff format"; .venv/bin/ruff format --check .
# mypy (one core, the longest check) runs beside tsc and vitest; its output follows theirs.
mypy_log="$(mktemp)"
.venv/bin/mypy >"$mypy_log" 2>&1 &
mypy_pid=$!
trap 'kill "$mypy_pid" 2>/dev/null || true; rm -f "$mypy_log"' EXIT
stage "tsc"; npx --no-install tsc --noEmit
stage "vitest"; npx --no-install vitest run
stage "mypy (started beside tsc)"
mypy_status=0
wait "$mypy_pid" || mypy_status=$?
cat "$mypy_log"
((mypy_status == 0)) || exit "$mypy_status"
rm -f "$mypy_log"
trap - EXIT
stage "pytest (after $SECONDS s of set-up and checks)"
# pytest's own closing line ends the output (CI reads it), with the time pytest took. Its JUnit
# report feeds `python -m benchmarks.suite_time` (where the suite's time goes).
workers="${KLING_STUDIO_TEST_WORKERS:-4}"
report="${KLING_STUDIO_ARTIFACTS:-artifacts}/pytest.xml"
exec .venv/bin/pytest -n "$workers" --dist loadscope --no-loadscope-reorder --junitxml="$report" "$@"
