#!/bin/bash
# Issue 6, catalogue entry 5: another user squats the names a session needs
# in world-writable /tmp, live, while sessions open (lib/squatter.py, run as
# bob, plants and removes his own directories, symlinks to /etc, /root and
# /home/alice, FIFOs and files there in a tight loop).
#   A. The seed's /tmp/user_tmpl is missing (aged out, or not made yet): bob
#      squats it. Each session either fails closed (bob's object is there) or
#      runs with the template the module created (root:root 0000, which bob
#      cannot remove from sticky /tmp); nothing of bob's is used, chowned or
#      chmodded; nothing appears in /etc or /root.
#   B. An admin put instances straight into /tmp with ignore_instance_parent_mode
#      (`/var/tmp /tmp/vt- user`, the only way squatting an *instance* name
#      is possible: a proper template is root's 0755). bob squats alice's
#      instance name /tmp/vt-alice; the instance is removed between rounds so
#      the race goes on. Every session either fails closed or has alice's own
#      0700 directory made by the module on /var/tmp, never bob's object.
#   C. bob's squat on carol's instance name: carol is refused, bob's
#      directory is left as it was.
#   D. ignore_instance_parent_mode with a group-writable template: a group
#      member exchanges alice's new instance, as it is made, with bob's:
#      bob's instance is never given to alice.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
require_module
add_standard_users
add_user carol 1003
use_module

work=$POLYNS_TEST_ROOT/attack-squat
mkdir -p "$work" && chmod 0755 "$work"
install -m 0755 "$POLYNS_SOURCE_DIR/tests/system/lib/squatter.py" "$work/squatter.py"
export POLYNS_PAM_SESSION MODULE_SERVICE work

start_squatter() { # PATH...
    rm -f "$work/stop"
    setpriv --reuid=bob --regid=bob --clear-groups -- python3 "$work/squatter.py" "$work/stop" "$@" \
        >"$work/planted" 2>&1 &
    squatter_pid=$!
    sleep 0.2
}
stop_squatter() {
    touch "$work/stop"
    wait "$squatter_pid" || fail "the squatter failed: $(cat "$work/planted")"
    (($(cat "$work/planted") > 0)) || fail "the squatter never planted anything"
    echo "bob planted $(cat "$work/planted") objects"
}

