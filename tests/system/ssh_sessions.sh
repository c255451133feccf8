#!/bin/bash
# OpenSSH end to end (issue 4, part 2): Debian's sshd on 127.0.0.1 with
# "session required pam_polyns.so" in its PAM stack, the real ssh client.
#  - alice and bob each get a private /tmp and /var/tmp; alice's file is
#    invisible to bob and to the harness's own /tmp; `mount | grep " /tmp "`
#    inside the session shows the bind mount;
#  - two concurrent sessions of alice share one instance (same inode);
#  - the session mounts never show in sshd's own mount namespace;
#  - 20 logins in parallel (10 users x 2) all succeed, each in its user's
#    own instance.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/sshd.sh"
harness_enter "$@"
print_versions openssh-server openssh-client libpam-modules
require_module

USERS=(alice bob carol dave erin frank grace heidi ivan judy)
uid=2001
for user in "${USERS[@]}"; do
    add_user "$user" "$uid"
    uid=$((uid + 1))
done

for dir in /tmp/user_tmpl /var/tmp/user_tmpl; do
    install -d -o root -g root -m 0755 "$dir"
done
cat >/etc/security/namespace.conf <<'EOF'
/tmp     /tmp/user_tmpl/     user root
/var/tmp /var/tmp/user_tmpl/ user root
EOF
chmod 0644 /etc/security/namespace.conf

sshd_write_pam_stack "session required $POLYNS_MODULE ${POLYNS_TEST_MODULE_ARGS:-}"
sshd_authorize "${USERS[@]}"
sshd_start
echo "sshd pid $SSHD_PID listening on 127.0.0.1:$SSHD_PORT"

# On failure, show what sshd and the module said.
show_logs() {
    echo "--- sshd log:" >&2
    sed 's/^/  /' "$SSHD_LOG" >&2
    echo "--- syslog:" >&2
    syslog_lines | sed 's/^/  /' >&2
}
harness_on_exit '[[ $status == 0 ]] || show_logs'

# mountinfo entries whose mount point is /tmp or /var/tmp, or whose source
# root is an instance (field 4: root of the mount within its filesystem).
session_mounts() { awk '$5 == "/tmp" || $5 == "/var/tmp" || $4 ~ /user_tmpl/' "$1"; }

sshd_ns=$(readlink "/proc/$SSHD_PID/ns/mnt")
sshd_mounts_before=$(session_mounts "/proc/$SSHD_PID/mountinfo")
host_tmp_mounts=$(mount | grep -c " /tmp " || true)

# instance_of DIR INODE: the instance directory under DIR's template with that
# inode (the harness side of a session's /tmp), or nothing.
instance_of() { find "$1" -mindepth 1 -maxdepth 1 -type d -inum "$2" -print -quit; }

