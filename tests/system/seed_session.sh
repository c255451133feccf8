#!/bin/bash
# The issue's "done when": the seed's A3 templates and A5 config (with root in
# the 4th field, as the seed meant). alice's /tmp and /var/tmp are her 0700
# instances /tmp/user_tmpl/1001 and /var/tmp/user_tmpl/1001; bob sees none of
# alice's files; root is untouched; `polyns plan alice` names the same
# instances the module mounts; pamtester opens and closes the same session.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
use_module
mounts_before=$(mount_table)
outside_ns=$(mount_ns)

# A3
mkdir -p /tmp/user_tmpl /var/tmp/user_tmpl
chown root:root /tmp/user_tmpl /var/tmp/user_tmpl
chmod 0755 /tmp/user_tmpl /var/tmp/user_tmpl
# A5, users in the 4th field
write_conf <<'EOF'
/tmp     /tmp/user_tmpl/%{UID}     level root
/var/tmp /var/tmp/user_tmpl/%{UID} level root
EOF

# ---------------------------------------------------------------- alice
syslog_clear
out=$(session alice sh -c '
    stat -c "%n %U:%G %a" /tmp /var/tmp
    setpriv --reuid=alice --regid=alice --init-groups sh -c "echo secret >/tmp/alice-secret; echo secret >/var/tmp/alice-secret"
    awk "\$5 == \"/tmp\" || \$5 == \"/var/tmp\" { print \$5 }" /proc/self/mountinfo | sort -u')
assert_contains "$out" "/tmp alice:alice 700" "alice: /tmp is her 0700 instance"
assert_contains "$out" "/var/tmp alice:alice 700" "alice: /var/tmp is her 0700 instance"
assert_eq "$(stat -c '%U:%G %a' /tmp/user_tmpl/1001)" "alice:alice 700" "A4: /tmp/user_tmpl/1001 is alice:alice 0700"
assert_eq "$(stat -c '%U:%G %a' /var/tmp/user_tmpl/1001)" "alice:alice 700" "A4: /var/tmp/user_tmpl/1001 is alice:alice 0700"
[[ -f /tmp/user_tmpl/1001/alice-secret && -f /var/tmp/user_tmpl/1001/alice-secret ]] ||
    fail "alice's files are not in her instances"
pass "alice's files are in her instances"
syslog_settle
module_line=$(polyns_log info)
assert_eq "$module_line" "$(syslog_lines 'polyns: session for alice' | head -n 1)" "one session line"
assert_contains "$module_line" \
    "polyns: session for alice (service polyns-test): /tmp -> /tmp/user_tmpl/1001, /var/tmp -> /var/tmp/user_tmpl/1001" \
    "the LOG_INFO line names user, service and both instances"

# ------------------------------------------------------------------ bob
out=$(session bob sh -c 'ls -A /tmp /var/tmp; cat /tmp/alice-secret /var/tmp/alice-secret 2>&1 || true
    ls /tmp/user_tmpl/1001 2>&1 || true')
assert_not_contains "$out" "alice-secret
" "bob: no alice-secret in his /tmp or /var/tmp listing"
assert_not_contains "$out" "secret
" "bob: cannot read alice's files"
assert_eq "$(stat -c '%U:%G %a' /tmp/user_tmpl/1002)" "bob:bob 700" "bob: his own instance /tmp/user_tmpl/1002"
# Even as bob outside any session, alice's instance is closed to him.
if as_user bob cat /tmp/user_tmpl/1001/alice-secret >/dev/null 2>&1; then
    fail "bob can read alice's instance directly"
fi
pass "bob cannot read alice's instance directly (0700)"

# ----------------------------------------------------------------- root
out=$(session root sh -c 'readlink /proc/self/ns/mnt; stat -c "%U %a" /tmp /var/tmp')
assert_eq "$out" "$(printf '%s\nroot 1777\nroot 1777' "$outside_ns")" "root (listed): same namespace, shared /tmp and /var/tmp"
[[ ! -e /tmp/user_tmpl/0 && ! -e /var/tmp/user_tmpl/0 ]] || fail "root: an instance was created"
pass "root: no instance created"

# --------------------------------------------- polyns plan == what is mounted
if [[ -x $POLYNS_CLI ]]; then
    plan=$("$POLYNS_CLI" plan alice 2>&1) || fail "polyns plan alice failed: $plan"
    assert_contains "$plan" "/tmp/user_tmpl/1001" "polyns plan alice shows /tmp/user_tmpl/1001"
    assert_contains "$plan" "/var/tmp/user_tmpl/1001" "polyns plan alice shows /var/tmp/user_tmpl/1001"
    plan_json=$("$POLYNS_CLI" plan alice --json 2>&1) || fail "polyns plan alice --json failed: $plan_json"
    for pair in /tmp=/tmp/user_tmpl/1001 /var/tmp=/var/tmp/user_tmpl/1001; do
        assert_contains "$plan_json" "\"${pair#*=}\"" "polyns plan --json: ${pair%%=*} -> ${pair#*=}"
        assert_contains "$module_line" "${pair%%=*} -> ${pair#*=}" "the module mounted ${pair%%=*} on ${pair#*=}"
    done
    root_plan=$("$POLYNS_CLI" plan root 2>&1) || true
    assert_not_contains "$root_plan" "/tmp/user_tmpl/0" "polyns plan root: nothing to mount"
else
    fail "polyns CLI not built: $POLYNS_CLI"
fi

# ------------------------------------------------------- pamtester
rm -rf /tmp/user_tmpl/1002 /var/tmp/user_tmpl/1002
syslog_clear
pamtester "$MODULE_SERVICE" bob open_session close_session >/dev/null ||
    fail "pamtester: open_session/close_session for bob failed"
pass "pamtester: open_session and close_session succeed"
[[ -d /tmp/user_tmpl/1002 && -d /var/tmp/user_tmpl/1002 ]] || fail "pamtester: bob's instances were not created"
pass "pamtester: bob's instances created"
syslog_settle
assert_contains "$(polyns_log info)" "session for bob (service polyns-test)" "pamtester: session line logged"

# --------------------------------------- the seed's A5 written verbatim
# `level:level,root` puts root in the method field: a warning with the fix,
# and root is then NOT excluded — which the warning must say how to correct.
write_conf <<'EOF'
/tmp     /tmp/user_tmpl/%{UID}     level:level,root
/var/tmp /var/tmp/user_tmpl/%{UID} level:level,root
EOF
syslog_clear
session alice true
syslog_settle
assert_contains "$(polyns_log warning)" "level root" "seed A5 verbatim: the warning suggests \`level root\`"

assert_eq "$(mount_table)" "$mounts_before" "caller's mount table unchanged"
