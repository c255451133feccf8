#!/bin/bash
# Nested sessions (issue 13, item 5): su -, su - other, sudo -i and runuser -l
# from inside a session, with the pam-auth-update profile's stack only (the
# module in common-session and common-session-noninteractive, *no*
# unmnt_remnt anywhere) plus, in su, the extra line with unmnt_remnt an admin
# adds following older advice: the module then runs twice in su's stack.
#
# 1. root inside alice's session (the driver) runs `su - carol`: the report
#    that started the item (template under alice's /tmp: ENOENT).
# 2. alice's real ssh login: su - bob, su - (root excluded: the shared /tmp),
#    sudo -i (root), sudo -i -u bob, sudo runuser -l bob (nested twice);
#    each sees the new user's instance with alice's mounts detached (not
#    stacked), nothing is created inside alice's instance, and alice's /tmp
#    is back after each exit.
# 3. the same with root not excluded: su - and sudo -i give root its own
#    instance.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
require_module
require_pam_session
source "$(dirname "$0")/lib/sshd.sh"
source "$(dirname "$0")/lib/su_stack.sh"

add_user alice 1001
add_user bob 1002
add_user carol 1003

write_user_tmpl_conf root
# What pam-auth-update writes from conf/pam-configs/polyns.
write_common_session
# Debian's su, su-l, runuser, runuser-l, sudo and sudo-i, with pam_permit in
# place of typing the target's password. su also has the admin's extra line.
write_pam_service su <<EOF
auth     sufficient pam_rootok.so
auth     required   pam_permit.so
account  required   pam_unix.so
session  required   $MODULE_LINE unmnt_remnt
session  include    common-session
EOF
write_pam_service su-l <<EOF
auth     include su
account  include su
session  optional pam_keyinit.so force revoke
session  include su
EOF
for service in runuser runuser-l; do
    write_pam_service "$service" <<EOF
auth     sufficient pam_rootok.so
session  optional   pam_keyinit.so force revoke
session  include    common-session
EOF
done
for service in sudo sudo-i; do
    session=common-session
    [[ $service == sudo ]] && session=common-session-noninteractive
    write_pam_service "$service" <<EOF
auth     required pam_permit.so
account  required pam_unix.so
session  required pam_limits.so
session  include  $session
EOF
done
# alice may sudo anything without a password, in this namespace only.
sudo_available=false
if command -v sudo >/dev/null && [[ -f /etc/sudoers ]]; then
    printf 'Defaults !lecture\nroot ALL=(ALL:ALL) ALL\nalice ALL=(ALL:ALL) NOPASSWD: ALL\n' >"$POLYNS_TEST_ROOT/sudoers"
    chown 0:0 "$POLYNS_TEST_ROOT/sudoers"
    chmod 0440 "$POLYNS_TEST_ROOT/sudoers"
    mount --bind "$POLYNS_TEST_ROOT/sudoers" /etc/sudoers
    sudo_available=true
fi
harness_full_syslog_on_failure
write_probe

instance_ino() { stat -c %i "$1/user_tmpl/$(id -u "$2")"; }
host_tmp=$(stat -c %i /tmp)
host_vartmp=$(stat -c %i /var/tmp)
host_tmp_mounts=$(grep -c " /tmp " /proc/self/mountinfo)

# expect LABEL USER TMP_INODE VARTMP_INODE MOUNTS WHAT
expect() {
    assert_eq "$(field "$1" user)" "$2" "$6: runs as $2"
    assert_eq "$(field "$1" tmp)" "$3" "$6: /tmp is right for $2"
    assert_eq "$(field "$1" vartmp)" "$4" "$6: /var/tmp is right for $2"
    assert_eq "$(field "$1" tmp_mounts)" "$5" "$6: alice's mount detached, not stacked"
}