# storm DIR COUNT USER CMD: COUNT sessions of USER, 4 at a time, each running
# CMD (a sh -c string); DIR/N.rc and DIR/N.out get the results.
storm() {
    local dir=$1 count=$2 user=$3
    mkdir -p "$dir"
    export storm_cmd=$4 storm_user=$user storm_dir=$dir
    seq "$count" | xargs -P 4 -I{} sh -c '
        "$POLYNS_PAM_SESSION" "$MODULE_SERVICE" "$storm_user" -- sh -c "$storm_cmd" >"$storm_dir/{}.out" 2>&1
        echo $? >"$storm_dir/{}.rc"'
}
count_rc() { { grep -lx "$2" "$1"/*.rc 2>/dev/null || true; } | wc -l; }

# ------------------------------------------- A. the template is squatted
make_template /var/tmp/real_tmpl  # a good template a symlink could point at
write_conf <<'EOF'
/tmp /tmp/user_tmpl/ user
EOF
before=$(tree_snapshot)
mounts=$(mount_table)
host_before=$(host_mount_points)
syslog_clear
start_squatter /tmp/user_tmpl /tmp/user_tmpl.alice
storm "$work/a" 200 alice "echo INSIDE"
stop_squatter
# A missing template is created by the module (root:root 0000, as
# pam_namespace.so does) when its mkdirat wins; from then on bob cannot
# remove it (sticky /tmp) and sessions run. Before, a session finds bob's
# object there and fails closed. Never is bob's object used.
ok=$(count_rc "$work/a" 0)
refused=$(count_rc "$work/a" 2)
assert_eq "$((ok + refused))" 200 "5A. each of the 200 sessions ran with the module's template or failed closed ($ok ran, $refused refused)"
assert_eq "$({ grep -l INSIDE "$work"/a/*.out || true; } | wc -l)" "$ok" "5A. a command ran exactly in the sessions that opened"
syslog_settle
errors=$(polyns_log err)
assert_eq "$(count_lines "$errors")" "$refused" "5A. one LOG_ERR line per refused session"
assert_eq "$(printf '%s\n' "$errors" | grep -v '^$' | grep -vc '/tmp/user_tmpl' || true)" 0 "5A. every LOG_ERR line names /tmp/user_tmpl"
echo "why (count, cause):"
printf '%s\n' "$errors" | sed -E 's/.*cannot //; s/ \(fix:.*//' | sort | uniq -c | sort -rn
changes=$(tree_changes "$before")
if ((ok > 0)); then
    assert_eq "$(stat -c '%U:%G %a' /tmp/user_tmpl)" "root:root 0" "5A. the template the sessions used is the module's (root:root 0000)"
    assert_eq "$(stat -c '%U:%G %a' /tmp/user_tmpl/alice)" "alice:alice 700" "5A. alice's instance in it"
    assert_eq "$(grep -v -e '^+ /tmp/user_tmpl root root 0 d ' -e '^+ /tmp/user_tmpl/alice alice alice 700 d ' <<<"$changes" | grep -c . || true)" 0 \
        "5A. nothing else created, chowned, chmodded or deleted: $changes"
else
    assert_eq "$changes" "" "5A. nothing created, chowned, chmodded or deleted (bob's objects gone with him)"
fi
assert_eq "$(mount_table)" "$mounts" "5A. no mount left in the harness namespace"
assert_eq "$(host_mount_points)" "$host_before" "5A. the host's mount table is unchanged"
[[ ! -e /etc/alice && ! -e /root/alice && ! -e /home/alice/alice && ! -e /var/tmp/real_tmpl/alice ]] ||
    fail "5A. an instance was created through bob's symlink"
rm -rf /tmp/user_tmpl  # the module's template of 5A, with alice's instance
pass "5A. a squatted template is never used"

# ------------------------------- B. instance names squatted in a 1777 parent
use_module ignore_instance_parent_mode
write_conf <<'EOF'
/var/tmp /tmp/vt- user
EOF
before=$(tree_snapshot)
syslog_clear
start_squatter /tmp/vt-alice
for round in $(seq 10); do
    rm -rf /tmp/vt-alice  # root: the module's instance, or bob's object
    storm "$work/b$round" 10 alice 'stat -c "owner=%U:%G:%a" /var/tmp; ls -A /var/tmp
        awk '\''$5 == "/var/tmp" {print "root=" $4}'\'' /proc/self/mountinfo'
done
stop_squatter
opened=0 refused=0
for rc_file in "$work"/b*/*.rc; do
    out=${rc_file%.rc}.out
    case $(cat "$rc_file") in
    0)
        opened=$((opened + 1))
        grep -qx 'owner=alice:alice:700' "$out" || fail "5B. /var/tmp is not alice's 0700 instance: $(cat "$out")"
        grep -qx 'root=/vt-alice' "$out" || fail "5B. /var/tmp is not /tmp/vt-alice: $(cat "$out")"
        ! grep -qx SQUAT "$out" || fail "5B. bob's squatted directory was mounted: $(cat "$out")"
        ;;
    2) refused=$((refused + 1)) ;;
    *) fail "5B. a session ended with $(cat "$rc_file"): $(cat "$out")" ;;
    esac
done
echo "5B. opened $opened, refused $refused"
for d in "$work"/b*; do echo "round ${d##*/b}: exit statuses $(cat "$d"/*.rc | tr -d "\n")"; done
((opened > 0)) || fail "5B. no session opened (the test proves nothing)"
syslog_settle
errors=$(polyns_log err)
assert_eq "$(count_lines "$errors")" "$refused" "5B. one LOG_ERR line per refused session"
printf '%s\n' "$errors" | sed -E 's/.*cannot //; s/ \(fix:.*//; s/[0-9]{4}:[0-9]{4}/UID:GID/' | sort | uniq -c | sort -rn
# Whatever is left at /tmp/vt-alice is the module's instance (bob cannot
# remove it from sticky /tmp) or nothing; never bob's object given to alice.
if [[ -e /tmp/vt-alice || -L /tmp/vt-alice ]]; then
    assert_eq "$(stat -c '%U:%G %a %F' /tmp/vt-alice)" "alice:alice 700 directory" "5B. /tmp/vt-alice is alice's instance"
    [[ ! -e /tmp/vt-alice/SQUAT ]] || fail "5B. bob's squat was chowned to alice"
fi
assert_eq "$(find /tmp /var/tmp /home /etc /root -xdev -user alice ! -path '/home/alice*' ! -path /tmp/vt-alice)" "" \
    "5B. nothing else belongs to alice"
changes=$(tree_changes "$before" | grep -Ev '^\+ /tmp/vt-alice alice alice 700 d [0-9]+$' || true)
assert_eq "$changes" "" "5B. nothing else created, chowned, chmodded or deleted"
pass "5B. squatted instance names: refused or alice's own instance, never bob's object"

# ------------------------------------- C. another user's name, left squatted
as_user bob mkdir -m 0700 /tmp/vt-carol
as_user bob touch /tmp/vt-carol/SQUAT
ATTACK_USER=carol expect_refused "5C. carol's instance squatted by bob" -- /tmp/vt-carol "1002:1002" "1003:1003"
as_user bob rm -rf /tmp/vt-carol
as_user bob ln -s /etc /tmp/vt-carol
ATTACK_USER=carol expect_refused "5C. carol's instance is bob's symlink to /etc" -- /tmp/vt-carol symlink
rm /tmp/vt-carol
# ------------- D. a group-writable template (ignore_instance_parent_mode)
# The admin lets group polyteam write the template (0775 root:polyteam).
# carol, in polyteam, exchanges the name of alice's instance, the moment the
# module has made it, with bob's instance: only the directory the module
# just made (root-owned, mode 0) may be given to alice, never bob's.
add_user carol2 1004 polyteam
install -d -o root -g polyteam -m 0775 /var/tmp/grp
write_conf <<'EOF'
/tmp /var/tmp/grp/ user
EOF
use_module ignore_instance_parent_mode
ATTACK_USER=bob expect_opened "5D. bob's instance" /tmp
echo bobs >/var/tmp/grp/bob/secret && chown bob:bob /var/tmp/grp/bob/secret
inode_bob=$(stat -c %i /var/tmp/grp/bob)
install -m 0755 "$POLYNS_SOURCE_DIR/tests/system/lib/create_racer.py" "$work/create_racer.py"
install -d -m 0777 "$work/ready"
syslog_clear
for round in $(seq "${SQUAT_GROUP_ROUNDS:-200}"); do
    rm -f "$work/ready/go"
    setpriv --reuid=carol2 --regid=carol2 --init-groups -- \
        python3 "$work/create_racer.py" /var/tmp/grp/alice /var/tmp/grp/bob "$work/ready/go" >/dev/null &
    racer=$!
    while [[ ! -e $work/ready/go ]]; do :; done
    "$POLYNS_PAM_SESSION" "$MODULE_SERVICE" alice -- true >/dev/null 2>&1 || true
    wait "$racer"
    now=$(find /var/tmp/grp -mindepth 1 -maxdepth 1 -inum "$inode_bob" -printf '%f\n')
    [[ $(stat -c '%U:%G %a' "/var/tmp/grp/$now") == "bob:bob 700" ]] ||
        fail "5D. round $round: bob's instance (now /var/tmp/grp/$now) was given away: $(stat -c '%U:%G %a' "/var/tmp/grp/$now")"
    [[ $now == bob ]] || mv -T "/var/tmp/grp/$now" /var/tmp/grp/bob.back
    rm -rf /var/tmp/grp/alice
    [[ ! -e /var/tmp/grp/bob.back ]] || mv -T /var/tmp/grp/bob.back /var/tmp/grp/bob
done
syslog_settle
echo "5D. $(polyns_log err | grep -c 'replaced' || true) sessions refused a swapped-in instance"
assert_eq "$(cat /var/tmp/grp/bob/secret)" bobs "5D. bob's files are his"
pass "5D. a group member swapping instances in a group-writable template never gets one given away"
use_module
pass "5. squatting in /tmp: refused or correct, never mounted or chowned elsewhere"
