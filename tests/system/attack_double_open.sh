#!/bin/bash
# Issue 12, item 3: one PAM handle, one session. pam_open_session twice on the
# same handle (polyns-pam-session --open-twice) with a tmpdir /tmp:
#   A. both would succeed: the second is refused (PAM_SESSION_ERR, one
#      LOG_ERR line), the first stays: one mount on /tmp, and close removes
#      its instance;
#   B. the first fails (an injected mount failure), the second succeeds: a
#      normal session, closed normally;
#   C. the first succeeds, the second would fail (injected): refused before it
#      gets there, and close still closes the first.
# After each: no mount left here, no instance left in the template.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
[[ -f ${POLYNS_FAULTS_MODULE:-} ]] || fail "needs pam_polyns_faults.so (meson -Dfault_injection=true)"
add_standard_users
make_template /var/tmp/tmpl
write_conf <<'EOF'
/tmp /var/tmp/tmpl/ tmpdir
EOF
printf 'session required %s debug\n' "$POLYNS_FAULTS_MODULE" | write_pam_service "$MODULE_SERVICE"
mounts_before=$(mount_table)
# Inside the session: how many mounts are stacked on /tmp beyond the harness's one.
count_tmp_mounts='echo "tmp-mounts=$(($(awk '\''$5 == "/tmp"'\'' /proc/self/mountinfo | wc -l) - 1))"'

run_case() { # CASE FAULT EXPECTED_OPEN1 EXPECTED_OPEN2
    local case=$1 fault=$2 out rc=0
    syslog_clear
    out=$(POLYNS_FAULT=$fault session --open-twice alice sh -c "$count_tmp_mounts" 2>&1) || rc=$?
    echo "$case: exit $rc; $out"
    # libpam answers the close after a failed pam_open_session with a
    # failure of its own (the chain's cached result: PAM_PERM_DENIED), whatever
    # the module says: the driver's exit 3. What the module did is below.
    [[ $rc == 0 || $rc == 3 ]] || fail "$case: the session did not run (exit $rc)"
    assert_contains "$out" "open 1: $3" "$case: first open"
    assert_contains "$out" "open 2: $4" "$case: second open"
    assert_contains "$out" "tmp-mounts=1" "$case: exactly one session mount on /tmp"
    assert_eq "$(ls -A /var/tmp/tmpl)" "" "$case: close removed the session's instance (none left)"
    assert_eq "$(mount_table)" "$mounts_before" "$case: no mount left here"
    syslog_settle
    assert_contains "$(polyns_log debug)" "close for alice (service polyns-test): done" "$case: the module's close ran"
}

run_case "3.A ok+ok" "" Success "Cannot make/remove an entry for the specified session"
assert_eq "$(polyns_log err | wc -l)" 1 "3.A: one LOG_ERR line"
assert_contains "$(polyns_log err)" "already holds an open polyns session" "3.A: it says why"

run_case "3.B fail+ok" "mount:1" "Cannot make/remove an entry for the specified session" Success
assert_eq "$(polyns_log err | wc -l)" 1 "3.B: one LOG_ERR line (the injected failure)"

run_case "3.C ok+fail" "mount:2" Success "Cannot make/remove an entry for the specified session"
assert_contains "$(polyns_log err)" "already holds an open polyns session" "3.C: the second is refused"
pass "attack-double-open"
