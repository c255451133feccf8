#!/bin/bash
# Issue 6, the calling application (catalogue entries 14 and 17): 50 sessions
# of a new user opened at the same moment; a hostile umask, a cwd inside a
# user's directory, stdin/stdout closed, SIGCHLD ignored or every signal
# blocked. The results must be those of a plain login.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
require_module
add_standard_users
use_module
make_template /var/tmp/inst
make_template /run/polyns-test/inst2
mkdir -p /etc/security/namespace.d
# The init script records what it saw: its namespace's mounts, which is also
# how a session without a command (SIGCHLD ignored) is looked into.
cat >/etc/security/namespace.d/record.init <<'EOF'
#!/bin/sh
awk '{print $5}' /proc/self/mountinfo | sort >"/run/polyns-test/attack-record$(echo "$1" | tr / _)"
exit 0
EOF
chmod 0755 /etc/security/namespace.d/record.init
write_conf <<'EOF'
/tmp /var/tmp/inst/ user:iscript=record.init
/var/tmp /run/polyns-test/inst2/ tmpdir:iscript=record.init
EOF

# ------------------------------------------ 14. 50 sessions at one moment
add_user carol 1003
go=/run/polyns-test/attack-go
results=/run/polyns-test/attack-results
mkdir -p "$results"
pids=()
for n in $(seq 1 50); do
    (
        # The barrier: every driver is started, then all are released at once.
        while [[ ! -e $go ]]; do sleep 0.005; done
        rc=0
        timeout 60 "$POLYNS_PAM_SESSION" "$MODULE_SERVICE" carol -- stat -c '%u:%g %a %i' /tmp \
            >"$results/$n.out" 2>"$results/$n.err" || rc=$?
        echo "$rc" >"$results/$n.rc"
    ) &
    pids+=($!)
done
syslog_clear
sleep 0.5
touch "$go"
for pid in "${pids[@]}"; do wait "$pid"; done
rm -f "$go"
assert_eq "$(cat "$results"/*.rc | sort | uniq -c | awk '{print $1 "x" $2}')" "50x0" "14. all 50 sessions opened"
assert_eq "$(cat "$results"/*.out | sort -u | wc -l)" 1 "14. all 50 saw the same /tmp"
inode=$(stat -c %i /var/tmp/inst/carol)
assert_eq "$(sort -u "$results"/*.out)" "1003:1003 700 $inode" "14. ... which is carol's one instance, 1003:1003 0700"
assert_eq "$(ls -A /var/tmp/inst | grep -c carol)" 1 "14. one instance of carol in the template"
assert_eq "$(ls -A /run/polyns-test/inst2)" "" "14. every tmpdir instance was removed at close"
syslog_settle
assert_eq "$(polyns_log err)" "" "14. no LOG_ERR line (no EEXIST, no double create)"
assert_eq "$(cat "$results"/*.err)" "" "14. nothing on stderr"

# The window inside one creation, held open with the test-only seam
# (pam_polyns_faults.so, POLYNS_FAULT=POINT:1:sleepMS): session A pauses
# before its fchown (instance root:root 0000) or before its fchmod (dave's but
# still 0000); session B, opened meanwhile, must wait for it and succeed.
if [[ -f ${POLYNS_FAULTS_MODULE:-} ]]; then
    printf 'session required %s\n' "$POLYNS_FAULTS_MODULE" | write_pam_service polyns-faults
    add_user dave 1004
    for point in fchown fchmod; do
        rm -rf /var/tmp/inst/dave
        syslog_clear
        POLYNS_FAULT=$point:1:sleep1500 "$POLYNS_PAM_SESSION" polyns-faults dave -- stat -c '%u %a %i' /tmp \
            >"$results/slow.out" 2>&1 &
        slow=$!
        sleep 0.5
        rc=0
        fast=$("$POLYNS_PAM_SESSION" polyns-faults dave -- stat -c '%u %a %i' /tmp 2>&1) || rc=$?
        slow_rc=0
        wait "$slow" || slow_rc=$?
        assert_eq "$rc/$slow_rc" 0/0 "14. paused before $point: both sessions open"
        inode=$(stat -c %i /var/tmp/inst/dave)
        assert_eq "$fast|$(cat "$results/slow.out")" "1004 700 $inode|1004 700 $inode" \
            "14. paused before $point: both use dave's one instance, 1004 0700"
        syslog_settle
        assert_eq "$(polyns_log err)" "" "14. paused before $point: no LOG_ERR line"
    done
else
    echo "SKIP (part): the paused-creation race needs pam_polyns_faults.so (meson -Dfault_injection=true)"
fi

# ---------------------------------------------------- 17. caller's state
# The plain login first: what every hostile variant must reproduce.
rm -f /run/polyns-test/attack-record.*
expect_opened "17. plain login" /tmp /var/tmp
baseline_changes=$ATTACK_CHANGES
assert_only_instance_created "17. plain login" "$baseline_changes" /var/tmp/inst/alice alice alice 700
baseline_record=$(cat /run/polyns-test/attack-record_tmp)
rm -rf /var/tmp/inst/alice

