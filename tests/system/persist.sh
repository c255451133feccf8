#!/bin/bash
# persist (issue 16): one mount namespace per user.
#  - two ssh sessions and an su session of alice share one namespace (same
#    inode) and see a mount an admin made in one of them with nsenter; bob's
#    sessions never join it;
#  - the pin is replaced after a config edit and after its instance was
#    unmounted from inside;
#  - a SIGKILLed opener does not leak the pin past the user's next logout;
#    its hold on the session count goes with it (the last counted session's
#    close removes the pin); a pin no session holds is shown stale by polyns
#    status and removed by polyns gc, which never removes a held one;
#  - the last logout removes the pin, and persist_clean empties the instance
#    with the user's rights;
#  - a namespace alice made (unshare -Urm) and root bind-mounted at the pin's
#    path, with a record naming it, is refused;
#  - a mount the host makes after the pin reaches a session that joins it
#    (slave propagation, as for a per-session namespace);
#  - the host's mount table keeps no session mount; the pins stay in
#    /run/polyns/ns, a private mount, and are not copied into sessions.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/sshd.sh"
harness_enter "$@"
require_module

add_standard_users
make_template /tmp/user_tmpl
make_template /var/tmp/user_tmpl
write_conf <<'EOF'
/tmp     /tmp/user_tmpl/     user root
EOF

PINS=/run/polyns/ns
harness_on_exit '[[ $status == 0 ]] || { echo "--- syslog:"; syslog_lines; ls -la '"$PINS"' 2>&1; } >&2'

# pin_ns UID: the inode of the namespace pinned for UID, or nothing.
pinned() { grep -q " $PINS/$1 " /proc/self/mountinfo; }
pin_ns() { if pinned "$1"; then stat -L -c %i "$PINS/$1"; fi; }
ns_inode() { stat -L -c %i "/proc/$1/ns/mnt"; }
# wait_for_file FILE: the background session wrote its first line.
wait_for_file() {
    local i
    for ((i = 0; i < 200; i++)); do [[ -s $1 ]] && return 0; sleep 0.05; done
    fail "nothing in $1 after 10 s"
}
# hold USER TAG: a session of USER through the driver, kept open by a sleep;
# sets HOLD_PID (the driver, which opened the session) and HOLD_NS (its
# namespace inode).
hold() {
    local out=$POLYNS_TEST_ROOT/hold-$2
    : >"$out"
    "$POLYNS_PAM_SESSION" "$MODULE_SERVICE" "$1" -- sh -c 'stat -L -c %i /proc/self/ns/mnt; exec sleep 300' >"$out" &
    HOLD_PID=$!
    wait_for_file "$out"
    HOLD_NS=$(head -1 "$out")
}
# release PID: end the held session normally (its sleep exits, the driver closes).
release() {
    pkill -TERM -P "$1" sleep || true
    wait "$1" 2>/dev/null || true
}
session_ns() { session "$1" stat -L -c %i /proc/self/ns/mnt; }

use_module persist debug
host_ns=$(mount_ns)
host_mounts=$(mount_table)

# ------------------------------------------------------------ sharing, driver
hold alice a1
a1_pid=$HOLD_PID a1_ns=$HOLD_NS
pinned 1001 || fail "the first session pins alice's namespace"
assert_eq "$(pin_ns 1001)" "$HOLD_NS" "the pin names the first session's namespace"
assert_eq "$(stat -c %a "$PINS")" 700 "the pin directory is root-only"
pin_dir_mount=$(awk -v d="$PINS" '$5 == d' /proc/self/mountinfo)
[[ -n $pin_dir_mount && $pin_dir_mount != *shared:* ]] ||
    fail "the pin directory is a private mount of its own ($pin_dir_mount)"
second=$(session_ns alice)
assert_eq "$second" "$HOLD_NS" "alice's second session joins the pinned namespace"
bob_ns=$(session_ns bob)
[[ $bob_ns != "$HOLD_NS" && $bob_ns != "$(stat -L -c %i /proc/self/ns/mnt)" ]] ||
    fail "bob gets a namespace of his own ($bob_ns)"
