#!/bin/bash
# Issue 6, catalogue entry 19, the hung-filesystem half: a FUSE filesystem
# whose daemon stopped answering, mounted by a user where the module walks
# (CVE-2024-22365 hung Linux-PAM logins with a FIFO; a FUSE mount does the
# same to any stat, lookup or open that reaches it). alice mounts it as
# fusermount3 lets her on a host with user_allow_other: on a directory she
# owns, with allow_other, user_id=1001. The module never sends a request to a
# filesystem a user mounted: each session is refused at once (expect_refused:
# exit 2 within 20 s, one LOG_ERR line, nothing changed), and the daemon's log
# shows no request from the session at all. A FUSE filesystem root mounted
# (user_id=0, an admin's network filesystem for homes), answering or slow, is
# entered as before.
#
# tests/system/hung_fuse.cpp is the daemon. It answers only the snapshots'
# `find` and `stat` (so expect_refused can compare trees); every other
# process's request waits until the daemon is killed.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
print_versions libfuse3-3
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
require_module
add_standard_users
use_module
HUNG_FUSE=${POLYNS_HUNG_FUSE:-$POLYNS_BUILD_DIR/tests/system/polyns-hung-fuse}
[[ -x $HUNG_FUSE ]] || skip "no $HUNG_FUSE (libfuse3-dev missing at build time?)"
# The harness's private /dev has no fuse node; the host's kernel does.
[[ -c /dev/fuse ]] || mknod -m 0666 /dev/fuse c 10 229
grep -qw fuse /proc/filesystems || modprobe fuse 2>/dev/null || true
grep -qw fuse /proc/filesystems || skip "the kernel has no FUSE"

fuse_pids=()
fuse_dirs=()
FUSE_LOG=$POLYNS_TEST_ROOT/attack-fuse.log

# start_fuse DIR [DAEMON_OPTION...]: mounts the daemon on DIR, waits until it
# answered INIT.
start_fuse() {
    local dir=$1 ready=$POLYNS_TEST_ROOT/attack-fuse-ready tries=0
    shift
    rm -f "$ready"
    "$HUNG_FUSE" --answer-to find --answer-to stat --log "$FUSE_LOG" --ready "$ready" "$@" "$dir" \
        </dev/null >/dev/null 2>>"$POLYNS_TEST_ROOT/attack-fuse.err" &
    fuse_pids+=($!)
    fuse_dirs+=("$dir")
    until [[ -e $ready ]]; do
        kill -0 "${fuse_pids[-1]}" 2>/dev/null || fail "the FUSE daemon on $dir died: $(cat "$POLYNS_TEST_ROOT/attack-fuse.err")"
        ((++tries < 500)) || fail "the FUSE daemon on $dir did not start within 5 s"
        sleep 0.01
    done
    : >"$FUSE_LOG"
}

# stop_fuse: kills every daemon (aborting its connection: whatever waits gets
# ENOTCONN) and lazily unmounts its directory.
stop_fuse() {
    local i
    for i in "${!fuse_pids[@]}"; do
        kill -KILL "${fuse_pids[i]}" 2>/dev/null
        wait "${fuse_pids[i]}" 2>/dev/null || true
        umount -l "${fuse_dirs[i]}" 2>/dev/null
    done
    fuse_pids=()
    fuse_dirs=()
    return 0
}
harness_on_exit stop_fuse

# assert_no_request CASE: the daemon got no request but the snapshots'.
assert_no_request() {
    local others
    others=$(awk '$3 != "find" && $3 != "stat"' "$FUSE_LOG")
    assert_eq "$others" "" "$1: no request reached alice's FUSE daemon"
}

# -------------------- a. the template is a FUSE mount in alice's home
# Rule "$HOME $HOME/.inst/ user": root's template lives in her home. She moves
# it aside (her home, her rename), makes her own .inst and mounts on it.
make_template /home/alice/.inst
write_conf <<'EOF'
$HOME $HOME/.inst/ user
EOF
expect_opened "a. the admin's template in alice's home works" /home/alice
rm -rf /home/alice/.inst/alice
mv /home/alice/.inst /home/alice/.inst.admin
as_user alice mkdir -m 0755 /home/alice/.inst
start_fuse /home/alice/.inst --mount-uid 1001 --mount-gid 1001 --owner 0:0 --mode 0755
expect_refused "19. a. template is alice's hung FUSE mount" -- /home/alice/.inst FUSE "user_id=1001"
assert_no_request "19. a."
stop_fuse
rmdir /home/alice/.inst
mv /home/alice/.inst.admin /home/alice/.inst

# ---------------- a'. a component above polydir and template is a FUSE mount
as_user alice mkdir -m 0755 /home/alice/mnt
start_fuse /home/alice/mnt --mount-uid 1001 --mount-gid 1001 --owner 1001:1001 --mode 0755
write_conf <<'EOF'
$HOME/mnt/sub /var/tmp/inst/ user
EOF
make_template /var/tmp/inst
expect_refused "19. a'. polydir below alice's hung FUSE mount" -- /home/alice/mnt FUSE
assert_no_request "19. a'. polydir"
write_conf <<'EOF'
/home/shared $HOME/mnt/sub/ user
EOF
install -d -m 1777 /home/shared
expect_refused "19. a'. template below alice's hung FUSE mount" -- /home/alice/mnt FUSE
assert_no_request "19. a'. template"
stop_fuse
rmdir /home/alice/mnt

