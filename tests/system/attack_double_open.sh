#!/bin/bash
# Issue 12, item 3 (and issue 13's "the module twice in one stack"): one PAM
# handle, one session. pam_open_session twice on the same handle
# (polyns-pam-session --open-twice / --open-twice-as USER) with a tmpdir /tmp.
# The module cannot tell a second pam_open_session from a second pam_polyns
# line in one stack; either way the first session's state is never replaced:
#   A. both would succeed, same user: the second finds the session set up and
#      does nothing (Success, one LOG_NOTICE line, no LOG_ERR): one mount on
#      /tmp, and close removes the first's instance;
#   B. the first fails (an injected mount failure), the second succeeds: a
#      normal session, closed normally;
#   C. the first succeeds, the second is for another user (PAM_USER changed
#      in between): refused (PAM_SESSION_ERR, one LOG_ERR line) before it
#      touches anything, and close still closes the first.
# After each: no mount left here, no instance left in the template.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
require_faults_module
add_standard_users
make_template /var/tmp/tmpl
write_conf <<'EOF'
/tmp /var/tmp/tmpl/ tmpdir
EOF
printf 'session required %s debug\n' "$POLYNS_FAULTS_MODULE" | write_pam_service "$MODULE_SERVICE"
mounts_before=$(mount_table)
# Inside the session: how many mounts are stacked on /tmp beyond the harness's one.
count_tmp_mounts='echo "tmp-mounts=$(($(awk '\''$5 == "/tmp"'\'' /proc/self/mountinfo | wc -l) - 1))"'

run_case() { # CASE FAULT EXPECTED_OPEN1 EXPECTED_OPEN2 [SECOND_USER]
    local case=$1 fault=$2 out rc=0 twice=(--open-twice)
    [[ -n ${5:-} ]] && twice=(--open-twice-as "$5")
    syslog_clear
    out=$(POLYNS_FAULT=$fault session "${twice[@]}" alice sh -c "$count_tmp_mounts" 2>&1) || rc=$?
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

run_case "3.A ok+ok" "" Success Success
assert_eq "$(polyns_log err)" "" "3.A: no LOG_ERR line"
assert_contains "$(polyns_log notice)" "already set up by pam_polyns on this handle" "3.A: it says why it did nothing"
run_case "3.B fail+ok" "mount:1" "Cannot make/remove an entry for the specified session" Success
assert_eq "$(polyns_log err | wc -l)" 1 "3.B: one LOG_ERR line (the injected failure)"
run_case "3.C ok+other user" "" Success "Cannot make/remove an entry for the specified session" bob
assert_eq "$(polyns_log err | wc -l)" 1 "3.C: one LOG_ERR line"
assert_contains "$(polyns_log err)" "already holds an open pam_polyns session for alice" "3.C: the second is refused, saying why"
pass "attack-double-open"