pinned 1002 && fail "bob's pin went with his last session"
# A session's namespace holds no pins (no user keeps another's namespace alive).
out=$(session alice cat /proc/self/mountinfo)
assert_not_contains "$out" "$PINS/" "alice's namespace has no copy of any pin"
syslog_settle
assert_contains "$(polyns_log info)" "persist: joined the user's namespace" "the success line says joined"

# ------------------------------------------------- a config edit replaces it
write_conf <<'EOF'
/tmp     /tmp/user_tmpl/     user root
/var/tmp /var/tmp/user_tmpl/ user root
EOF
syslog_clear
after_edit=$(session_ns alice)
[[ $after_edit != "$HOLD_NS" ]] || fail "after the config edit alice does not join the old namespace"
syslog_settle
assert_contains "$(polyns_log info)" "rules, module options or identity that apply to the user changed" \
    "one line says why the pin was replaced"
hold alice a2
assert_eq "$(pin_ns 1001)" "$HOLD_NS" "the pin names the rebuilt namespace"
a2_pid=$HOLD_PID a2_ns=$HOLD_NS
out=$(session alice sh -c 'stat -L -c %i /proc/self/ns/mnt; awk '"'"'$5 == "/var/tmp" { r = $4 } END { print r }'"'"' /proc/self/mountinfo')
assert_eq "$(head -1 <<<"$out")" "$a2_ns" "the next session joins the rebuilt namespace"
assert_contains "$(tail -1 <<<"$out")" "user_tmpl/alice" "with the new rule's mount on /var/tmp"

# ---------------------------- an instance unmounted from inside: not joined
nsenter -t "$(pgrep -P "$a2_pid" sleep)" -m umount -l /var/tmp
syslog_clear
after_umount=$(session_ns alice)
[[ $after_umount != "$a2_ns" ]] || fail "a namespace whose /var/tmp was unmounted is not joined"
syslog_settle
assert_contains "$(polyns_log info)" "/var/tmp no longer has the instance mounted" "the line names the polydir"
release "$a2_pid"
# The first namespace's last session: its pin was replaced long ago, so the
# newer pin (if any) is not touched.
hold alice a3
release "$a1_pid"
assert_eq "$(pin_ns 1001)" "$HOLD_NS" "closing the last session of a replaced namespace leaves the new pin"

# ------------------------------------------------ last logout removes the pin
release "$HOLD_PID"
pinned 1001 && fail "the pin is gone after alice's last session closed"
[[ ! -e $PINS/1001.rec ]] || fail "the record is gone too"

# ---------------------------------------------- a SIGKILLed opener, no leak
hold alice killed
killed_ns=$HOLD_NS
sleeper=$(pgrep -P "$HOLD_PID" sleep)
kill -KILL "$HOLD_PID" "$sleeper"
wait "$HOLD_PID" 2>/dev/null || true
pinned 1001 || fail "the pin outlives a killed opener (nobody closed it)"
next=$(session_ns alice)
assert_eq "$next" "$killed_ns" "the next session reuses the orphaned namespace"
pinned 1001 && fail "and its close removes the pin: no process is left in it"

# polyns status exits 1 when a process of the user runs outside every session
# namespace. Test worlds running beside this one share the pid namespace and
# the test uids, so that exit status is not this test's to assert.
status_of() { "$POLYNS_CLI" status "$@" || (($? == 1)); }

# ------------- the session count: a killed opener's hold goes with it (flock)
hold alice survivor
survivor=$HOLD_PID
hold alice victim
victim=$HOLD_PID
victim_sleep=$(pgrep -P "$victim" sleep)
assert_eq "$(pin_ns 1001)" "$HOLD_NS" "both sessions run in the pinned namespace"
kill -KILL "$victim"
wait "$victim" 2>/dev/null || true
st=$(status_of alice)
assert_contains "$st" "pinned namespaces (persist): 1" "polyns status lists alice's pin"
assert_contains "$st" "alice mnt:[$HOLD_NS] pinned" "by user and namespace"
assert_contains "$st" "sessions open, processes in it: valid" "with its session count and validity"
# The killed opener counts no more (its shell lives on in the namespace): the
# survivor's close is the last session's.
release "$survivor"
pinned 1001 && fail "the last counted session's close removes the pin, though a killed session's shell lives on"
[[ -e /proc/$victim_sleep ]] || fail "(that shell is still running)"
kill -KILL "$victim_sleep"

