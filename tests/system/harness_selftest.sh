#!/bin/bash
# The harness tests itself: the namespace refusal, the private world
# (users/groups only in the copies, a private /tmp), the syslog sink, and the
# PAM driver with a pam_permit/pam_deny/pam_warn stack.
source "$(dirname "$0")/lib/harness.sh"

if [[ -z ${POLYNS_HARNESS_INSIDE:-} && $(id -u) == 0 ]]; then
    # Still in the caller's namespace: harness_enter must refuse to build its
    # world here. POLYNS_HARNESS_CHECK_ONLY stops it right after the check, so
    # a broken check cannot touch the host.
    harness=$HARNESS_LIB_DIR/harness.sh
    here=$(readlink /proc/self/ns/mnt)
    status=0
    out=$(POLYNS_HARNESS_INSIDE=1 POLYNS_HARNESS_CHECK_ONLY=1 POLYNS_HARNESS_OUTER_NS=$here \
        bash -c 'source "$1"; harness_enter' refusal "$harness" 2>&1) || status=$?
    assert_eq "$status" 1 "harness_enter refuses in the caller's namespace"
    assert_contains "$out" "REFUSING to run" "the refusal says why"

    status=0
    out=$(env -u POLYNS_HARNESS_OUTER_NS POLYNS_HARNESS_INSIDE=1 POLYNS_HARNESS_CHECK_ONLY=1 \
        bash -c 'source "$1"; harness_enter' refusal "$harness" 2>&1) || status=$?
    assert_eq "$status" 1 "harness_enter refuses a forged POLYNS_HARNESS_INSIDE"

    if [[ $(readlink /proc/2/ns/mnt 2>/dev/null) == "$here" || $(readlink /proc/1/ns/mnt 2>/dev/null) == "$here" ]]; then
        status=0
        out=$(POLYNS_HARNESS_INSIDE=1 POLYNS_HARNESS_CHECK_ONLY=1 POLYNS_HARNESS_OUTER_NS=mnt:[0] \
            bash -c 'source "$1"; harness_enter' refusal "$harness" 2>&1) || status=$?
        assert_eq "$status" 1 "harness_enter refuses in the init namespace even with a wrong outer record"
    fi

    # The same check in a throwaway namespace, where it must pass.
    status=0
    out=$(unshare --mount --propagation private -- env POLYNS_HARNESS_INSIDE=1 POLYNS_HARNESS_CHECK_ONLY=1 \
        POLYNS_HARNESS_OUTER_NS=$here bash -c 'source "$1"; harness_enter' refusal "$harness" 2>&1) || status=$?
    assert_eq "$status" 0 "harness_enter accepts its own namespace ($out)"
fi

# mount_flags: "ID MOUNT_POINT PER-MOUNT-OPTIONS SUPERBLOCK-OPTIONS" of each
# mount in the mountinfo on stdin (a remount without "bind" would change the
# superblock's: the filesystem itself, in every namespace).
mount_flags() {
    awk '{ for (i = 7; $i != "-"; i++) ; print $1, $5, $6, $(i + 3) }'
}
# The host's table before the world exists: the world's read-only bind
# remounts must leave it as it is.
if [[ -z ${POLYNS_HARNESS_INSIDE:-} ]]; then
    POLYNS_SELFTEST_HOST_MOUNTS=$(mount_flags </proc/self/mountinfo)
    export POLYNS_SELFTEST_HOST_MOUNTS
fi

harness_enter "$@"

# ------------------------------------------------------------ the namespace
assert_eq "$(readlink /proc/self/ns/mnt)" "$POLYNS_HARNESS_NS" "running in the harness namespace"
[[ $POLYNS_HARNESS_NS != "$POLYNS_HARNESS_OUTER_NS" ]] || fail "harness namespace equals the caller's"

mountinfo=$(cat /proc/self/mountinfo)
for dir in /tmp /var/tmp /home /root /run /var/log /dev /dev/shm; do
    fstype=$(findmnt -n -o FSTYPE --mountpoint "$dir" | tail -n 1)
    assert_eq "$fstype" tmpfs "$dir is a private tmpfs"