# ------------------------------ b. the polydir is a FUSE mount (alice's)
write_conf <<'EOF'
$HOME/tmp /var/tmp/inst/ user
EOF
as_user alice mkdir -m 0700 /home/alice/tmp
expect_opened "b. alice's real \$HOME/tmp works" /home/alice/tmp
rm -rf /var/tmp/inst/alice
start_fuse /home/alice/tmp --mount-uid 1001 --mount-gid 1001 --owner 1001:1001 --mode 0700
expect_refused "19. b. polydir is alice's hung FUSE mount" -- /home/alice/tmp FUSE
assert_no_request "19. b."
stop_fuse

# -------------------- c. alice's own instance is a FUSE mount (she owns it)
write_conf <<'EOF'
/home/shared /var/tmp/inst/ user
EOF
expect_opened "c. the shared polydir works" /home/shared
assert_only_instance_created "c. first session" "$ATTACK_CHANGES" /var/tmp/inst/alice alice alice 700
start_fuse /var/tmp/inst/alice --mount-uid 1001 --mount-gid 1001 --owner 1001:1001 --mode 0700
expect_refused "19. c. instance is alice's hung FUSE mount" -- /var/tmp/inst/alice FUSE
assert_no_request "19. c."
# The same with a daemon that answers, claiming a perfect instance: still not
# entered (alice could serve anything as her /home/shared).
stop_fuse
start_fuse /var/tmp/inst/alice --mount-uid 1001 --mount-gid 1001 --owner 1001:1001 --mode 0700 --answer
expect_refused "19. c. instance is alice's answering FUSE mount" -- /var/tmp/inst/alice FUSE
assert_no_request "19. c. answering"
stop_fuse

# A user's FUSE mount the module does not walk through does not matter.
as_user alice mkdir -m 0755 /home/alice/elsewhere
start_fuse /home/alice/elsewhere --mount-uid 1001 --mount-gid 1001 --owner 1001:1001
expect_opened "19. alice's hung FUSE mount off the walked paths" /home/shared
assert_no_request "19. off the paths"
stop_fuse
rmdir /home/alice/elsewhere

# ---------- root's FUSE mounts (user_id=0) are entered, answering or slow
install -d -m 0755 /home/rootfuse
write_conf <<'EOF'
/home/rootfuse/sub /var/tmp/inst/ user
EOF
start_fuse /home/rootfuse --owner 0:0 --mode 1777 --answer
expect_opened "19. polydir inside root's FUSE mount" /home/rootfuse/sub
stop_fuse
start_fuse /home/rootfuse --owner 0:0 --mode 1777 --answer --delay-ms 200
write_conf <<'EOF'
/home/rootfuse /var/tmp/inst/ user
EOF
expect_opened "19. polydir is root's slow FUSE mount (200 ms per answer)" /home/rootfuse
stop_fuse

# --------- d. at close: alice's hung FUSE mount inside her tmpdir instance
# She mounts it (in her session, through the template path she can reach)
# on a directory of her temporary instance; the close removes the instance
# and must neither enter it nor wait for it.
write_conf <<'EOF2'
/home/shared /var/tmp/inst/ tmpdir
EOF2
rm -rf /var/tmp/inst/*
cat >"$POLYNS_TEST_ROOT/attack-fuse-inside.sh" <<EOF2
set -e
instance=\$(ls -d /var/tmp/inst/*)  # the session's temporary instance, the only one
mkdir "\$instance/mnt" && chown alice:alice "\$instance/mnt"
"$HUNG_FUSE" --mount-uid 1001 --mount-gid 1001 --owner 1001:1001 --ready "$POLYNS_TEST_ROOT/attack-fuse-inside.ready" \
    "\$instance/mnt" </dev/null >/dev/null 2>&1 &
echo \$! >"$POLYNS_TEST_ROOT/attack-fuse-inside.pid"
until [[ -e $POLYNS_TEST_ROOT/attack-fuse-inside.ready ]]; do sleep 0.01; done
EOF2
syslog_clear
rc=0
timeout 20 "$POLYNS_PAM_SESSION" "$MODULE_SERVICE" alice -- bash "$POLYNS_TEST_ROOT/attack-fuse-inside.sh" \
    >/dev/null 2>&1 || rc=$?
inside_pid=$(cat "$POLYNS_TEST_ROOT/attack-fuse-inside.pid" 2>/dev/null || true)
[[ -z $inside_pid ]] || kill -KILL "$inside_pid" 2>/dev/null || true
[[ $rc != 124 ]] || fail "19. d. the close hung on alice's FUSE mount inside her tmpdir instance"
# As with any mount inside a tmpdir instance (attack_cleanup.sh 11.2): the
# mount point stays, named, and the close says it could not remove everything.
assert_eq "$rc" 3 "19. d. the session closes without removing alice's FUSE mount point (exit 3)"
pass "19. d. the close did not wait for alice's hung FUSE daemon"
syslog_settle
assert_contains "$(polyns_log warning)" "/mnt (a mount point; not crossed)" \
    "19. d. the close left the mount point alone and said why"
assert_one_error_line alice "could not remove everything"
rm -rf /var/tmp/inst/*
