#!/bin/bash
# Runs inside the fresh chroot of deb_package.sh, which holds the built
# packages in /debs and this tree (read-only) in /polyns-src. Inside the
# system tests' harness (a private world within the throwaway chroot):
# install; README.Debian's three steps with the seed's A3 commands; the
# seed's A6 done the Debian way (pam-auth-update) and its A7 through real
# ssh logins over Debian's own /etc/pam.d/sshd, with the INSTALLED module;
# su -l through common-session; sudo -u through common-session-
# noninteractive; polyns audit on the stock stacks (sshd, login, su,
# systemd-user); the upgrade check; disable; remove; purge.
# First a user squats /tmp/user_tmpl: the install must not adopt it, and
# README.Debian's mkdir -m 0755 must refuse it.
source /polyns-src/tests/system/lib/harness.sh
source /polyns-src/tests/system/lib/sshd.sh
source /polyns-src/tests/system/lib/seed_procedure.sh
# The chroot's / is a throwaway tmpfs, and dpkg -i installs into it (/usr,
# /var/lib/dpkg): the harness leaves it writable (elsewhere it makes the
# host's filesystems read-only).
export POLYNS_HARNESS_ROOT=writable
harness_enter "$@"
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n=== [%3ss] %s\n' "$(($(date +%s) - ${PKG_T0:-$(date +%s)}))" "$*"; }
saved=$POLYNS_TEST_ROOT/saved
mkdir -p "$saved"
cp -a /etc/pam.d/common-session /etc/pam.d/common-session-noninteractive "$saved/"
verify_baseline=$(dpkg --verify libpam-modules libpam-runtime 2>&1 || true)

step "a user squats the template before the install"
add_user mallory 1066
install -d -o mallory -g mallory -m 0777 /tmp/user_tmpl /tmp/user_tmpl/1001

step "install polyns, then libpam-polyns (it pre-depends on polyns)"
dpkg -i /debs/polyns_*.deb
dpkg -i /debs/libpam-polyns_*.deb
POLYNS_MODULE=$(dpkg -L libpam-polyns | grep '/pam_polyns\.so$')
POLYNS_CLI=/usr/sbin/polyns
export POLYNS_MODULE POLYNS_CLI
libpam_moddir=$(dirname "$(dpkg -L libpam-modules | grep '/pam_unix\.so$')")
assert_eq "$(dirname "$POLYNS_MODULE")" "$libpam_moddir" "pam_polyns.so is installed next to libpam's own modules"
cmp "$saved/common-session" /etc/pam.d/common-session || fail "installing changed common-session (the profile is Default: no)"
pass "installing changes no PAM stack (profile Default: no)"
assert_eq "$(polyns check --strict 2>&1)" "0 rules, 0 warnings, 0 errors in /etc/security/namespace.conf, /etc/security/namespace.d/polyns.conf" \
    "as installed, no rule is active (the drop-in's rules are commented out)"

assert_eq "$(stat -c '%U %a' /tmp/user_tmpl /tmp/user_tmpl/1001 | sort -u)" "mallory 777" \
    "the install adopted nothing (no systemd-tmpfiles --create): the squatted template is still mallory's"
status=0
mkdir -m 0755 /tmp/user_tmpl 2>/dev/null || status=$?
[[ $status != 0 ]] || fail "README.Debian's mkdir -m 0755 took over an existing directory"
pass "README.Debian's mkdir -m 0755 refuses the squatted template"
rm -rf /tmp/user_tmpl # the admin looked into it and removed it

step "README.Debian step 1: the rules, in the namespace.d drop-in"
seed_root "sed -i 's|^#/|/|' /etc/security/namespace.d/polyns.conf"
seed_root "grep -v '^#' /etc/security/namespace.d/polyns.conf"
seed_root "polyns check --strict"
assert_status 0 "polyns check --strict accepts the drop-in's rules" polyns check --strict
assert_contains "$(polyns check 2>&1)" "2 rules" "the drop-in's two rules are loaded"

step "README.Debian step 2 = seed A3: the templates"
seed_a3_templates

seed_root "cp /usr/share/doc/libpam-polyns/examples/tmpfiles.d-polyns.conf /etc/tmpfiles.d/polyns.conf"

step "README.Debian step 3 = seed A6, the Debian way: pam-auth-update --enable polyns"
seed_root "pam-auth-update --enable polyns"
session=$(grep -v '^#' /etc/pam.d/common-session)
printf '%s\n' "$session"
assert_contains "$session" "required	pam_polyns.so" "common-session runs pam_polyns.so"
assert_contains "$(grep -v '^#' /etc/pam.d/common-session-noninteractive)" "required	pam_polyns.so" \
    "common-session-noninteractive (cron, sudo, systemd-user) runs it too (no Session-Interactive-Only)"
[[ $(grep -n 'pam_unix.so' /etc/pam.d/common-session | cut -d: -f1) -lt $(grep -n 'pam_polyns.so' /etc/pam.d/common-session | cut -d: -f1) ]] ||
    fail "pam_polyns.so comes before pam_unix.so in common-session"
pass "pam_polyns.so comes after pam_unix.so in common-session"
assert_eq "$(dpkg --verify libpam-modules libpam-runtime 2>&1 || true)" "$verify_baseline" \
    "libpam-modules' conffiles (namespace.conf) untouched"

step "seed A7 through Debian's own /etc/pam.d/sshd (@include common-session)"
add_user alice 1001
add_user bob 1002
add_user carol 1003
sshd_authorize alice bob
sshd_start
harness_on_exit '[[ $status == 0 ]] || { echo "--- sshd log:"; cat "$SSHD_LOG"; } >&2'
seed_a7_verify alice bob
seed_module_log alice bob

