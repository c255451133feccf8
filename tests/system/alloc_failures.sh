#!/bin/bash
# Out of memory at every point of a session: the Nth C++ allocation made
# inside pam_open_session (then pam_close_session) throws std::bad_alloc, for
# every N up to the number a session makes. The exception never crosses the C
# ABI (no abort), a failed open returns an error with the caller back in its
# original namespace and nothing mounted, and the module logs one LOG_ERR line.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
shim=${POLYNS_ALLOC_SHIM:-$POLYNS_BUILD_DIR/tests/system/polyns-alloc-failure-shim.so}
[[ -f $shim ]] || fail "not built: $shim"
# The sanitizer run (meson test --setup asan): the shim interposes only
# operator new/new[] and hands on to ASan's, so it must come before ASan's
# runtime in the process (alloc_failure_shim.cpp).
if [[ -n ${POLYNS_TEST_PRELOAD:-} ]]; then
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
fi
add_standard_users
make_template /var/tmp/inst
make_template /run/polyns-test/inst
# Two polydirs, so failures can strike between the first mount and the second.
write_conf <<'EOF2'
/tmp /var/tmp/inst/ user:noinit
/var/tmp /run/polyns-test/inst/ user:noinit
EOF2
use_module
mounts_before=$(mount_table)
outside_ns=$(mount_ns)

run_with_failure() { # PHASE N: prints the driver's exit status and output
    local rc=0 out
    out=$(LD_PRELOAD=$shim POLYNS_FAIL_NEW_IN=$1 POLYNS_FAIL_NEW_AT=$2 \
        "$POLYNS_PAM_SESSION" --print-ns "$MODULE_SERVICE" alice -- true 2>&1) || rc=$?
    printf '%s\n%s\n' "$rc" "$out"
}

for phase in open close; do
    total=$(LD_PRELOAD=$shim POLYNS_FAIL_NEW_IN=$phase POLYNS_FAIL_NEW_AT=0 \
        "$POLYNS_PAM_SESSION" "$MODULE_SERVICE" alice -- true 2>&1 | sed -n "s/^alloc-shim: $phase: \([0-9]*\) allocations$/\1/p")
    [[ $total -gt 0 ]] || fail "$phase: the shim counted no allocations (is it preloaded?)"
    failed=0 succeeded=0
    for ((n = 1; n <= total; n++)); do
        syslog_clear
        result=$(run_with_failure "$phase" "$n")
        rc=$(printf '%s\n' "$result" | sed -n 1p)
        out=$(printf '%s\n' "$result" | sed 1d)
        case $phase:$rc in
        open:2)
            failed=$((failed + 1))
            [[ $out == *"mntns after_open=$outside_ns"* ]] ||
                fail "open, allocation $n fails: the caller is not back in its namespace: $out"
            [[ $(mount_table) == "$mounts_before" ]] || fail "open, allocation $n fails: a mount was left behind"
            syslog_settle
            [[ $(count_lines "$(polyns_log err)") == 1 ]] ||
                fail "open, allocation $n fails: expected one LOG_ERR line, got: $(polyns_log err)"
            ;;
        close:3) failed=$((failed + 1)) ;;  # close reported its failure to the caller
        *:0) succeeded=$((succeeded + 1)) ;;
        *) fail "$phase, allocation $n fails: driver exit status $rc (an exception escaped?): $out" ;;
        esac
    done
    pass "$phase: $total allocations, each failed once: $failed sessions refused cleanly, $succeeded tolerated, no abort"
    [[ $phase == close || $failed -gt 0 ]] || fail "open: no allocation failure made the open fail (shim not effective?)"
done
assert_eq "$(mount_table)" "$mounts_before" "caller's mount table unchanged"
