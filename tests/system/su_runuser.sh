#!/bin/bash
# su and runuser inside a polyinstantiated session (issue 4, part 4).
#
# 1. alice's session opened through real libpam by the harness's driver (the
#    command runs as root in alice's namespace, as an admin inside her
#    session), then `su bob -c`, `su - bob -c`, `runuser -u bob --` and
#    `runuser -l bob -c` with `unmnt_remnt` in their stacks: each sees bob's
#    instance on /tmp and /var/tmp with alice's mounts undone (not stacked,
#    nothing created inside alice's instance); back in alice's shell /tmp is
#    still alice's. root, listed in the rule's user list, gets no instance.
# 2. alice's real ssh login running the setuid su herself: `su bob`,
#    `su - bob` as above; `su root` undoes alice's polyinstantiation (as
#    Linux-PAM does when the real uid is not excluded) and creates nothing.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
print_versions util-linux login libpam-modules
require_module
require_pam_session
source "$(dirname "$0")/lib/su_stack.sh"

add_user alice 1001
add_user bob 1002

write_user_tmpl_conf root
write_login_service
# Debian's su and runuser read su / su-l and runuser / runuser-l ("-" / -l).
# root needs no password (pam_rootok); everyone else is refused.
write_su_services pam_deny.so su su-l runuser runuser-l
harness_full_syslog_on_failure
write_probe

inner="
$probe alice-session
echo alice-secret >/tmp/alice-file
su bob -c '$probe su leak; echo su >/tmp/bob-su'
$probe after-su
su - bob -c '$probe su-l leak; echo su-l >/tmp/bob-su-l'
$probe after-su-l
runuser -u bob -- sh -c '$probe runuser leak; echo runuser >/tmp/bob-runuser'
$probe after-runuser
runuser -l bob -c '$probe runuser-l leak; echo runuser-l >/tmp/bob-runuser-l'
$probe after-runuser-l
su root -c '$probe su-root'
runuser -u root -- $probe runuser-root
$probe after-root
cat /tmp/alice-file
"
out=$(pam_session polyns-login alice -- bash -c "$inner" 2>&1) || fail "alice's session or a command in it failed: $out"
echo "$out" | sed 's/^/  | /'
# instance_for DIR USER: the instance directory USER owns under DIR.
instance_for() { find "$1" -mindepth 1 -maxdepth 1 -type d -user "$2" -print; }

alice_tmp_inst=$(instance_for /tmp/user_tmpl alice)
bob_tmp_inst=$(instance_for /tmp/user_tmpl bob)
alice_vartmp_inst=$(instance_for /var/tmp/user_tmpl alice)
bob_vartmp_inst=$(instance_for /var/tmp/user_tmpl bob)
[[ -n $alice_tmp_inst && -n $alice_vartmp_inst ]] || fail "alice has no instances"
# The template path /tmp/user_tmpl, looked up by path after alice's instance
# is mounted on /tmp, would lead into alice's own directory (Linux-PAM 1.5.2
# does exactly that: bob's instance ends up at
# /tmp/user_tmpl/<alice>/user_tmpl/<bob>, in space alice controls).
for inst in "$alice_tmp_inst" "$alice_vartmp_inst"; do
    [[ ! -e $inst/user_tmpl ]] || fail "bob's instance was created inside alice's instance $inst: $(ls -la "$inst/user_tmpl")"
done
pass "nothing was created inside alice's instances"
[[ -n $bob_tmp_inst && -n $bob_vartmp_inst ]] || fail "bob has no instances directly under the templates"
alice_tmp=$(stat -c %i "$alice_tmp_inst")
alice_vartmp=$(stat -c %i "$alice_vartmp_inst")
bob_tmp=$(stat -c %i "$bob_tmp_inst")
bob_vartmp=$(stat -c %i "$bob_vartmp_inst")
host_tmp_mounts=$(grep -c " /tmp " /proc/self/mountinfo)

assert_eq "$(field alice-session tmp)" "$alice_tmp" "alice's session has her /tmp instance $alice_tmp_inst"
assert_eq "$(field alice-session vartmp)" "$alice_vartmp" "alice's session has her /var/tmp instance"
assert_not_contains "$out" "LEAK-" "alice's /tmp file is invisible after every su/runuser to bob"

for how in su su-l runuser runuser-l; do
    assert_eq "$(field "$how" user)" bob "$how runs as bob"
    assert_eq "$(field "$how" tmp)" "$bob_tmp" "$how: /tmp is bob's instance $bob_tmp_inst"
    assert_eq "$(field "$how" vartmp)" "$bob_vartmp" "$how: /var/tmp is bob's instance"
    # unmnt_remnt undoes alice's bind mount before mounting bob's: one
    # instance on top of the harness's /tmp, not two stacked.
    assert_eq "$(field "$how" tmp_mounts)" "$((host_tmp_mounts + 1))" "$how: alice's mount was undone, not stacked under bob's"
    assert_eq "$(cat "$bob_tmp_inst/bob-$how")" "$how" "$how: bob's file landed in bob's instance"
    assert_eq "$(field "after-$how" tmp)" "$alice_tmp" "back in alice's shell after $how: /tmp is still alice's"
    assert_eq "$(field "after-$how" vartmp)" "$alice_vartmp" "back in alice's shell after $how: /var/tmp is still alice's"
