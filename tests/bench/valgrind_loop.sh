#!/bin/bash
# Memory and resources of pam_polyns.so (issue 5): valgrind memcheck over N
# (default 200) pam_open_session/pam_close_session cycles in ONE process, with
# unmount_on_close (polyns-bench loop; each open unshares again from the
# previous session's namespace, each close unmounts). Passes when memcheck
# finds 0 errors and no definitely/indirectly lost bytes, every cycle
# succeeds, and the open fds and the mount table end where they started.
# Also prints the module's size and shared-library dependencies.
source "$(dirname "$0")/../system/lib/harness.sh"
harness_enter "$@"
require_module
command -v valgrind >/dev/null || skip "valgrind is not installed"
bench=${POLYNS_BENCH:-$POLYNS_BUILD_DIR/tests/bench/polyns-bench}
[[ -x $bench ]] || fail "polyns-bench not built: $bench"
cycles=${POLYNS_VALGRIND_CYCLES:-200}

add_user bench00 20000

echo "module: $POLYNS_MODULE"
echo "size on disk: $(stat -c %s "$POLYNS_MODULE") bytes; loaded (size(1) text+data+bss): $(size "$POLYNS_MODULE" | awk 'NR == 2 {print $4}') bytes"
echo "NEEDED: $(readelf -d "$POLYNS_MODULE" | awk '/NEEDED/ {gsub(/[][]/, "", $5); printf "%s ", $5}')"
echo "ldd:"
ldd "$POLYNS_MODULE" | sed 's/^/  /'

log=$POLYNS_TEST_ROOT/valgrind.log
status=0
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --keep-debuginfo=yes \
    --suppressions="$(dirname "$0")/valgrind.supp" \
    --log-file="$log" "$bench" loop --cycles "$cycles" --user bench00 || status=$?
out=$(cat "$log")
echo "--- valgrind (summary)"
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|All heap blocks|unhandled" "$log" | sed 's/^==[0-9]*== //' | sort -u
if [[ $status != 0 ]]; then
    echo "--- valgrind log" >&2
    cat "$log" >&2
    fail "polyns-bench loop under valgrind exited with $status (99 = memcheck errors or leaks)"
fi
assert_contains "$out" "ERROR SUMMARY: 0 errors" "memcheck: 0 errors"
if [[ $out == *"definitely lost:"* ]]; then
    assert_contains "$out" "definitely lost: 0 bytes in 0 blocks" "memcheck: nothing definitely lost"
    assert_contains "$out" "indirectly lost: 0 bytes in 0 blocks" "memcheck: nothing indirectly lost"
else
    assert_contains "$out" "no leaks are possible" "memcheck: no leaks"
fi
pass "$cycles open/close cycles in one process: fds and mounts back to where they started (polyns-bench loop)"