# ------------------------------------ 1. root in alice's session: su - carol
out=$(pam_session common-session alice -- bash -c "
$probe alice
echo alice-secret >/tmp/alice-file
su - carol -c '$probe su-l-carol leak'
$probe after
" 2>&1) || fail "su - carol inside alice's session failed: $out"
echo "$out" | sed 's/^/  | /'
alice_tmp=$(instance_ino /tmp alice)
alice_vartmp=$(instance_ino /var/tmp alice)
# (the driver runs the command as root, in alice's namespace)
expect alice root "$alice_tmp" "$alice_vartmp" $((host_tmp_mounts + 1)) "root in alice's session"
expect su-l-carol carol "$(instance_ino /tmp carol)" "$(instance_ino /var/tmp carol)" $((host_tmp_mounts + 1)) \
    "su - carol by root inside alice's session"
assert_not_contains "$out" LEAK- "carol does not see alice's /tmp"
assert_eq "$(field after tmp)" "$alice_tmp" "back in alice's session after su - carol: her /tmp"
[[ ! -e /tmp/user_tmpl/$(id -u alice)/user_tmpl ]] || fail "something was created inside alice's instance"
pass "nothing was created inside alice's instance"
wait_for_syslog "already set up by an earlier pam_polyns line of this stack" && assert_contains "$(syslog_lines)" "already set up by an earlier pam_polyns line of this stack" \
    "su's second pam_polyns line (the admin's unmnt_remnt) did nothing, harmlessly"
[[ -z $(syslog_lines 'polyns.*(failed|error)') ]] || fail "a session logged an error: $(syslog_lines 'polyns.*(failed|error)')"
pass "no session logged an error"

# ------------------------------------------ 2. alice's ssh login, root excluded
sshd_write_pam_stack "session include common-session"
sshd_authorize alice
ssh_login_su_commands
sshd_start

run_nested() { # LABEL-PREFIX
    local sudo_part=""
    if $sudo_available; then
        sudo_part="
$sudo_i $probe $1-sudo-i leak
$probe $1-after-sudo-i
$sudo_i -u bob $probe $1-sudo-i-bob leak
$probe $1-after-sudo-i-bob
$sudo_runuser_l bob -c '$probe $1-runuser-l-bob leak'
$probe $1-after-runuser-l-bob"
    fi
    ssh_run alice "
$probe $1-alice
echo alice-secret >/tmp/alice-file
$su_l bob -c '$probe $1-su-l-bob leak'
$probe $1-after-su-l-bob
$su_l -c '$probe $1-su-l-root leak'
$probe $1-after-su-l-root
$sudo_part
" 2>&1
}

out=$(run_nested x) || fail "alice's ssh login with nested sessions failed: $out"
echo "$out" | sed 's/^/  ssh| /'
bob_tmp=$(instance_ino /tmp bob)
bob_vartmp=$(instance_ino /var/tmp bob)
one=$((host_tmp_mounts + 1))
assert_not_contains "$out" LEAK- "nobody nested in alice's login sees her /tmp"
expect x-alice alice "$alice_tmp" "$alice_vartmp" "$one" "alice's ssh login"
expect x-su-l-bob bob "$bob_tmp" "$bob_vartmp" "$one" "su - bob from alice's login"
expect x-su-l-root root "$host_tmp" "$host_vartmp" "$host_tmp_mounts" "su - (root excluded) from alice's login"
checks=(su-l-bob su-l-root)
if $sudo_available; then
    expect x-sudo-i root "$host_tmp" "$host_vartmp" "$host_tmp_mounts" "sudo -i (root excluded) from alice's login"
    expect x-sudo-i-bob bob "$bob_tmp" "$bob_vartmp" "$one" "sudo -i -u bob from alice's login"
    # sudo (common-session-noninteractive) leaves alice's view for root's,
    # then runuser -l bob leaves root's for bob's: nested twice.
    expect x-runuser-l-bob bob "$bob_tmp" "$bob_vartmp" "$one" "sudo runuser -l bob from alice's login"
    checks+=(sudo-i sudo-i-bob runuser-l-bob)
else
    skip_note="sudo is not installed: sudo -i not run"
    echo "NOTE: $skip_note"
fi
for how in "${checks[@]}"; do
    assert_eq "$(field "x-after-$how" tmp)" "$alice_tmp" "back in alice's login after $how: her /tmp"
    assert_eq "$(field "x-after-$how" vartmp)" "$alice_vartmp" "back in alice's login after $how: her /var/tmp"
done
[[ -z $(find /tmp/user_tmpl /var/tmp/user_tmpl -mindepth 1 -maxdepth 1 -user root) ]] ||
    fail "an instance was created for the excluded root"
pass "no instance for the excluded root"

# ------------------------------------------ 3. root not excluded
write_user_tmpl_conf
out=$(run_nested y) || fail "alice's ssh login with nested sessions (root included) failed: $out"
echo "$out" | sed 's/^/  ssh| /'
root_tmp=$(instance_ino /tmp root)
root_vartmp=$(instance_ino /var/tmp root)
expect y-su-l-root root "$root_tmp" "$root_vartmp" "$one" "su - (root not excluded) from alice's login"
expect y-su-l-bob bob "$bob_tmp" "$bob_vartmp" "$one" "su - bob (root not excluded)"
if $sudo_available; then
    expect y-sudo-i root "$root_tmp" "$root_vartmp" "$one" "sudo -i (root not excluded)"
    expect y-runuser-l-bob bob "$bob_tmp" "$bob_vartmp" "$one" "sudo runuser -l bob (root not excluded)"
fi
assert_not_contains "$out" LEAK- "nobody nested in alice's login sees her /tmp (root not excluded)"
assert_eq "$(field y-after-su-l-root tmp)" "$alice_tmp" "back in alice's login after su -: her /tmp"
[[ -z $(syslog_lines 'polyns.*(failed|error)') ]] || fail "a session logged an error: $(syslog_lines 'polyns.*(failed|error)')"
pass "no nested session logged an error"
