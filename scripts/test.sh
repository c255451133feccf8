#!/usr/bin/env bash
# Runs every polyns test: installs the Debian packages needed, configures and
# builds ./build with warnings as errors, then runs all meson test suites.
# Works as root on a fresh Debian 12 clone (the system tests need root).
# Exit status: meson test's.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/build.sh
run_from_visible_copy "scripts/test.sh" "$@"

build_dir=build

bash scripts/install-deps.sh
setup_build_dir "$build_dir" -Dfault_injection=true  # + test-only pam_polyns_faults.so (attack-faults)
meson compile -C "$build_dir"

testlog="$build_dir/meson-logs/testlog.json"
rm -f -- "$testlog"  # so a run that dies early is not summarised from an old log

status=0
meson test -C "$build_dir" --print-errorlogs --num-processes 2 || status=$?

# Restate meson's summary as one plain "N passed, N failed, N skipped" line,
# the closing line generic CI log readers understand.
if [[ -f "$testlog" ]]; then
    python3 - "$testlog" <<'PY' || true
import json, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
kind = {"OK": "passed", "EXPECTEDFAIL": "passed", "SKIP": "skipped"}
with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
    for line in log:
        line = line.strip()
        if line:
            counts[kind.get(json.loads(line).get("result"), "failed")] += 1
print("meson: {passed} passed, {failed} failed, {skipped} skipped".format(**counts))
PY
fi
exit "$status"