done
assert_eq "$(stat -c %a /tmp)" 1777 "/tmp mode"
assert_eq "$(stat -c %a /var/tmp)" 1777 "/var/tmp mode"
assert_eq "$(stat -c %a /home)" 755 "/home mode"
assert_eq "$(findmnt -n -o FSTYPE --mountpoint /dev/pts | tail -n 1)" devpts "/dev/pts is a devpts"
assert_contains "$(findmnt -n -o OPTIONS --mountpoint /dev/pts | tail -n 1)" "ptmxmode=666" "/dev/pts is a new instance"
if [[ $(cat "$POLYNS_TEST_ROOT/etc/mode") == copy ]]; then
    echo "NOTE: /etc is a copy (no overlay here or POLYNS_HARNESS_ETC=copy)"
else
    assert_eq "$(findmnt -n -o FSTYPE --mountpoint /etc | tail -n 1)" overlay "/etc is an overlay"
fi
for file in passwd group shadow gshadow; do
    # In the upper dir: the world's own copy, whatever the host does to its file.
    [[ -f $POLYNS_TEST_ROOT/etc/upper/$file ]] || fail "/etc/$file is not copied up into the overlay's upper dir"
    pass "/etc/$file is the world's own copy (copied up)"
done
for file in pam.d security; do
    assert_contains "$mountinfo" " /etc/$file " "/etc/$file is bind-mounted from a copy"
done
# Propagation: nothing of ours is shared with a peer group.
assert_not_contains "$(awk '{print $7}' /proc/self/mountinfo)" "shared:" "no mount is shared"

# (The host's whole table may change meanwhile on a busy host: only mounts of
# this world's filesystems or peer groups would be harness_enter's doing.)
assert_eq "$(host_world_mounts)" "" "the host has no mount of this world (harness_enter mounted nothing there)"
assert_not_contains "$(host_mountinfo | awk '{print $5}')" "/etc/passwd" "the host mount table has none of our mounts"