# -------------------- a pin no session holds: polyns status and polyns gc
hold alice orphan
orphan_sleep=$(pgrep -P "$HOLD_PID" sleep)
kill -KILL "$HOLD_PID"
wait "$HOLD_PID" 2>/dev/null || true
pinned 1001 || fail "nobody closed the killed session: its pin stays"
st=$(status_of --json alice)
assert_eq "$(jq -c '.pins[0] | [.uid, .user, .pinned, .sessions, .processes, .valid]' <<<"$st")" \
    '[1001,"alice",true,false,true,true]' "status --json: pinned, no session, a process in it, valid"
kill -KILL "$orphan_sleep"
for ((i = 0; i < 100; i++)); do [[ -e /proc/$orphan_sleep ]] || break; sleep 0.05; done
assert_contains "$(status_of)" "no session open, no process in it: valid, stale (polyns gc removes it)" \
    "status calls it stale"
assert_contains "$("$POLYNS_CLI" gc --dry-run)" "would remove pin $PINS/1001 of alice" "gc --dry-run names the stale pin"
pinned 1001 || fail "--dry-run removes nothing"
gc_out=$("$POLYNS_CLI" gc --json)
assert_eq "$(jq -c '.pins[0] | [.uid, .action]' <<<"$gc_out")" '[1001,"removed"]' "gc removes the stale pin"
pinned 1001 && fail "the pin is gone after gc"
[[ -z $(find "$PINS" -name '1001.rec' -o -name '1001.live.*') ]] || fail "with its record and count"
# gc never removes a pin a session holds.
hold alice held
"$POLYNS_CLI" gc >"$POLYNS_TEST_ROOT/gc1" || true
assert_not_contains "$(cat "$POLYNS_TEST_ROOT/gc1")" "pin $PINS/1001" "gc leaves a pin with an open session alone"
assert_eq "$(pin_ns 1001)" "$HOLD_NS" "and it is still pinned"
assert_contains "$(status_of alice)" "sessions open, processes in it: valid" "status: sessions open"
release "$HOLD_PID"
pinned 1001 && fail "the held session's close was the last: the pin went"

# ----------------------------------- persist_clean empties the instance
use_module persist_clean debug
session alice sh -c 'echo data >/tmp/file; mkdir -p /tmp/d/e; echo x >/tmp/d/e/f; chown -R alice: /tmp/file /tmp/d'
[[ ! -e /tmp/user_tmpl/alice ]] || fail "persist_clean removes alice's instance at her last logout ($(ls -la /tmp/user_tmpl/alice))"
[[ ! -e /var/tmp/user_tmpl/alice ]] || fail "persist_clean removes every instance of hers"
# A process left behind (nohup, tmux) still uses them: the pin goes with the
# last session, the instances stay.
syslog_clear
left=$(session alice sh -c 'echo keep >/tmp/kept; chown alice: /tmp/kept; setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!')
[[ -e /proc/$left ]] || fail "(the process left behind runs: $left)"
pinned 1001 && fail "the last session's close removes the pin, a process left behind or not"
assert_eq "$(cat /tmp/user_tmpl/alice/kept)" keep "persist_clean keeps what a process left in the namespace may use"
syslog_settle
assert_contains "$(polyns_log info)" "her instances are not cleaned" "one line says why"
kill -KILL "$left"
# a file she could not remove herself stays, and so does the instance
hold alice clean
session alice sh -c 'touch /tmp/rootfile; mkdir /tmp/rootdir; touch /tmp/rootdir/x; chmod 0755 /tmp/rootdir'
release "$HOLD_PID"
[[ -e /tmp/user_tmpl/alice/rootdir/x ]] || fail "what alice could not remove stays (cleaning uses her rights)"
rm -rf /tmp/user_tmpl/alice
# A session still open in a namespace a config edit replaced uses the same
# instance: the new namespace's last close does not clean it.
hold alice before_edit
write_conf <<'EOF'
/tmp     /tmp/user_tmpl/     user root
EOF
syslog_clear
session alice sh -c 'echo new >/tmp/new-ns; chown alice: /tmp/new-ns'
assert_eq "$(cat /tmp/user_tmpl/alice/new-ns)" new "persist_clean leaves an instance a replaced namespace's session uses"
syslog_settle
assert_contains "$(polyns_log info)" "sessions open in a namespace built before a configuration change" "one line says why"
release "$HOLD_PID"
write_conf <<'EOF'
/tmp     /tmp/user_tmpl/     user root
/var/tmp /var/tmp/user_tmpl/ user root
EOF
rm -rf /tmp/user_tmpl/alice /var/tmp/user_tmpl/alice
use_module persist debug