done
assert_contains "$out" "alice-secret" "alice's file is still there at the end of her session"

# root is in the user list: its su/runuser sessions get no instance of their
# own; whatever /tmp root sees, it is neither a new instance nor bob's.
for how in su-root runuser-root; do
    assert_eq "$(field "$how" user)" root "$how runs as root"
    root_tmp=$(field "$how" tmp)
    [[ -n $root_tmp && $root_tmp != "$bob_tmp" ]] || fail "$how: root got bob's /tmp or none ($root_tmp)"
    case $root_tmp in
    "$alice_tmp") pass "$how: root is left alone (keeps the /tmp it had: alice's instance)" ;;
    "$(stat -c %i /tmp)") pass "$how: root is left alone (alice's polyinstantiation undone, the shared /tmp)" ;;
    *) fail "$how: root's /tmp (inode $root_tmp) is neither alice's instance nor the shared /tmp" ;;
    esac
done
assert_eq "$(field after-root tmp)" "$alice_tmp" "back in alice's shell after su/runuser to root: /tmp is still alice's"
for dir in /tmp/user_tmpl /var/tmp/user_tmpl; do
    assert_eq "$(find "$dir" -mindepth 1 -maxdepth 1 | wc -l)" 2 "$dir holds alice's and bob's instances only (none for root)"
    [[ -z $(find "$dir" -mindepth 1 -maxdepth 1 -user root) ]] || fail "$dir has a root-owned instance"
done
pass "no instance was created for root"

# ------------------------------------------ su from alice's own ssh login
# The everyday case: alice logs in over ssh and runs the setuid su herself
# (real uid alice, not root). pam_permit stands in for typing the target's
# password (this PAM config exists only in the throwaway namespace).
source "$(dirname "$0")/lib/sshd.sh"
write_su_services pam_permit.so su su-l
sshd_write_pam_stack "session required $MODULE_LINE"
sshd_authorize alice
ssh_login_su_commands
sshd_start
out=$(ssh_run alice "
$probe ssh-alice
su bob -c '$probe ssh-su leak'
$probe after-ssh-su
$su_l bob -c '$probe ssh-su-l leak'
$probe after-ssh-su-l
su root -c '$probe ssh-su-root'
$probe after-ssh-su-root
" 2>&1) || fail "alice's ssh session with su failed: $out"
if [[ -n ${POLYNS_TEST_PRELOAD:-} ]]; then
    # What let alice's setuid su load the ASan-built module at all.
    [[ $(ssh_run alice 'grep -c libasan /proc/self/maps' 2>&1) -gt 0 ]] ||
        fail "sanitizer run: ASan's runtime is not preloaded in alice's ssh session"
    pass "sanitizer run: alice's ssh session (and her setuid su) run with ASan's runtime from /etc/ld.so.preload"
fi
echo "$out" | sed 's/^/  ssh| /'
assert_eq "$(field ssh-alice tmp)" "$alice_tmp" "alice's ssh login has her instance"
assert_not_contains "$out" "LEAK-" "alice's file is invisible to bob after su from her login"
for how in ssh-su ssh-su-l; do
    assert_eq "$(field "$how" user)" bob "$how (run by alice) runs as bob"
    assert_eq "$(field "$how" tmp)" "$bob_tmp" "$how (run by alice): /tmp is bob's instance"
    assert_eq "$(field "$how" vartmp)" "$bob_vartmp" "$how (run by alice): /var/tmp is bob's instance"
    assert_eq "$(field "$how" tmp_mounts)" "$((host_tmp_mounts + 1))" "$how (run by alice): alice's mount undone, not stacked"
    assert_eq "$(field "after-$how" tmp)" "$alice_tmp" "back in alice's login shell after $how: /tmp is still alice's"
done
assert_eq "$(field ssh-su-root user)" root "su root from alice's login runs as root"
# root is excluded, alice (the real uid) is not: unmnt_remnt must still undo
# alice's polyinstantiation, as Linux-PAM does (it unmounts unless the real
# uid is excluded too). Otherwise root would work inside alice's 0700
# directory, where she controls every name and fs.protected_symlinks (sticky
# world-writable directories only) does not protect root from her symlinks.
assert_eq "$(field ssh-su-root tmp)" "$(stat -c %i /tmp)" \
    "su root from alice's login: root gets the shared /tmp, not alice's instance"
assert_eq "$(field ssh-su-root vartmp)" "$(stat -c %i /var/tmp)" \
    "su root from alice's login: root gets the shared /var/tmp, not alice's instance"
assert_eq "$(field after-ssh-su-root tmp)" "$alice_tmp" "back in alice's login shell after su root: /tmp is still alice's"
[[ -z $(find /tmp/user_tmpl /var/tmp/user_tmpl -mindepth 1 -maxdepth 1 -user root) ]] || fail "su root created a root instance"
pass "su root from alice's login: no instance for root"
