#!/bin/bash
# A failure after the first mount is undone completely: the second polydir's
# mount fails (tmpfs size=bogus, or its init script fails) -> PAM_SESSION_ERR,
# the process is back in its original mount namespace, no mount is left, and
# exactly one LOG_ERR line names user, polydir, syscall and errno.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
make_template /run/polyns-test/inst
use_module
mounts_before=$(mount_table)
outside_ns=$(mount_ns)

# open_must_fail_cleanly CASE NEEDLE...: the session fails, the driver is in
# its original namespace after the failed open, nothing is left mounted.
open_must_fail_cleanly() {
    local case=$1 rc=0 out
    shift
    syslog_clear
    out=$(pam_session --print-ns "$MODULE_SERVICE" alice -- echo INSIDE 2>&1) || rc=$?
    assert_eq "$rc" "$OPEN_FAILED" "$case: pam_open_session fails"
    assert_contains "$out" "Cannot make/remove an entry for the specified session" "$case: the code is PAM_SESSION_ERR"
    assert_not_contains "$out" INSIDE "$case: the command did not run"
    assert_contains "$out" "mntns before=$outside_ns" "$case: driver started in the outer namespace"
    assert_contains "$out" "mntns after_open=$outside_ns" "$case: after the failed open the driver is back in it"
    assert_eq "$(mount_table)" "$mounts_before" "$case: no mount left behind"
    assert_one_error_line alice "$@"
}

# ----------------------------------------- second polydir's mount fails
write_conf <<'EOF'
/tmp /run/polyns-test/inst/ user
/var/tmp /run/polyns-test/inst/ tmpfs:mntopts=size=bogus
EOF
open_must_fail_cleanly "tmpfs size=bogus" "/var/tmp" "EINVAL"
# The first polydir was mounted before the failure and was undone: a
# successful session afterwards still works normally.
write_conf <<'EOF'
/tmp /run/polyns-test/inst/ user
EOF
assert_eq "$(session alice stat -c %U /tmp)" alice "after a rollback, the next session works"

# ------------------------------------ second polydir's init script fails
mkdir -p /etc/security/namespace.d
printf '#!/bin/sh\nexit 7\n' >/etc/security/namespace.d/fail-second.init
chmod 0755 /etc/security/namespace.d/fail-second.init
write_conf <<'EOF'
/tmp /run/polyns-test/inst/ user:noinit
/var/tmp /run/polyns-test/inst/ tmpfs:iscript=fail-second.init
EOF
open_must_fail_cleanly "init script of the second polydir exits 7" "/var/tmp" "fail-second.init"
