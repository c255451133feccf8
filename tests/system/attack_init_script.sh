#!/bin/bash
# Issue 6, catalogue entry 10: the instance init script under a hostile
# caller (DESIGN invariant 8). The caller's environment is loaded with
# LD_PRELOAD, LD_LIBRARY_PATH, a PATH leading to alice's own `id`, IFS,
# TMPDIR, BASH_ENV, ENV, PS4 and friends; it holds extra fds (its own, and
# the driver's --keep-open-fds); its cwd is alice's home. Holds:
#   - the script's environment is exactly the documented six variables
#     (PATH=/usr/sbin:/usr/bin:/sbin:/bin, POLYNS_POLYDIR, POLYNS_INSTANCE,
#     POLYNS_NEWLY_CREATED, POLYNS_INSTANCE_FD, POLYNS_USER), read from its
#     /proc/PID/environ;
#     alice's `id` never runs;
#   - fds 0-2 are /dev/null and no other fd but the script's own file and
#     the instance (5);
#   - its cwd is /, not the caller's (a user's directory);
#   - a hanging script (one that ignores SIGTERM, and its children) is
#     killed at init_timeout= and the session fails closed;
#   - a script that starts a daemon (in its group, or setsid) and exits 0
#     does not keep the session waiting;
#   - a non-zero exit, or death by a signal, fails the session closed.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
require_module
add_standard_users
make_template /var/tmp/inst
use_module
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF
work=$POLYNS_TEST_ROOT/attack-init
mkdir -p "$work"
report=$work/report

write_init() { # body from stdin
    { echo '#!/bin/sh'; cat; } >/etc/security/namespace.init
    chown root:root /etc/security/namespace.init
    chmod 0755 /etc/security/namespace.init
}

# alice's trap: an `id` (and `env`, `cat`, `ls`) earlier in a PATH she
# controls, a BASH_ENV / ENV file, a library directory.
install -d -o alice -g alice /home/alice/bin /home/alice/lib
for tool in id env cat ls tr readlink sh; do
    printf '#!/bin/sh\ntouch %s/alice-tool-ran\n' "$work" >/home/alice/bin/$tool
    chmod 0755 /home/alice/bin/$tool
done
printf 'touch %s/alice-env-file-ran\n' "$work" >/home/alice/evil.sh

# -------------------------------------------- environment, fds, cwd
# The fds are listed by a child (ls) before the script's shell makes any
# of its own: exec redirections (unlike others) keep no saved copies.
write_init <<EOF
exec >$work/fds 2>&1
ls -l /proc/\$\$/fd
{
    echo "environ:"; tr '\\0' '\\n' </proc/\$\$/environ
    echo "cwd: \$(readlink /proc/\$\$/cwd)"
    echo "id: \$(id -un)"
} >$report
EOF
rm -f "$report"
rc=0
(
    cd /home/alice
    exec 7</etc/hostname 8>"$work/caller-fd" 9<>"$work/caller-fd"
    # (In the sanitizer run ASan's runtime must stay first in the preload list.)
    env LD_PRELOAD="${POLYNS_TEST_PRELOAD:+$POLYNS_TEST_PRELOAD }/lib/x86_64-linux-gnu/libm.so.6" LD_LIBRARY_PATH=/home/alice/lib \
        PATH="/home/alice/bin:$PATH" IFS=/ TMPDIR=/home/alice TMP=/home/alice \
        BASH_ENV=/home/alice/evil.sh ENV=/home/alice/evil.sh PS4='$(touch /tmp/x)' \
        SHELLOPTS=xtrace LANG=C.UTF-8 POLYNS_USER=mallory POLYNS_LEAK=yes \
        "$POLYNS_PAM_SESSION" --keep-open-fds 5 "$MODULE_SERVICE" alice -- /bin/true
) || rc=$?
assert_eq "$rc" 0 "10. the session opened with the hostile caller"
[[ -s $report ]] || fail "10. the init script did not run"
sed 's/^/  | /' "$report"
environ=$(sed -n '/^environ:$/,/^cwd:/p' "$report" | sed '1d;$d' | LC_ALL=C sort)
assert_eq "$environ" "PATH=/usr/sbin:/usr/bin:/sbin:/bin
POLYNS_INSTANCE=/var/tmp/inst/alice
POLYNS_INSTANCE_FD=5
POLYNS_NEWLY_CREATED=1
POLYNS_POLYDIR=/tmp
POLYNS_USER=alice" "10. the script's environment is exactly the documented six variables"
assert_contains "$(cat "$report")" "id: root" "10. the script's id is the system's (runs as root)"
[[ ! -e $work/alice-tool-ran ]] || fail "10. a tool from alice's PATH ran in the init script"
[[ ! -e $work/alice-env-file-ran ]] || fail "10. alice's BASH_ENV/ENV file was read"
pass "10. none of alice's tools or env files ran"
sed 's/^/  | /' "$work/fds"
fds=$(awk '$(NF - 1) == "->" {print $(NF - 2), $NF}' "$work/fds")
script_fds=$(printf '%s\n' "$fds" | awk '$1 > 2' | grep -v -e ' /etc/security/namespace.init$' -e '^5 /var/tmp/inst/alice$' || true)
assert_eq "$script_fds" "" "10. no fd beyond 0-2 except the script's own file and the instance on 5 (none of the caller's 7, 8, 9 or 5 extra)"
assert_eq "$(printf '%s\n' "$fds" | awk '$1 == 0 {print $2}')" "/dev/null" "10. fd 0 is /dev/null (1 and 2: redirected by the script itself)"
assert_eq "$(sed -n 's/^cwd: //p' "$report")" / "10. the script starts in /, not in the caller's cwd (alice's home)"

