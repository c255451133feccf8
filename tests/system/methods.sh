#!/bin/bash
# Each polyinstantiation method through real libpam: user; level and context
# (SELinux off: fall back to user, with a notice); tmpdir (removed at close);
# tmpfs. For each: the session sees a private /tmp, the outside world does not
# see the session's files, and no mount is left in the caller's namespace.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
use_module
mounts_before=$(mount_table)

echo outside >/tmp/outside-marker
# Inside: can we see the outside marker? who owns /tmp, with which mode? Then
# alice writes a file of her own into her /tmp.
probe='test -e /tmp/outside-marker && echo SEES-OUTSIDE; stat -c "%U:%G %a" /tmp;
       setpriv --reuid=alice --regid=alice --init-groups touch /tmp/alice-file && echo WROTE'

# ---------------------------------------------------------------- user
make_template /var/tmp/inst
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF
syslog_clear
out=$(session alice sh -c "$probe")
assert_not_contains "$out" SEES-OUTSIDE "user: the session does not see the shared /tmp"
assert_contains "$out" "alice:alice 700" "user: /tmp is alice's 0700 instance inside the session"
assert_contains "$out" WROTE "user: alice can write to her /tmp"
assert_eq "$(stat -c '%U:%G %a' /var/tmp/inst/alice)" "alice:alice 700" "user: instance /var/tmp/inst/alice is alice:alice 0700"
assert_eq "$(stat -c %U /var/tmp/inst/alice/alice-file)" alice "user: alice's file landed in her instance"
[[ ! -e /tmp/alice-file ]] || fail "user: alice's file leaked into the shared /tmp"
pass "user: alice's file is not in the shared /tmp"
syslog_settle
assert_contains "$(polyns_log info)" "polyns: session for alice (service polyns-test): /tmp -> /var/tmp/inst/alice" \
    "user: one LOG_INFO line names user, service, polydir -> instance"
assert_eq "$(count_lines "$(polyns_log info)")" 1 "user: exactly one LOG_INFO line"
assert_eq "$(mount_table)" "$mounts_before" "user: caller's mount table unchanged"
# The fds the module keeps for close (template, mount root) must not reach
# the user's processes; and the module writes nothing on stdout/stderr.
out=$(session alice sh -c 'ls -l /proc/self/fd/' 2>&1)
assert_not_contains "$out" /var/tmp/inst "user: no fd of the template or instance is inherited by the session's processes"
assert_eq "$(session alice true 2>&1)" "" "user: nothing written to stdout/stderr by a successful session"

# ---------------------------------------------------- level and context
for method in level context; do
    rm -rf /var/tmp/inst/alice
    write_conf <<EOF
/tmp /var/tmp/inst/ $method
EOF
    syslog_clear
    out=$(session alice sh -c "$probe")
    assert_not_contains "$out" SEES-OUTSIDE "$method: private /tmp"
    assert_contains "$out" "alice:alice 700" "$method: falls back to the user instance (SELinux off)"
    [[ -d /var/tmp/inst/alice ]] || fail "$method: no user-method instance /var/tmp/inst/alice"
    pass "$method: instance named as for method user"
    syslog_settle
    notice=$(polyns_log notice)
    assert_contains "$notice" "$method" "$method: the fallback is logged as a notice ($notice)"
    assert_eq "$(mount_table)" "$mounts_before" "$method: caller's mount table unchanged"
done