step "su -l from root: the module runs once, from common-session (no second line in /etc/pam.d/su)"
out=$(su -l carol -c 'findmnt -n -o SOURCE /tmp; findmnt -n -o SOURCE /var/tmp' 2>&1) || fail "su -l carol failed: $out"
printf '%s\n' "$out"
assert_contains "$out" "[/user_tmpl/1003]" "su -l carol gets carol's instance"
assert_eq "$(syslog_lines 'pam_polyns.*session for carol ' | wc -l)" 1 "one pam_polyns session line for carol's su"

step "sudo -u (common-session-noninteractive): the target's own /tmp"
out=$(sudo -u carol sh -c 'findmnt -n -o SOURCE /tmp' 2>&1) || fail "sudo -u carol failed: $out"
printf '%s\n' "$out"
assert_contains "$out" "[/user_tmpl/1003]" "sudo -u carol gets carol's instance through the non-interactive stack"

step "polyns audit on the stock stacks, as README.Debian leaves them"
seed_root "grep -v '^#' /usr/lib/pam.d/systemd-user"  # bookworm's systemd ships it in libpam's vendor dir
status=0
audit=$(polyns audit --json --host-pid $$) || status=$?
python3 -c 'import json, sys
for c in json.loads(sys.argv[1])["checks"]:
    print(c["result"].ljust(4), c["id"] + ":", "; ".join(c["evidence"]))' "$audit"
verdict() { python3 -c 'import json,sys; print([c["result"] for c in json.loads(sys.argv[1])["checks"] if c["id"] == sys.argv[2]][0])' "$audit" "$1"; }
for id in pam-sshd pam-login pam-su pam-su-l pam-systemd-user templates-owner-mode templates-tmpfiles rule-tmp rule-var-tmp; do
    assert_eq "$(verdict "$id")" pass "polyns audit: $id passes on a stock install"
done
assert_eq "$(verdict pam-selinux-order)" "n/a" "polyns audit: pam-selinux-order is not applicable without SELinux"
failed() { python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.loads(sys.argv[1])["checks"] if c["result"] == "fail" and (sys.argv[2] == "all" or not c["id"].startswith("mount-"))))' "$audit" "$1"; }
# What README.Debian does not cover: STIG's separate /tmp, /var/tmp and
# /dev/shm mounts (the Ansible test's world has them and passes all).
assert_eq "$(failed but-mounts)" "" "polyns audit fails nothing but the STIG mount options ($(failed all))"
assert_status 0 "polyns audit --profile anssi passes on a stock install" polyns audit --profile anssi --host-pid $$

step "upgrade with a broken configuration: the preinst stops it, the old module stays"
printf '/srv/x /srv/x/inst bogusmethod\n' >/etc/security/namespace.d/zz-broken.conf
status=0
out=$(dpkg -i /debs/libpam-polyns_*.deb 2>&1) || status=$?
printf '%s\n' "$out"
[[ $status != 0 ]] || fail "dpkg -i over a broken configuration succeeded"
assert_contains "$out" "unknown method 'bogusmethod'" "the preinst shows polyns check's error"
assert_contains "$out" "The upgrade stops here" "the preinst says the upgrade stopped"
assert_eq "$(dpkg-query -W -f='${Status}' libpam-polyns)" "install ok installed" "libpam-polyns stays installed and configured"
[[ -f $POLYNS_MODULE ]] || fail "the module vanished"
rm /etc/security/namespace.d/zz-broken.conf
dpkg -i /debs/libpam-polyns_*.deb
pass "with the configuration fixed, the upgrade goes through"
grep -q 'pam_polyns.so' /etc/pam.d/common-session || fail "the upgrade dropped the admin's choice"
pass "the upgrade keeps the module enabled"

step "disable: common-session is restored byte for byte"
seed_root "pam-auth-update --disable polyns"
for file in common-session common-session-noninteractive; do
    cmp "$saved/$file" "/etc/pam.d/$file" || fail "$file differs after --disable"
    pass "pam-auth-update --disable polyns restores $file byte for byte"
done

step "remove and purge: common-session byte for byte, no module, libpam-modules untouched"
dpkg -r libpam-polyns polyns
for file in common-session common-session-noninteractive; do
    cmp "$saved/$file" "/etc/pam.d/$file" || fail "$file differs after removal"
    pass "$file is byte for byte what it was before the install"
done
[[ ! -e $POLYNS_MODULE && ! -e /usr/sbin/polyns ]] || fail "files left after removal"
pass "module and tool are gone"
dpkg -P libpam-polyns polyns
[[ ! -e /etc/security/namespace.d/polyns.conf ]] || fail "purge left the drop-in"
pass "purge removes the drop-in"
assert_eq "$(dpkg --verify libpam-modules libpam-runtime 2>&1 || true)" "$verify_baseline" \
    "libpam-modules and libpam-runtime verify as before"

step "remove while enabled: the prerm takes the module out of the stack"
dpkg -i /debs/polyns_*.deb
dpkg -i /debs/libpam-polyns_*.deb
pam-auth-update --enable polyns
grep -q pam_polyns.so /etc/pam.d/common-session || fail "not enabled again"
dpkg -r libpam-polyns
for file in common-session common-session-noninteractive; do
    cmp "$saved/$file" "/etc/pam.d/$file" || fail "$file differs after removing an enabled module"
    pass "removing the enabled package restores $file byte for byte"
done