# ----------------------------------------------------- hanging scripts
# One that ignores SIGTERM (and its child, in its process group).
write_init <<'EOF'
trap '' TERM HUP INT
sleep 31.71 &
sleep 31.72
EOF
use_module init_timeout=1
ATTACK_ALLOWED_CHANGES='^\+ /var/tmp/inst/alice '
rm -rf /var/tmp/inst/alice
start=$SECONDS
expect_refused "10. a script ignoring SIGTERM" -- alice /tmp namespace.init "killed its process group"
elapsed=$((SECONDS - start))
((elapsed <= 5)) || fail "10. the hanging script held the session for ${elapsed}s"
sleep 0.2
! pgrep -f 'sleep 31.7[12]' >/dev/null || fail "10. the hanging script or its child survived the timeout"
pass "10. a hanging script is killed with its group at init_timeout=1 (${elapsed}s)"

# ----------------------------------------------------------- daemons
for how in 'sleep 32.81 &' 'setsid sleep 32.82 </dev/null >/dev/null 2>&1 &' \
        '( sleep 32.83 & ) ; exec 1>&- 2>&-'; do
    write_init <<EOF
$how
exit 0
EOF
    start=$(date +%s%N)
    rc=0
    session alice true || rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    assert_eq "$rc" 0 "10. a script that starts a daemon ($how) and exits 0: the session opens"
    ((ms < 3000)) || fail "10. the daemon kept the session waiting (${ms} ms)"
    pass "10. daemon ($how): the session did not wait for it (${ms} ms)"
done
for pid in $(pgrep -f 'sleep 32.8[123]'); do kill "$pid"; done

# -------------------------------------------------------- failing scripts
use_module
ATTACK_ALLOWED_CHANGES=
for body in 'exit 1' 'exit 255' 'kill -KILL $$' 'kill -SEGV $$'; do
    write_init <<EOF
$body
EOF
    expect_refused "10. a script that does: $body" -- alice /tmp namespace.init
done
# ------------------- the shipped example script vs. a planting user
# conf/namespace.init copies /etc/skel into a new polyinstantiated home. The
# new instance is alice's (0700) from before the mount, and reachable from
# outside any session through its 0755 template: while the script runs she
# plants a symlink where a skel file will be copied. A root `cp` would write
# through it (the Linux-PAM script's `cp -rT /etc/skel` does); the example
# must never write through her links. To make the race deterministic, a
# wrapper waits until her link is there, then runs the example.
[[ -d /etc/skel ]] && [[ -n $(ls -A /etc/skel) ]] || skip "10. no /etc/skel to copy"
make_template /var/tmp/homes
install -m 0755 "$POLYNS_SOURCE_DIR/conf/namespace.init" /etc/security/example.init
echo canary >/etc/security/canary && chmod 0644 /etc/security/canary
skel_file=$(cd /etc/skel && ls -A | head -n1)
cat >/etc/security/wrapper.init <<EOF
#!/bin/sh
for i in \$(seq 300); do [ -L "/var/tmp/homes/\$4/$skel_file" ] && break; sleep 0.01; done
exec /etc/security/example.init "\$@"
EOF
chmod 0755 /etc/security/wrapper.init
write_conf <<'EOF'
$HOME /var/tmp/homes/ user:iscript=/etc/security/wrapper.init
EOF
use_module
rm -rf /var/tmp/homes/alice
setpriv --reuid=alice --regid=alice --clear-groups -- sh -c "
    for i in \$(seq 100000); do ln -s /etc/security/canary /var/tmp/homes/alice/$skel_file 2>/dev/null && exit 0; done; exit 1" &
planter=$!
syslog_clear
rc=0
session alice true || rc=$?
wait "$planter" || fail "10. the planter never got her link in"
assert_eq "$(cat /etc/security/canary) $(stat -c '%U %a' /etc/security/canary)" "canary root 644" \
    "10. the example script did not write through her link into a root file"
if [[ $rc == 0 ]]; then
    pass "10. the example script copied /etc/skel without following her link"
else
    assert_eq "$rc" "$OPEN_FAILED" "10. the example script refused: the session fails closed"
    assert_one_error_line alice wrapper.init "exited with status 1"
fi
# Without her link, the example still does its job: skel copied, hers.
rm -rf /var/tmp/homes/alice
cat >/etc/security/wrapper.init <<'EOF'
#!/bin/sh
exec /etc/security/example.init "$@"
EOF
session alice true
assert_eq "$(stat -c %U:%G "/var/tmp/homes/alice/$skel_file")" alice:alice "10. the example's skel copy is alice's"
cmp -s "/etc/skel/$skel_file" "/var/tmp/homes/alice/$skel_file" || fail "10. the skel copy differs"
pass "10. the example script still copies /etc/skel into a new home"
pass "10. init scripts: documented environment only, no inherited fds, timeouts, daemons, failures"