# -------------------------------------------------------------- tmpdir
rm -rf /var/tmp/inst/*
write_conf <<'EOF'
/tmp /var/tmp/inst/ tmpdir
EOF
syslog_clear
out=$(session alice sh -c "$probe; ls /var/tmp/inst")
assert_not_contains "$out" SEES-OUTSIDE "tmpdir: private /tmp"
assert_contains "$out" WROTE "tmpdir: alice can write to her /tmp"
instance=$(printf '%s\n' "$out" | tail -n 1)
[[ -n $instance && $instance != WROTE ]] || fail "tmpdir: no instance under /var/tmp/inst during the session ($out)"
pass "tmpdir: instance /var/tmp/inst/$instance existed during the session"
syslog_settle
assert_contains "$(polyns_log info)" "/tmp -> /var/tmp/inst/$instance" "tmpdir: the log line names the fresh instance"
assert_eq "$(ls -A /var/tmp/inst)" "" "tmpdir: the instance (with alice's file) is removed at close"
# Two sessions get two different instances.
a=$(session alice ls /var/tmp/inst)
b=$(session alice ls /var/tmp/inst)
[[ -n $a && -n $b && $a != "$b" ]] || fail "tmpdir: two sessions, two fresh instances ($a / $b)"
pass "tmpdir: every session gets a fresh instance ($a, $b)"
assert_eq "$(mount_table)" "$mounts_before" "tmpdir: caller's mount table unchanged"
# Removal at close never crosses a mount: with a tmpfs mounted inside the
# instance, the rest is removed, the mount point and its content stay, and
# the close reports it (PAM_SESSION_ERR, driver status 3, one LOG_ERR line).
syslog_clear
rc=0
session alice sh -c 'mkdir /tmp/sub && mount -t tmpfs polyns-test-inner /tmp/sub &&
    touch /tmp/sub/inside-the-mount /tmp/outside-the-mount' || rc=$?
assert_eq "$rc" 3 "tmpdir: a close that cannot remove everything fails"
left=$(cd /var/tmp/inst && find . -mindepth 1 | sort)
instance=$(printf '%s\n' "$left" | sed -n 1p)
assert_eq "$left" "$(printf '%s\n%s' "$instance" "$instance/sub")" \
    "tmpdir: only the instance and the mount point are left (the file next to it is removed)"
assert_one_error_line alice "/tmp" "mount points"
rm -rf /var/tmp/inst/*
# ... nor follows a symlink the user planted: the links go, their targets stay.
mkdir -p /run/polyns-test/target && touch /run/polyns-test/target/precious
session alice setpriv --reuid=alice --regid=alice --init-groups sh -c \
    'ln -s /run/polyns-test/target /tmp/link; mkdir /tmp/d; ln -s /run/polyns-test/target/precious /tmp/d/l'
assert_eq "$(ls -A /var/tmp/inst)" "" "tmpdir: the instance with the user's symlinks is removed"
[[ -f /run/polyns-test/target/precious ]] || fail "tmpdir: removal followed a symlink"
pass "tmpdir: symlink targets are untouched"

# --------------------------------------------------------------- tmpfs
write_conf <<'EOF'
/tmp /var/tmp/inst/ tmpfs
EOF
syslog_clear
outside_count=$(awk '$5 == "/tmp"' /proc/self/mountinfo | wc -l)
out=$(session alice sh -c "$probe; awk '\$5 == \"/tmp\"' /proc/self/mountinfo | wc -l")
assert_not_contains "$out" SEES-OUTSIDE "tmpfs: private /tmp"
assert_contains "$out" WROTE "tmpfs: alice can write to her /tmp"
assert_eq "$(printf '%s\n' "$out" | tail -n 1)" "$((outside_count + 1))" "tmpfs: one more mount on /tmp inside the session"
[[ ! -e /tmp/alice-file ]] || fail "tmpfs: alice's file leaked into the shared /tmp"
assert_eq "$(ls -A /var/tmp/inst)" "" "tmpfs: nothing created on disk"
syslog_settle
assert_contains "$(polyns_log info)" "/tmp -> tmpfs" "tmpfs: the log line says tmpfs"
assert_eq "$(mount_table)" "$mounts_before" "tmpfs: caller's mount table unchanged"

# ------------------------------------------ which mount backend did the work
write_conf <<'EOF2'
/tmp /var/tmp/inst/ user
EOF2
use_module debug
syslog_clear
session alice true
syslog_settle
if [[ " $* " == *" --mount-api=legacy "* ]]; then expected_backend=legacy; else expected_backend=new-api; fi
assert_contains "$(polyns_log debug)" "mount backend: $expected_backend" "the $expected_backend mount backend did the mounts"