# ---------------------------------------- a namespace a user made is refused
if ! as_user alice unshare -Urm true 2>/dev/null; then
    skip "unprivileged user namespaces are disabled here"
fi
hold alice real
real_ns=$HOLD_NS
umount "$PINS/1001"
# Namespace ids come from per-CPU batches (kernel 6.18): a namespace made on
# one CPU may be "older" than the harness's and cannot be bound into it
# (EINVAL). Alice makes hers on each CPU in turn until one can be.
bound=
for cpu in $(seq 0 $(($(nproc) - 1))) 0; do
    as_user alice taskset -c "$cpu" unshare -Urm sleep 300 &
    evil_pid=$!
    for ((i = 0; i < 100; i++)); do
        evil=$(pgrep -P "$evil_pid" -x sleep || pgrep -u alice -n -x sleep || true)
        [[ -n $evil && $(ns_inode "$evil") != "$real_ns" ]] && break
        sleep 0.05
    done
    evil_ns=$(ns_inode "$evil")
    if mount --bind "/proc/$evil/ns/mnt" "$PINS/1001" 2>/dev/null; then
        bound=1
        break
    fi
    kill "$evil" "$evil_pid" 2>/dev/null || true
done
[[ -n $bound ]] || fail "could not bind a namespace alice made at her pin's path"
[[ $evil_ns != "$real_ns" ]] || fail "alice's own namespace differs"
# a record naming it, as if she could have written one
sed -i "2s/.*/ns $(stat -L -c '%d %i' "/proc/$evil/ns/mnt")/" "$PINS/1001.rec"
syslog_clear
refused=$(session_ns alice)
[[ $refused != "$evil_ns" ]] || fail "the module never joins a namespace alice made"
syslog_settle
assert_contains "$(polyns_log info)" "owned by another user namespace" "the line says why"
assert_eq "$(pin_ns 1001)" "" "the refused pin is removed (the rebuilt session closed last)"
kill "$evil" "$evil_pid" 2>/dev/null || true
release "$HOLD_PID"

