#!/bin/bash
# namespace.init and iscript=: arguments (polydir, instance, newly created
# 1/0, user), a fixed minimal environment, fds 0-2 on /dev/null and no other
# inherited fd, its own process group, run after the mount; killed after
# init_timeout=; a non-zero exit fails the session (rolled back); noinit.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
make_template /var/tmp/inst
use_module
mounts_before=$(mount_table)
outside_ns=$(mount_ns)
report=/run/polyns-test/init.out

write_init() { # PATH, body from stdin
    { echo '#!/bin/sh'; cat; } >"$1"
    chown root:root "$1"
    chmod 0755 "$1"
}

write_init /etc/security/namespace.init <<EOF
{
    echo "args: \$*"
    echo "argc: \$#"
    echo "polydir-owner: \$(stat -c %U "\$1")"
    echo "pgrp: \$\$ \$(cut -d' ' -f5 /proc/\$\$/stat)"
    env | sort | sed 's/^/env: /'
} >>$report
# fds of a program the script starts (the script's own shell may hold its file open)
exec ls -l /proc/self/fd >>$report 2>/dev/null
EOF
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF

# ---------------------------------------------- args, env, fds, process group
export POLYNS_LEAK=should-not-reach-the-script
rm -f "$report"
session --keep-open-fds 5 alice true
unset POLYNS_LEAK
out=$(cat "$report")
assert_contains "$out" "args: /tmp /var/tmp/inst/alice 1 alice 1 1" "init: args polydir, instance, 1 (created), user, polydir path safe, instance path safe (Linux-PAM's \$5 \$6)"
assert_contains "$out" "argc: 6" "init: exactly six arguments"
assert_contains "$out" "polydir-owner: alice" "init: runs after the instance is mounted on the polydir"
pgrp_line=$(printf '%s\n' "$out" | sed -n 's/^pgrp: //p')
assert_eq "${pgrp_line% *}" "${pgrp_line#* }" "init: runs in its own process group ($pgrp_line)"
assert_not_contains "$out" POLYNS_LEAK "init: the caller's environment is not passed on"
assert_contains "$out" "env: PATH=" "init: a fixed PATH is set"
env_count=$(printf '%s\n' "$out" | grep -c '^env: ')
[[ $env_count -le 8 ]] || fail "init: environment is not minimal ($env_count variables): $(printf '%s\n' "$out" | grep '^env: ')"
pass "init: minimal environment ($env_count variables)"
devnull_fds=$(printf '%s\n' "$out" | grep -c -- '-> /dev/null' || true)
assert_eq "$devnull_fds" 2 "init: fds 0 and 2 on /dev/null, none of the caller's 5 extra fds inherited"
assert_contains "$out" "0 -> /dev/null" "init: stdin is /dev/null"
assert_contains "$out" "2 -> /dev/null" "init: stderr is /dev/null"

rm -f "$report"
session alice true
assert_contains "$(cat "$report")" "args: /tmp /var/tmp/inst/alice 0 alice 1 1" "init: 0 when the instance already existed"

# ------------------------------------------------------------- noinit
rm -f "$report"
write_conf <<'EOF'
/tmp /var/tmp/inst/ user:noinit
EOF
session alice true
[[ ! -e $report ]] || fail "noinit: the init script ran"
pass "noinit: the init script is not run"

# --------------------------------------------------- iscript= (relative)
mkdir -p /etc/security/namespace.d
write_init /etc/security/namespace.d/other.init <<EOF
echo "other: \$1 \$4" >>$report
EOF
rm -f "$report"
write_conf <<'EOF'
/tmp /var/tmp/inst/ user:iscript=other.init
EOF
session alice true
assert_eq "$(cat "$report")" "other: /tmp alice" "iscript=: relative to namespace.d, used instead of namespace.init"

# -------------------------------------------------------------- failure
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF
write_init /etc/security/namespace.init <<'EOF'
exit 3
EOF
syslog_clear
rc=0
out=$(pam_session --print-ns "$MODULE_SERVICE" alice -- echo INSIDE 2>&1) || rc=$?
assert_eq "$rc" "$OPEN_FAILED" "init exit 3: the session fails (PAM_SESSION_ERR)"
assert_not_contains "$out" INSIDE "init exit 3: the command did not run"
assert_contains "$out" "mntns after_open=$outside_ns" "init exit 3: the caller is back in its namespace"
assert_one_error_line alice /tmp namespace.init
assert_eq "$(mount_table)" "$mounts_before" "init exit 3: no mount left"

# -------------------------------------------------------------- timeout
write_init /etc/security/namespace.init <<'EOF'
sleep 31.25
EOF
use_module init_timeout=1
syslog_clear
rc=0
start=$(date +%s)
session alice true || rc=$?
elapsed=$(($(date +%s) - start))
assert_eq "$rc" "$OPEN_FAILED" "init_timeout=1: a hanging script fails the session"
[[ $elapsed -le 10 ]] || fail "init_timeout=1: the session took ${elapsed}s"
pass "init_timeout=1: gave up after ${elapsed}s"
assert_one_error_line alice /tmp
sleep 0.2
if pgrep -f 'sleep 31.25' >/dev/null; then
    fail "init_timeout: the script's process group was not killed"
fi
pass "init_timeout: the script and its children were killed"

assert_eq "$(mount_table)" "$mounts_before" "caller's mount table unchanged"