# same_as_plain CASE: alice's instance made exactly as in the plain login.
same_as_plain() {
    assert_only_instance_created "$1" "$ATTACK_CHANGES" /var/tmp/inst/alice alice alice 700
    rm -rf /var/tmp/inst/alice
}

# with_caller_state CASE SHELL_PREAMBLE: the driver starts after PREAMBLE.
with_caller_state() {
    ATTACK_CMD_PREFIX=(sh -c "$2"' && exec "$@"' caller)
    expect_opened "17. $1" /tmp /var/tmp
    ATTACK_CMD_PREFIX=()
    same_as_plain "17. $1"
}
with_caller_state "umask 0000" "umask 0000"
with_caller_state "umask 0777" "umask 0777"
# cwd inside alice's home, and inside /tmp (the polydir) as she left it.
install -d -o alice -g alice -m 0700 /home/alice/deep/er /tmp/alice-work
with_caller_state "cwd in alice's home" "cd /home/alice/deep/er"
with_caller_state "cwd inside /tmp (the polydir)" "cd /tmp/alice-work"
# A failed open (template 1777) from inside a user dir: the driver is back
# in its cwd (a command run after the failed open would start there).
chmod 1777 /var/tmp/inst
out=$(cd /home/alice/deep/er && "$POLYNS_PAM_SESSION" "$MODULE_SERVICE" alice -- true 2>&1; pwd -P) || true
assert_contains "$out" "/home/alice/deep/er" "17. cwd in a user dir survives a failed open"
chmod 0755 /var/tmp/inst

# stdin, stdout (and stderr) closed: the module's fds become 0, 1, 2; nothing
# may be written to them and the init script still gets /dev/null.
rm -f /run/polyns-test/attack-record.*
rc=0
"$POLYNS_PAM_SESSION" "$MODULE_SERVICE" alice -- sh -c 'stat -c "%U %a" /tmp >/run/polyns-test/attack-closed' \
    <&- >&- 2>&- || rc=$?
assert_eq "$rc" 0 "17. stdin/stdout/stderr closed: the session opens"
assert_eq "$(cat /run/polyns-test/attack-closed)" "alice 700" "17. stdin/stdout/stderr closed: /tmp is alice's instance"
assert_eq "$(cat /run/polyns-test/attack-record_tmp)" "$baseline_record" "17. fds closed: the init script saw the plain login's mounts"
rm -rf /var/tmp/inst/alice

# A caller without some capabilities (a service with a reduced bounding set):
# real failures, no seam. Without CAP_SYS_ADMIN unshare fails; without
# CAP_CHOWN the new instance cannot be given away and is removed again.
for cap in sys_admin chown; do
    syslog_clear
    before=$(tree_snapshot)
    mounts=$(mount_table)
    rc=0
    out=$(timeout 20 setpriv --bounding-set=-$cap -- "$POLYNS_PAM_SESSION" --print-ns "$MODULE_SERVICE" alice \
        -- echo INSIDE 2>&1) || rc=$?
    assert_eq "$rc" "$OPEN_FAILED" "17. caller without CAP_${cap^^}: refused"
    assert_not_contains "$out" INSIDE "17. caller without CAP_${cap^^}: the command did not run"
    assert_contains "$out" "mntns after_open=$(mount_ns)" "17. caller without CAP_${cap^^}: back in its own namespace"
    assert_eq "$(mount_table)" "$mounts" "17. caller without CAP_${cap^^}: no mount left"
    assert_eq "$(tree_changes "$before")" "" "17. caller without CAP_${cap^^}: nothing created or changed"
    assert_one_error_line alice EPERM
done

# SIGCHLD ignored (inherited across exec as SIG_IGN): the init script's
# status must still be read. The driver cannot wait for a command then, so
# it opens and closes only; the init script shows the session's mounts.
for how in --ignore-signal=CHLD --block-signal=CHLD --block-signal; do
    rm -f /run/polyns-test/attack-record.*
    syslog_clear
    rc=0
    env "$how" "$POLYNS_PAM_SESSION" --no-cmd "$MODULE_SERVICE" alice 2>&1 || rc=$?
    assert_eq "$rc" 0 "17. env $how: the session opens and closes"
    assert_eq "$(cat /run/polyns-test/attack-record_tmp)" "$baseline_record" "17. env $how: the session's mounts are the plain login's"
    assert_eq "$(stat -c '%U:%G %a' /var/tmp/inst/alice)" "alice:alice 700" "17. env $how: instance alice's 0700"
    syslog_settle
    assert_eq "$(polyns_log err)" "" "17. env $how: no LOG_ERR line"
    rm -rf /var/tmp/inst/alice
done
# ... and an init script that fails is still seen failing with SIGCHLD ignored.
printf '#!/bin/sh\nexit 3\n' >/etc/security/namespace.d/fail.init
chmod 0755 /etc/security/namespace.d/fail.init
write_conf <<'EOF'
/tmp /var/tmp/inst/ user:iscript=fail.init
EOF
syslog_clear
rc=0
env --ignore-signal=CHLD "$POLYNS_PAM_SESSION" --no-cmd "$MODULE_SERVICE" alice 2>/dev/null || rc=$?
assert_eq "$rc" "$OPEN_FAILED" "17. SIGCHLD ignored: a failing init script still fails the session"
assert_one_error_line alice "fail.init" "status 3"
