#!/bin/bash
# Issue 12, item 4 (part): a user who SIGKILLs her own su between the
# creation of a new instance and its chown is not locked out of her later
# logins. The instance polyns left half-made (root-owned, mode 0000, but
# already recorded as hers: trusted.polyns.owner is written first) is
# finished by her next session, with a warning; a root-owned 0000 directory
# polyns did not make (no record) is still refused.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
require_faults_module
add_standard_users
make_template /var/tmp/inst
write_conf <<'EOF2'
/tmp /var/tmp/inst/ user
EOF2
printf 'session required %s\n' "$POLYNS_FAULTS_MODULE" | write_pam_service polyns-test-faults
use_module

# The session pauses at the instance's fchown (the fault seam's sleep) and is
# SIGKILLed there, as her su would be.
POLYNS_FAULT=fchown:1:sleep10000 "$POLYNS_PAM_SESSION" polyns-test-faults alice -- true &
victim=$!
for _ in $(seq 200); do [[ -d /var/tmp/inst/alice ]] && break; sleep 0.05; done
sleep 0.2
kill -9 "$victim"
wait "$victim" || true
assert_eq "$(stat -c '%U %a' /var/tmp/inst/alice)" "root 0" "4.half: the killed session left the instance root's, mode 0000"

syslog_clear
out=$(session alice stat -c '%U %a' /tmp) || fail "4.half: alice is locked out of her next login"
assert_eq "$out" "alice 700" "4.half: her next session finished the instance and uses it"
syslog_settle
assert_contains "$(polyns_log warning)" "left half-made" "4.half: with a warning"

# Not polyns's own half-made instance: refused as before.
install -d -o root -g root -m 0000 /var/tmp/inst/bob
rc=0
session bob true || rc=$?
assert_eq "$rc" 2 "4.half: a root 0000 directory without polyns's record is still refused"
pass "attack-half-made"
