#!/bin/bash
# What the module refuses, failing closed with one LOG_ERR line and leaving the
# caller as it was: a 1777 (or missing) template, an instance that is a
# symlink / file / FIFO / someone else's / wrong mode, an untrusted config
# file; and a misplaced `auth` line. (A multithreaded caller is served:
# threaded_callers.sh.)
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
use_module
mounts_before=$(mount_table)
outside_ns=$(mount_ns)
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF

# refused CASE [DRIVER_OPTIONS...] -- NEEDLE...: alice's session must fail
# closed (exit 2, command not run, caller's namespace and mounts unchanged).
refused() {
    local case=$1 rc=0 out driver=()
    shift
    while [[ $1 != -- ]]; do driver+=("$1"); shift; done
    shift
    syslog_clear
    out=$(timeout 20 "$POLYNS_PAM_SESSION" --print-ns "${driver[@]}" "$MODULE_SERVICE" alice -- echo INSIDE 2>&1) || rc=$?
    assert_eq "$rc" "$OPEN_FAILED" "$case: refused (pam_open_session fails)"
    assert_not_contains "$out" INSIDE "$case: the command did not run"
    assert_eq "$(printf '%s\n' "$out" | grep -v '^polyns-pam-session: ' || true)" "" \
        "$case: the module wrote nothing to stdout/stderr"
    assert_contains "$out" "mntns after_open=$outside_ns" "$case: caller still in its own namespace"
    assert_eq "$(mount_table)" "$mounts_before" "$case: no mount left"
    assert_one_error_line alice "$@"
}

# ------------------------------------------------------------ templates
rm -rf /var/tmp/inst
# (A missing template is created; a missing parent of it is not.)
write_conf <<<'/tmp /var/tmp/gone/inst/ user'
refused "missing template parent" -- "/var/tmp/gone" "fix:"
write_conf <<<'/tmp /var/tmp/inst/ user'
make_template /var/tmp/inst 1777
refused "1777 template" -- "/var/tmp/inst" "fix:"
make_template /var/tmp/inst 0757
refused "other-writable template" -- "/var/tmp/inst"
make_template /var/tmp/inst 0755
chown bob /var/tmp/inst
refused "template owned by a user" -- "/var/tmp/inst"
chown root /var/tmp/inst
rm -rf /var/tmp/inst && make_template /var/tmp/inst 0000
assert_eq "$(session alice stat -c %U /tmp)" alice "a 0000 template (Linux-PAM's default) is accepted"
rm -rf /var/tmp/inst && make_template /var/tmp/inst

# ------------------------------------------------------------ instances
ln -s /etc /var/tmp/inst/alice
refused "symlink instance" -- "/var/tmp/inst/alice"
[[ $(stat -c %U /etc) == root ]] || fail "symlink instance: /etc's owner changed"
pass "symlink instance: the link target was not touched"
rm /var/tmp/inst/alice

touch /var/tmp/inst/alice
refused "instance is a regular file" -- "/var/tmp/inst/alice"
rm /var/tmp/inst/alice

mkfifo /var/tmp/inst/alice
refused "instance is a FIFO (opens must not block, CVE-2024-22365)" -- "/var/tmp/inst/alice"
rm /var/tmp/inst/alice

install -d -o bob -g bob -m 0700 /var/tmp/inst/alice
refused "instance owned by another user" -- "/var/tmp/inst/alice"
rm -rf /var/tmp/inst/alice

install -d -o alice -g alice -m 0777 /var/tmp/inst/alice
refused "instance with a wider mode than 0700" -- "/var/tmp/inst/alice"
rm -rf /var/tmp/inst/alice

# ---------------------------------------------------------- config trust
chmod 0666 /etc/security/namespace.conf
refused "world-writable namespace.conf" -- "namespace.conf"
chmod 0644 /etc/security/namespace.conf
chown alice /etc/security/namespace.conf
refused "namespace.conf owned by a user" -- "namespace.conf"
chown root /etc/security/namespace.conf

# ------------------------------------------------ who is the session for?
syslog_clear
out=$(pamtester polyns-test "" open_session 2>&1) && fail "empty PAM_USER: open succeeded"
assert_contains "$out" "Error in service module" "empty PAM_USER: PAM_SERVICE_ERR (the application's mistake)"
syslog_settle
assert_contains "$(polyns_log err)" "no PAM_USER" "empty PAM_USER: one LOG_ERR line says so"
syslog_clear
out=$(pamtester polyns-test nosuchuser open_session 2>&1) && fail "unknown user: open succeeded"
assert_contains "$out" "Cannot make/remove an entry for the specified session" "unknown user: PAM_SESSION_ERR"
syslog_settle
assert_contains "$(polyns_log err)" "nosuchuser" "unknown user: the LOG_ERR line names the user"
assert_eq "$(count_lines "$(polyns_log err)")" 1 "unknown user: one LOG_ERR line"

# -------------------------------------------- misplaced in the auth stack
# Only the session entry points exist: libpam reports the missing symbol and
# the auth stack fails, rather than silently doing nothing.
printf 'auth required %s\n' "$POLYNS_MODULE" | write_pam_service polyns-auth
rc=0
pamtester polyns-auth alice authenticate >/dev/null 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "auth line: pam_authenticate succeeded with only pam_polyns.so in the stack"
pass "auth line: pam_authenticate fails (no pam_sm_authenticate)"

# Everything refused above left no instance behind for alice.
assert_eq "$(ls -A /var/tmp/inst)" "" "no instance was created by a refused session"

# ------------------------------------------ multithreaded caller: served
out=$("$POLYNS_PAM_SESSION" --threads "$MODULE_SERVICE" alice -- stat -c %i /tmp) || fail "a multithreaded caller was refused: $out"
assert_eq "$out" "$(stat -c %i /var/tmp/inst/alice)" \
    "a multithreaded caller is served: its session has the instance"
