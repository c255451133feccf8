#!/usr/bin/env bash
# Runs every polyns test: installs the Debian packages needed, configures and
# builds ./build with warnings as errors, then runs all meson test suites;
# then builds ./build-asan (ASan + UBSan) and runs the unit and system suites
# there again (meson test --setup asan, defined in meson.build).
# Works as root on a fresh Debian 12 clone (the system tests need root).
# Exit status: non-zero if either run failed. The last line counts both runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/build.sh
run_from_visible_copy "scripts/test.sh" "$@"

build_dir=build
asan_dir=build-asan

bash scripts/install-deps.sh
# The main build links libstdc++/libgcc/libmd into the module (the faster
# variant, opt-in since distributions link dynamically); the sanitizer build
# and the packages (suite packaging) test the dynamic one.
setup_build_dir "$build_dir" -Dfault_injection=true -Dstatic_module_deps=true  # + test-only pam_polyns_faults.so (attack-faults)
meson compile -C "$build_dir"

testlog="$build_dir/meson-logs/testlog.json"
asan_testlog="$asan_dir/meson-logs/testlog-asan.json"
rm -f -- "$testlog" "$asan_testlog"  # so a run that dies early is not summarised from an old log

status=0
meson test -C "$build_dir" --print-errorlogs --num-processes 2 || status=$?

# Sanitizer run: libstdc++ cannot be linked statically next to ASan
# (static_module_deps=false); the fuzz targets are sanitized already and the
# bench suite (timings, valgrind) does not run under ASan (see meson.build).
echo "== sanitizer build ($asan_dir: ASan + UBSan): unit and system suites =="
# Any UBSan report is fatal (no recover); no vptr check: it reads memory
# through a pipe and reports false positives under attack-faults' RLIMIT_NOFILE.
# (meson configure: `setup --reconfigure` leaves cpp_args as they were.)
asan_cpp_args="-fno-sanitize=vptr -fno-sanitize-recover=all"
if setup_build_dir "$asan_dir" -Db_sanitize=address,undefined -Db_lundef=false \
        -Dstatic_module_deps=false -Dfault_injection=true -Dfuzz=disabled --buildtype=debug \
        -Dcpp_args="$asan_cpp_args" &&
    meson configure "$asan_dir" -Dcpp_args="$asan_cpp_args" &&
    meson compile -C "$asan_dir"; then
    meson test -C "$asan_dir" --setup asan --suite unit --suite system --no-suite no-asan \
        --print-errorlogs --num-processes 2 || status=$?
else
    echo "error: the sanitizer build failed"
    status=1
fi

# Restate meson's summary as one plain "N passed, N failed, N skipped" line,
# the closing line generic CI log readers understand.
# Both runs are counted (a test that ran in both counts twice).
if [[ -f "$testlog" ]]; then
    python3 - "$testlog" "$asan_testlog" <<'PY' || true
import json, os, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
kind = {"OK": "passed", "EXPECTEDFAIL": "passed", "SKIP": "skipped"}
for path in sys.argv[1:]:
    if not os.path.exists(path):
        continue
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            line = line.strip()
            if line:
                counts[kind.get(json.loads(line).get("result"), "failed")] += 1
print("meson: {passed} passed, {failed} failed, {skipped} skipped".format(**counts))
PY
fi
exit "$status"