# ------------------------------------------------------------ alice and bob
out=$(ssh_run alice '
    echo "user=$(id -un)"
    echo "ns=$(readlink /proc/self/ns/mnt)"
    echo "tmp=$(stat -c %i /tmp) vartmp=$(stat -c %i /var/tmp)"
    echo "mounts=$(mount | grep -c " /tmp ")"
    mount | grep " /tmp " | sed "s/^/mount: /"
    grep -E " /(var/)?tmp " /proc/self/mountinfo | sed "s/^/mountinfo: /"
    echo alice-secret >/tmp/alice-file && echo alice-secret >/var/tmp/alice-file && echo wrote
') || fail "alice's ssh login failed (status $?): $out"
echo "$out" | sed 's/^/  alice| /'
assert_contains "$out" "user=alice" "alice logs in over ssh"
assert_contains "$out" "wrote" "alice writes to her /tmp and /var/tmp"
alice_ns=$(sed -n 's/^ns=//p' <<<"$out")
[[ $alice_ns != "$sshd_ns" ]] || fail "alice's session runs in sshd's mount namespace"
pass "alice's session has its own mount namespace ($alice_ns, sshd: $sshd_ns)"

alice_tmp=$(sed -n 's/^tmp=\([0-9]*\) .*/\1/p' <<<"$out")
alice_vartmp=$(sed -n 's/.*vartmp=\([0-9]*\)$/\1/p' <<<"$out")
alice_tmp_inst=$(instance_of /tmp/user_tmpl "$alice_tmp")
alice_vartmp_inst=$(instance_of /var/tmp/user_tmpl "$alice_vartmp")
[[ -n $alice_tmp_inst ]] || fail "alice's /tmp (inode $alice_tmp) is no instance under /tmp/user_tmpl"
[[ -n $alice_vartmp_inst ]] || fail "alice's /var/tmp (inode $alice_vartmp) is no instance under /var/tmp/user_tmpl"
assert_eq "$(stat -c %U "$alice_tmp_inst")" alice "alice's /tmp is her instance $alice_tmp_inst"
assert_eq "$(stat -c %U "$alice_vartmp_inst")" alice "alice's /var/tmp is her instance $alice_vartmp_inst"
session_tmp_mounts=$(sed -n 's/^mounts=//p' <<<"$out")
((session_tmp_mounts > host_tmp_mounts)) ||
    fail "mount | grep \" /tmp \" shows $session_tmp_mounts line(s) in the session, $host_tmp_mounts outside: no bind mount"
pass "mount | grep \" /tmp \" in alice's session shows the bind mount on top ($session_tmp_mounts lines, $host_tmp_mounts outside)"
grep -qE "^mountinfo: .* /user_tmpl/[^ ]* /tmp " <<<"$out" ||
    fail "alice's mountinfo has no instance mounted on /tmp"
pass "alice's mountinfo: an instance under user_tmpl is mounted on /tmp"

out=$(ssh_run bob '
    echo "user=$(id -un)"
    echo "tmp=$(stat -c %i /tmp) vartmp=$(stat -c %i /var/tmp)"
    for f in /tmp/alice-file /var/tmp/alice-file; do [ -e $f ] && echo "sees $f"; done
    echo bob-secret >/tmp/bob-file && echo wrote
') || fail "bob's ssh login failed (status $?): $out"
echo "$out" | sed 's/^/  bob  | /'
assert_contains "$out" "user=bob" "bob logs in over ssh"
assert_not_contains "$out" "sees " "alice's files are invisible to bob"
assert_contains "$out" "wrote" "bob writes to his /tmp"
bob_tmp=$(sed -n 's/^tmp=\([0-9]*\) .*/\1/p' <<<"$out")
bob_vartmp=$(sed -n 's/.*vartmp=\([0-9]*\)$/\1/p' <<<"$out")
[[ $bob_tmp != "$alice_tmp" && $bob_vartmp != "$alice_vartmp" ]] ||
    fail "bob and alice share an instance (tmp $bob_tmp/$alice_tmp, var/tmp $bob_vartmp/$alice_vartmp)"
bob_tmp_inst=$(instance_of /tmp/user_tmpl "$bob_tmp")
[[ -n $bob_tmp_inst ]] || fail "bob's /tmp (inode $bob_tmp) is no instance under /tmp/user_tmpl"
assert_eq "$(stat -c %U "$bob_tmp_inst")" bob "bob's /tmp is his own instance $bob_tmp_inst"

for f in /tmp/alice-file /var/tmp/alice-file /tmp/bob-file; do
    [[ ! -e $f ]] || fail "$f is visible in the harness's (host-side) $(dirname "$f")"
done
pass "alice's and bob's files are invisible in the host-side /tmp and /var/tmp"
assert_eq "$(cat "$alice_tmp_inst/alice-file")" alice-secret "alice's file lives in her instance"

out=$(ssh_run alice 'cat /tmp/alice-file /var/tmp/alice-file; [ -e /tmp/bob-file ] && echo "sees bob-file"; true') ||
    fail "alice's second login failed: $out"
assert_eq "$out" $'alice-secret\nalice-secret' "alice finds her files again at her next login, and not bob's"

# ---------------------------------------------- two concurrent alice sessions
# Each session announces itself in /tmp and waits (bounded) for the test to
# release it; while both are alive we look at sshd's mount table.
concurrent_session() { # NAME
    ssh_run alice "
        echo tmp=\$(stat -c %i /tmp)
        : >/tmp/$1-up
        i=0
        until [ -e /tmp/release ]; do
            i=\$((i + 1)); [ \$i -gt 300 ] && { echo timeout; exit 3; }
            sleep 0.05
        done
        for s in A B; do [ -e /tmp/\$s-up ] && echo saw-\$s; done
        true"
}
concurrent_session A >"$POLYNS_TEST_ROOT/A.out" 2>&1 &
pid_a=$!
concurrent_session B >"$POLYNS_TEST_ROOT/B.out" 2>&1 &
pid_b=$!
for ((i = 0; i < 300; i++)); do
    [[ -e $alice_tmp_inst/A-up && -e $alice_tmp_inst/B-up ]] && break
    sleep 0.05
done
[[ -e $alice_tmp_inst/A-up && -e $alice_tmp_inst/B-up ]] ||
    fail "the two concurrent sessions did not both come up in alice's instance: $(cat "$POLYNS_TEST_ROOT"/[AB].out)"
pass "two concurrent sessions of alice are up, both in instance $alice_tmp_inst"

# Both sessions are alive now. Their shells see the instance mounts...
shell_pids=$(pgrep -u alice -x sh || true)
[[ -n $shell_pids ]] || fail "no shell of alice's sessions found"
for pid in $shell_pids; do
    grep -q "/user_tmpl/[^ ]* /tmp " "/proc/$pid/mountinfo" ||
        fail "alice's session shell $pid does not have the instance on /tmp"
    [[ $(readlink "/proc/$pid/ns/mnt") != "$sshd_ns" ]] || fail "alice's shell $pid is in sshd's namespace"
done
pass "alice's live session shells ($(tr '\n' ' ' <<<"$shell_pids")) have the instance mounted"
# ... and sshd's own namespace does not.
assert_eq "$(session_mounts "/proc/$SSHD_PID/mountinfo")" "$sshd_mounts_before" \
    "sshd's own mount table has no session mount while sessions are open"
assert_eq "$(readlink "/proc/$SSHD_PID/ns/mnt")" "$sshd_ns" "sshd stays in its namespace"

: >"$alice_tmp_inst/release"
wait "$pid_a" || fail "concurrent session A failed: $(cat "$POLYNS_TEST_ROOT/A.out")"
wait "$pid_b" || fail "concurrent session B failed: $(cat "$POLYNS_TEST_ROOT/B.out")"
a_out=$(cat "$POLYNS_TEST_ROOT/A.out")
b_out=$(cat "$POLYNS_TEST_ROOT/B.out")
assert_eq "$(sed -n 's/^tmp=//p' <<<"$a_out")" "$alice_tmp" "concurrent session A has alice's instance (inode $alice_tmp)"
assert_eq "$(sed -n 's/^tmp=//p' <<<"$b_out")" "$alice_tmp" "concurrent session B has the same instance (inode $alice_tmp)"
assert_contains "$a_out" $'saw-A\nsaw-B' "session A sees what session B wrote"
assert_contains "$b_out" $'saw-A\nsaw-B' "session B sees what session A wrote"

# ------------------------------------------------- 20 logins in parallel
par_dir=$POLYNS_TEST_ROOT/parallel
mkdir -p "$par_dir"
start_ns=$(date +%s%N)
pids=()
for user in "${USERS[@]}"; do
    for n in 1 2; do
        ssh_run "$user" '
            echo "user=$(id -un) tmp=$(stat -c %i /tmp) vartmp=$(stat -c %i /var/tmp)"
            : >"/tmp/mark-$(id -un)-$$"
            ls /tmp | sed "s/^/ls: /"' >"$par_dir/$user.$n" 2>&1 &
        pids+=($!)
    done
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
if ((failed)); then
    head -n 5 "$par_dir"/* >&2
    fail "$failed of 20 parallel logins failed"
fi
pass "20 parallel logins (10 users x 2) all succeeded in ${elapsed_ms} ms"

declare -A inode_owner=()
for user in "${USERS[@]}"; do
    l1=$(grep '^user=' "$par_dir/$user.1")
    l2=$(grep '^user=' "$par_dir/$user.2")
    [[ $l1 == "user=$user "* ]] || fail "parallel login as $user ran as: $l1"
    t1=$(sed 's/.* tmp=\([0-9]*\) .*/\1/' <<<"$l1")
    t2=$(sed 's/.* tmp=\([0-9]*\) .*/\1/' <<<"$l2")
    [[ $t1 == "$t2" ]] || fail "the two parallel sessions of $user got different /tmp instances ($t1, $t2)"
    [[ -z ${inode_owner[$t1]:-} ]] || fail "$user and ${inode_owner[$t1]} share /tmp instance inode $t1"
    inode_owner[$t1]=$user
    inst=$(instance_of /tmp/user_tmpl "$t1")
    [[ -n $inst && $(stat -c %U "$inst") == "$user" ]] || fail "$user's /tmp (inode $t1) is not an instance owned by $user"
    if grep '^ls: mark-' "$par_dir/$user".[12] | grep -v "mark-$user-" >&2; then
        fail "$user's /tmp shows another user's files"
    fi
done
pass "each user's two parallel sessions share one instance; the 10 instances are distinct and private"

assert_eq "$(session_mounts "/proc/$SSHD_PID/mountinfo")" "$sshd_mounts_before" \
    "after all logins sshd's own mount table still has no session mount"
assert_eq "$(mount | grep -c " /tmp " || true)" "$host_tmp_mounts" "the harness's mount table is unchanged"