# ------------------------------------------- the host's filesystems: read-only
# mkdir_errno DIR: the errno name of mkdir(DIR), or "created" (and DIR removed
# again: the harness would have let a test write there).
mkdir_errno() {
    python3 -c 'import errno, os, sys
try:
    os.mkdir(sys.argv[1])
except OSError as e:
    print(errno.errorcode[e.errno])
else:
    os.rmdir(sys.argv[1])
    print("created")' "$1"
}
probe=polyns-selftest-probe-$$
assert_eq "$(findmnt -n -o VFS-OPTIONS --mountpoint / | tail -n 1 | cut -d, -f1)" ro "/ is mounted read-only in the world"
assert_eq "$(mkdir_errno "/$probe")" EROFS "a write to / fails with EROFS"
assert_eq "$(mkdir_errno "/usr/$probe")" EROFS "a write to /usr fails with EROFS"
assert_eq "$(mkdir_errno "/var/$probe")" EROFS "a write to /var (but /var/tmp, /var/log) fails with EROFS"
case $POLYNS_SOURCE_DIR in
/tmp/* | /var/tmp/* | /home/* | /root/* | /run/*) ;; # hidden behind the world's tmpfs
*) assert_eq "$(mkdir_errno "$POLYNS_SOURCE_DIR/$probe")" EROFS "a write to the source tree fails with EROFS" ;;
esac
# The places a test may write, each a mount of the world's own (or the build
# directory bound onto itself).
for dir in /tmp /var/tmp /home /root /run /var/log /dev/shm /etc "$POLYNS_BUILD_DIR"; do
    assert_eq "$(mkdir_errno "$dir/$probe")" created "$dir is writable"
done
# The host's mounts kept their flags: a bind remount changes this
# namespace's mount, never the filesystem or the host's mount of it.
changed=$(host_mountinfo | mount_flags | awk -v before="$POLYNS_SELFTEST_HOST_MOUNTS" '
    BEGIN { n = split(before, lines, "\n"); for (i = 1; i <= n; i++) { split(lines[i], f, " "); flags[f[1]] = f[3] " " f[4] } }
    ($1 in flags) && flags[$1] != $3 " " $4 { print $2 ": " flags[$1] " -> " $3 " " $4 }')
assert_eq "$changed" "" "the host's mounts keep their per-mount and superblock flags"
for dir in / /usr; do
    before=$(awk -v d="$dir" '$2 == d { print $3, $4 }' <<<"$POLYNS_SELFTEST_HOST_MOUNTS" | tail -n 1)
    [[ -n $before ]] || continue # /usr: part of the root filesystem here
    assert_eq "$(host_mountinfo | mount_flags | awk -v d="$dir" '$2 == d { print $3, $4 }' | tail -n 1)" "$before" \
        "the host's $dir keeps its flags ($before)"
done

marker=/tmp/polyns-selftest-marker-$$
touch "$marker"
[[ -d $(host_path /tmp) && ! -e $(host_path "$marker") ]] || fail "a file in the private /tmp appeared in the host's /tmp"
pass "private /tmp is invisible to the host"

# ------------------------------------------------------------------- /dev
echo data >/dev/null
assert_eq "$(head -c 4 /dev/zero | od -An -tx1 | tr -d ' \n')" 00000000 "/dev/zero works"
assert_eq "$(head -c 16 /dev/urandom | wc -c)" 16 "/dev/urandom works"
exec 9<>/dev/ptmx || fail "cannot open /dev/ptmx"
exec 9>&-
pass "/dev/ptmx opens"
[[ -S /dev/log ]] || fail "/dev/log is not a socket"

# ------------------------------------------------------------ users, groups
add_group polyns-staff 2001
add_user alice 1001 polyns-staff
add_user bob 1002
add_group polyns-pair 2002 alice,bob

assert_eq "$(getent passwd alice)" "alice:x:1001:1001::/home/alice:/bin/sh" "alice in passwd"
assert_eq "$(id -u bob)" 1002 "bob resolves"
assert_eq "$(id -gn alice)" alice "alice's primary group"
assert_contains " $(id -Gn alice) " " polyns-staff " "alice is in polyns-staff"
assert_contains " $(id -Gn bob) " " polyns-pair " "bob is in polyns-pair"
assert_eq "$(getent group polyns-pair)" "polyns-pair:x:2002:alice,bob" "group with members"
assert_eq "$(getent shadow alice | cut -d: -f2)" "*" "alice has no password but is not locked"
assert_contains "$(cat /etc/gshadow)" "polyns-staff:!::alice" "gshadow members follow group members"
assert_eq "$(stat -c '%u:%g %a' /home/alice)" "1001:1001 755" "alice's home"

for file in passwd group shadow gshadow; do
    host_copy=$(cat "$(host_path "/etc/$file")")
    assert_not_contains "$host_copy" "alice:" "alice is not in the host's /etc/$file"
    assert_not_contains "$host_copy" "polyns-staff" "polyns-staff is not in the host's /etc/$file"
done
[[ ! -e $(host_path /home/alice) ]] || fail "alice's home appeared on the host"

status=0
(add_user alice 1003) 2>/dev/null || status=$?
assert_eq "$status" 1 "adding an existing user fails"
status=0
(add_user carol 1001) 2>/dev/null || status=$?
assert_eq "$status" 1 "adding a user with a used uid fails"
status=0
(POLYNS_HARNESS_NS=mnt:[0] add_user carol 1009) 2>/dev/null || status=$?
assert_eq "$status" 1 "helpers refuse outside the harness namespace"

writable=$(find /etc/pam.d /etc/security ! -type l \( -perm /022 -o ! -user root \) -print)
assert_eq "$writable" "" "PAM and security copies are root-owned and not group/other-writable"

# ------------------------------------------------------------------- syslog
logger -t polyns-selftest "hello from $$"
wait_for_syslog "polyns-selftest.*hello from $$" || fail "logger line did not reach the sink"
pass "logger reaches the private /dev/log"
syslog_clear
assert_eq "$(syslog_lines)" "" "syslog_clear empties the log"
# A burst (20 parallel logins log like this): nothing lost, one line each.
seq 1 2000 | sed 's/^/burst-line-/' | logger -t polyns-burst
wait_for_syslog "burst-line-2000\$" 10 || fail "the end of the burst did not arrive"
assert_eq "$(syslog_lines 'polyns-burst: burst-line-[0-9]+$' | wc -l)" 2000 "a burst of 2000 datagrams arrives complete"
syslog_clear

# -------------------------------------------------------------- PAM driver
require_pam_session
write_pam_service polyns-permit <<'EOF'
session required pam_permit.so
EOF
write_pam_service polyns-deny <<'EOF'
session required pam_deny.so
EOF
write_pam_service polyns-warn <<'EOF'
session required pam_warn.so
session required pam_permit.so
EOF
assert_eq "$(stat -c '%U %a' /etc/pam.d/polyns-permit)" "root 644" "service file owner and mode"

status=0
out=$(pam_session polyns-permit alice -- sh -c 'echo "inside as $(id -u)"; exit 7') || status=$?
assert_eq "$status" 7 "pam_session returns the command's status"
assert_eq "$out" "inside as 0" "the command runs as root"

assert_status 0 "--no-cmd opens and closes" pam_session --no-cmd polyns-permit alice
assert_status 0 "--threads works with a permissive stack" pam_session --threads polyns-permit alice -- true

status=0
err=$(pam_session polyns-deny alice -- true 2>&1) || status=$?
assert_eq "$status" 2 "a failing pam_open_session exits 2"
assert_contains "$err" "pam_open_session(polyns-deny, alice)" "the failure names service and user"

status=0
err=$(pam_session polyns-permit nosuchuser -- true 2>&1) || status=$?
assert_eq "$status" 0 "pam_permit lets any user name through"

status=0
err=$(pam_session polyns-permit alice -- /nonexistent/cmd 2>&1) || status=$?
assert_eq "$status" 127 "an unexecutable command exits 127"

err=$(pam_session --print-ns polyns-permit alice -- true 2>&1)
assert_contains "$err" "mntns before=$POLYNS_HARNESS_NS" "--print-ns prints the namespace before"
assert_contains "$err" "mntns after_open=$POLYNS_HARNESS_NS" "pam_permit does not change the namespace"

fds=$(pam_session --keep-open-fds 3 polyns-permit alice -- sh -c 'ls /proc/self/fd | wc -l')
[[ $fds -ge 6 ]] || fail "--keep-open-fds 3: the command sees only $fds fds"
pass "--keep-open-fds passes extra fds on"

syslog_clear
pam_session polyns-warn alice -- true
wait_for_syslog "pam_warn.*user=\[alice\]" || fail "pam_warn's line did not reach the sink"
pass "a PAM module's pam_syslog reaches the sink"

# The driver's second thread really exists while pam_open_session runs:
# pam_exec's child counts its parent's (the driver's) threads.
cat >"$POLYNS_TEST_ROOT/count-tasks.sh" <<'EOF2'
#!/bin/sh
echo "tasks=$(ls /proc/$PPID/task | wc -l)"
EOF2
chmod 0755 "$POLYNS_TEST_ROOT/count-tasks.sh"
write_pam_service polyns-count-tasks <<EOF2
session required pam_exec.so stdout $POLYNS_TEST_ROOT/count-tasks.sh
EOF2
err=$(pam_session --no-cmd polyns-count-tasks alice 2>&1)
assert_contains "$err" "tasks=1" "without --threads the driver has one thread at open"
err=$(pam_session --threads --no-cmd polyns-count-tasks alice 2>&1)
assert_contains "$err" "tasks=2" "with --threads the driver has two threads at open"

# ---------------------------------------------------- the host snapshot check
# host_snapshot.sh run here (this world plays the host, changes are harmless)
# fails on what a test world leaks into its host, and only on that.
snapshot_build=$POLYNS_TEST_ROOT/snapshot-check
# This world plays the nested worlds' host, whose noise mounts below /mnt:
# the host's /mnt is read-only here, so a tmpfs of this world's own.
mount -t tmpfs -o mode=0755 polyns-selftest-mnt /mnt
mkdir -p "$snapshot_build"
snapshot=$POLYNS_SOURCE_DIR/tests/system/host_snapshot.sh
snapshot_end() { status=0; out=$(POLYNS_BUILD_DIR=$snapshot_build bash "$snapshot" end 2>&1) || status=$?; }
# nested_world SCRIPT: runs SCRIPT (bash, sourcing harness.sh and attack.sh)
# as a test world of its own whose host is this world.
nested_world() {
    local script=$POLYNS_TEST_ROOT/nested-world.sh
    { printf 'source %q\nharness_enter "$@"\nsource %q\n' "$HARNESS_LIB_DIR/harness.sh" "$HARNESS_LIB_DIR/attack.sh"; cat; } >"$script"
    env -u POLYNS_HARNESS_INSIDE -u POLYNS_HARNESS_NS -u POLYNS_HARNESS_OUTER_NS -u POLYNS_HARNESS_OUTER_PID \
        POLYNS_BUILD_DIR="$snapshot_build" bash "$script"
}
# leak_mount SOURCE_DIR HOST_PID TARGET: what a leak would be: a clone of the
# mount at SOURCE_DIR (this namespace) attached on TARGET in HOST_PID's
# namespace (open_tree, setns, move_mount).
cat >"$POLYNS_TEST_ROOT/leak_mount.py" <<'EOF2'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
OPEN_TREE_CLONE, AT_RECURSIVE, MOVE_MOUNT_F_EMPTY_PATH = 1, 0x8000, 4
fd = libc.syscall(428, -100, sys.argv[1].encode(), OPEN_TREE_CLONE | AT_RECURSIVE)
if fd < 0: sys.exit("open_tree: " + os.strerror(ctypes.get_errno()))
ns = os.open("/proc/%s/ns/mnt" % sys.argv[2], os.O_RDONLY)
if libc.setns(ns, 0x00020000) != 0: sys.exit("setns: " + os.strerror(ctypes.get_errno()))
if libc.syscall(429, fd, b"", -100, sys.argv[3].encode(), MOVE_MOUNT_F_EMPTY_PATH) != 0:
    sys.exit("move_mount: " + os.strerror(ctypes.get_errno()))
EOF2
POLYNS_BUILD_DIR=$snapshot_build bash "$snapshot" begin >/dev/null
assert_status 0 "host_snapshot: no change passes" env POLYNS_BUILD_DIR="$snapshot_build" bash "$snapshot" end

# The host busy meanwhile (what tests/host_noise.sh does): /etc/group
# rewritten by rename with a new group, files in /etc, /root and /run, a
# tmpfs under /mnt; a test world ran and kept to itself.
POLYNS_BUILD_DIR=$snapshot_build bash "$snapshot" begin >/dev/null
nested_world <<'EOF2'
add_user quiet 1701
echo quiet >/etc/quiet-file
EOF2
{ cat /etc/group; echo "noise-group:x:1600:"; } >/etc/group+
mv /etc/group+ /etc/group
echo noise >/etc/noise-file
echo noise >/root/noise-file
echo noise >/run/noise-file
mkdir -p /mnt/noise
mount -t tmpfs noise /mnt/noise
snapshot_end
assert_eq "$status" 0 "host_snapshot: the host's own changes do not count ($out)"
assert_contains "$out" "noise-group" "host_snapshot: but they are listed"
assert_contains "$out" "1 test worlds recorded" "host_snapshot: the test world recorded itself"
umount /mnt/noise
rm -f /etc/noise-file /root/noise-file /run/noise-file

# A test world that leaks: its account lines and a mount of its own /tmp
# reach its host.
POLYNS_BUILD_DIR=$snapshot_build bash "$snapshot" begin >/dev/null
nested_world <<'EOF2'
add_user leaky 1700
cat /etc/passwd >"$(host_path /etc/passwd)"
mkdir /tmp/leak
nsenter --mount="/proc/$POLYNS_HARNESS_OUTER_PID/ns/mnt" -- mkdir -p /mnt/leak
python3 "$(host_path "$POLYNS_TEST_ROOT/leak_mount.py")" /tmp "$POLYNS_HARNESS_OUTER_PID" /mnt/leak
EOF2
snapshot_end
assert_eq "$status" 1 "host_snapshot: a test world's changes fail the check"
assert_contains "$out" "/etc/passwd has a test world's line: leaky" "host_snapshot: names the leaked account line"
assert_contains "$out" "filesystem in the host: /mnt/leak" "host_snapshot: names the leaked mount"
umount /mnt/leak
status=0
POLYNS_BUILD_DIR=$snapshot_build bash "$snapshot" end >/dev/null 2>&1 || status=$?
assert_eq "$status" 77 "host_snapshot: end without begin skips"

# The attack suite's checks (lib/attack.sh) inside a world see what the world
# did and nothing its host does meanwhile: the host rewrites /etc/group,
# adds a file to /etc, mounts a tmpfs (a process in the host's namespace);
# then the world writes to /etc, deletes a host file there, and bind-mounts
# one of its directories into the host.
out=$(nested_world <<'EOF2'
host() { nsenter --mount="/proc/$POLYNS_HARNESS_OUTER_PID/ns/mnt" -- "$@"; }
before=$(tree_snapshot)
host_before=$(host_mount_points)
host sh -c '{ cat /etc/group; echo "noise2:x:1601:"; } >/etc/group+ && mv /etc/group+ /etc/group'
host sh -c 'echo noise >/etc/noise2 && mkdir -p /mnt/noise2 && mount -t tmpfs noise2 /mnt/noise2'
assert_eq "$(tree_changes "$before")" "" "attack checks: the host's changes to /etc are not the world's"
assert_eq "$(host_mount_points)" "$host_before" "attack checks: the host's new mount is not the world's"
assert_not_contains "$(cat /etc/group)" noise2 "the world's /etc/group is its own"
# The module writing below /etc: a session's instance in a template there.
source "$HARNESS_LIB_DIR/module.sh"
add_user modder 1703
make_template /etc/polyns-tmpl
write_conf <<<'/tmp /etc/polyns-tmpl/ user'
use_module
before=$(tree_snapshot)
session modder true
assert_eq "$(tree_changes "$before")" "+ /etc/polyns-tmpl/modder modder modder 700 d $(stat -c %i /run/polyns-test/etc/upper/polyns-tmpl/modder)" \
    "attack checks: the instance the module made below /etc is caught, and only it"
echo world >/etc/world-file
rm /etc/noise2 2>/dev/null || rm /etc/hostname
changes=$(tree_changes "$before")
assert_contains "$changes" "+ /etc/world-file root root 644 f" "attack checks: a world's new file in /etc is caught"
# (A whiteout in the overlay's upper dir; a missing entry when /etc is a copy.)
grep -qE '^(\+ /etc/[^ ]+ root root 0 c |- /etc/)' <<<"$changes" ||
    fail "attack checks: a world's deletion in /etc is not caught: [$changes]"
pass "attack checks: a world's deletion in /etc is caught"
host mkdir -p /mnt/leak2
python3 "$(host_path "$POLYNS_TEST_ROOT/leak_mount.py")" /tmp "$POLYNS_HARNESS_OUTER_PID" /mnt/leak2
assert_contains "$(host_mount_points)" /mnt/leak2 "attack checks: a world's mount in the host is caught"
host umount /mnt/leak2 /mnt/noise2
EOF2
) || fail "nested world: $out"
printf '%s\n' "$out"
rm -f /etc/noise2
rmdir /mnt/noise2 /mnt/leak2 /mnt/leak /mnt/noise 2>/dev/null || true

# ------------------------------------------------- harness_make_shared
# After it, a namespace that forgets to make its tree slave leaks mounts back
# into the harness namespace (and only there); one that does make it slave
# does not.
harness_make_shared
assert_contains "$(awk '$5 == "/tmp" {print $7}' /proc/self/mountinfo)" "shared:" "/tmp is shared after harness_make_shared"
mkdir -p /tmp/leak-probe /tmp/slave-probe
unshare --mount --propagation unchanged mount -t tmpfs leak-probe /tmp/leak-probe
assert_contains "$(findmnt -n -o SOURCE --mountpoint /tmp/leak-probe || true)" "leak-probe" \
    "a mount from a non-slave child namespace flows back into the shared harness world"
umount /tmp/leak-probe
unshare --mount --propagation slave mount -t tmpfs slave-probe /tmp/slave-probe
assert_eq "$(findmnt -n -o SOURCE --mountpoint /tmp/slave-probe || true)" "" \
    "a mount from a slave child namespace does not"
assert_not_contains "$(host_mountinfo)" "probe" "neither reaches the host"

# ------------------------------------------------------------------ nesting
out=$(bash -c 'source "$1"; harness_enter; add_user dave 1004; echo nested-ok' nested "$HARNESS_LIB_DIR/harness.sh")
assert_eq "$out" "nested-ok" "a nested script reuses the harness world"
assert_eq "$(id -u dave)" 1004 "and its changes are visible to the test"

# ------------------------------------------------------- leftover processes
# A world built inside this one (harness.sh run directly) whose command leaves
# a daemon behind: the harness kills it on exit, so meson never waits for it.
out=$(env -u POLYNS_HARNESS_INSIDE -u POLYNS_HARNESS_NS bash "$HARNESS_LIB_DIR/harness.sh" \
    sh -c 'sleep 1000 >/dev/null 2>&1 & echo "$!"' 2>"$POLYNS_TEST_ROOT/nested.err")
[[ $out =~ ^[0-9]+$ ]] || fail "nested world did not report its daemon's pid: [$out] $(cat "$POLYNS_TEST_ROOT/nested.err")"
# Killed is enough: it may stay a zombie until its new parent reaps it.
for _ in $(seq 100); do
    state=$(awk '/^State:/ {print $2}' "/proc/$out/status" 2>/dev/null || true)
    [[ -z $state || $state == Z ]] && break
    sleep 0.02
done
[[ -z $state || $state == Z ]] || fail "leftover process $out survived its world (state $state)"
assert_contains "$(cat "$POLYNS_TEST_ROOT/nested.err")" "killing leftover process $out" "the harness reaps a leftover daemon"

pass "harness self-test complete"
