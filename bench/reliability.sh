#!/usr/bin/env bash
# The quick reliability check in one command: the fast tests (fuzzing, hostile inputs, faults without
# the slow kill -9 runs, the remote store going down when Virtuoso is installed, guard rails,
# observability) and a short load run against the demo on loopback.
# The slow tests (`-m slow`) and the long load run are in docs/reliability.md.
# Example: bench/reliability.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pytest -q -m "not slow" tests/test_observability.py tests/test_fuzz.py tests/test_hostile_inputs.py tests/test_faults.py \
    tests/test_faults_remote.py tests/test_guard_rails.py
python bench/reliability.py --quick
