#!/bin/bash
# What a plain session must not cost (issue 5): with the seed's two-line
# config, pam_open_session/pam_close_session read no mount table where the
# kernel has statmount(2) (6.8+: it answers the nested-session check of issue
# 13, is the caller inside an earlier session's view?) and the table once
# where it has not, start no child process and parse the config once; the
# module links no libmount and no shared libstdc++. Checked with strace on the
# real PAM driver.
source "$(dirname "$0")/../system/lib/harness.sh"
harness_enter "$@"
require_module
require_pam_session
command -v strace >/dev/null || skip "strace is not installed"

needed=$(readelf -d "$POLYNS_MODULE" | awk '/NEEDED/ {gsub(/[][]/, "", $5); printf "%s ", $5}')
echo "NEEDED: $needed"
assert_not_contains "$needed" "libmount" "the module does not link libmount (it is dlopen()ed when a mount table is read)"
assert_not_contains "$needed" "libstdc++" "the module does not load the shared libstdc++"

add_user bench00 20000
install -d -m 0755 /tmp/user_tmpl /var/tmp/user_tmpl
printf '/tmp /tmp/user_tmpl/%%{UID} user\n/var/tmp /var/tmp/user_tmpl/%%{UID} user\n' >/etc/security/polyns-plain.conf
rm -f /etc/security/namespace.init
write_pam_service polyns-plain <<EOF2
session required $POLYNS_MODULE conf=/etc/security/polyns-plain.conf
EOF2
pam_session --no-cmd polyns-plain bench00 # creates the instances
# Pins of persist users exist (issue 16): a plain session never looks at them.
install -d -m 0700 /run/polyns /run/polyns/ns
trace=$POLYNS_TEST_ROOT/plain.strace
strace -f -qq -o "$trace" -e trace=open,openat,openat2,clone,clone3,fork,vfork,execve \
    "$POLYNS_PAM_SESSION" --no-cmd polyns-plain bench00
# The driver itself is exec'd once; nothing else may be.
calls=$(grep -vE '^[0-9]+ +execve\(' "$trace" || true)
if kernel_has_statmount; then
    assert_eq "$(grep -c 'mountinfo' <<<"$calls" || true)" 0 "no mount table is read (statmount answers the nested-session check)"
else
    assert_eq "$(grep -c 'mountinfo' <<<"$calls" || true)" 1 "the mount table is read once (/proc/thread-self/mountinfo: the nested-session check, no statmount)"
fi
assert_not_contains "$calls" "/proc/mounts" "no mount table read (/proc/mounts)"
# libmount is dlopen()ed for that one read (it is not linked: NEEDED above),
# so its load is no longer asserted absent.
assert_eq "$(grep -cE 'clone3?\(|fork\(' "$trace" || true)" 0 "no child process"
assert_eq "$(grep -c 'polyns-plain.conf' "$trace" || true)" 1 "the config file is opened once per session"
assert_not_contains "$calls" '"ns"' "the pin directory of persist is not opened (by name below /run/polyns)"
assert_not_contains "$calls" 'polyns/ns"' "nor by its path (/run/polyns/ns)"