# ------------------------------------------------- ssh and su share one view
sshd_write_pam_stack "session required $POLYNS_MODULE persist debug"
write_pam_service su <<EOF
auth     sufficient pam_rootok.so
auth     required   pam_deny.so
account  required   pam_unix.so
session  required   $POLYNS_MODULE persist debug
EOF
sshd_authorize alice bob
sshd_start
ssh_out=$POLYNS_TEST_ROOT/ssh1
{ ssh_run alice 'stat -L -c %i /proc/self/ns/mnt; exec sleep 300' >"$ssh_out" || true; } &
ssh_bg=$!
wait_for_file "$ssh_out"
ssh1_ns=$(head -1 "$ssh_out")
shell=$(pgrep -u alice -n -x sleep)
assert_eq "$(ns_inode "$shell")" "$ssh1_ns" "the shell of the first ssh session"
# An admin mounts something into alice's namespace from outside.
as_user alice mkdir -p /tmp/user_tmpl/alice/shared
nsenter -t "$shell" -m mount -t tmpfs -o size=1M admin-mount /tmp/shared
ssh2=$(ssh_run alice 'stat -L -c %i /proc/self/ns/mnt; grep -c " /tmp/shared .* admin-mount" /proc/self/mountinfo')
assert_eq "$(head -1 <<<"$ssh2")" "$ssh1_ns" "the second ssh session of alice joins the same namespace"
assert_eq "$(tail -1 <<<"$ssh2")" 1 "and sees the mount made in the first"
su_out=$(su alice -s /bin/sh -c 'stat -L -c %i /proc/self/ns/mnt; grep -c " /tmp/shared .* admin-mount" /proc/self/mountinfo')
assert_eq "$(head -1 <<<"$su_out")" "$ssh1_ns" "su alice joins it too"
assert_eq "$(tail -1 <<<"$su_out")" 1 "and sees the mount"
# su to bob inside alice's namespace: bob gets a namespace of his own and no
# pin is made inside alice's (it would live, and hold bob's, there).
# (bob's templates as alice's namespace shows them: inside her instances, as
# without unmnt_remnt; only the pinning matters here)
nsenter -t "$shell" -m install -d -o root -g root -m 0755 /tmp/user_tmpl /var/tmp/user_tmpl
nested=$(nsenter -t "$shell" -m su bob -s /bin/sh -c 'stat -L -c %i /proc/self/ns/mnt')
[[ $nested != "$ssh1_ns" ]] || fail "su bob inside alice's session gets bob a namespace of his own"
assert_eq "$(nsenter -t "$shell" -m awk -v d="$PINS" 'index($5, d "/")' /proc/self/mountinfo)" "" \
    "nothing was pinned inside alice's namespace"
pinned 1002 && fail "nor in the outer one for that nested session"
bob_ssh=$(ssh_run bob 'stat -L -c %i /proc/self/ns/mnt; grep -c admin-mount /proc/self/mountinfo || true')
[[ $(head -1 <<<"$bob_ssh") != "$ssh1_ns" ]] || fail "bob's ssh session never joins alice's namespace"
assert_eq "$(tail -1 <<<"$bob_ssh")" 0 "bob does not see alice's mount"
pkill -u alice -x sleep || true
wait "$ssh_bg" 2>/dev/null || true
for ((i = 0; i < 100; i++)); do pinned 1001 || break; sleep 0.05; done
pinned 1001 && fail "alice's last ssh logout removes the pin"

# ------- a mount the host makes after the pin reaches the joined sessions
# (the pinned namespace is a slave of the host's shared tree, as a
# per-session one is; systemd makes the host's / shared).
harness_make_shared
hold alice late
late_pid=$HOLD_PID
late_ns=$HOLD_NS
mkdir -p /home/late-probe
mount -t tmpfs -o size=1M late-host /home/late-probe
late=$(session alice sh -c 'stat -L -c %i /proc/self/ns/mnt; grep -c " /home/late-probe .* late-host" /proc/self/mountinfo || true')
assert_eq "$(head -1 <<<"$late")" "$late_ns" "a later session joins the pinned namespace"
assert_eq "$(tail -1 <<<"$late")" 1 "and sees a mount the host made after the pin (slave propagation)"
release "$late_pid"
umount /home/late-probe
rmdir /home/late-probe
for ((i = 0; i < 100; i++)); do pinned 1001 || break; sleep 0.05; done
pinned 1001 && fail "the last session's close removes the pin"

# ---------------------------------------------------- nothing reached the host
assert_eq "$(mount_ns)" "$host_ns" "the harness never changed namespace"
assert_eq "$(mount_table | grep -v "$PINS")" "$(grep -v "$PINS" <<<"$host_mounts")" \
    "no session mount in the outer mount table"
pass "persist: shared by ssh and su, refused when foreign or stale, removed at the last logout"
