#!/bin/bash
# Issue 13, item 3: OSTree-based systems (Silverblue, CoreOS): /home is a
# root-owned symlink to var/home. A chroot made from a plain directory has
# that layout; the session opens inside it with a $HOME polydir whose
# template is under %{HOME}:
#     $HOME/tmp   %{HOME}/.tmp-inst/   user
# /home/alice resolves through the root-owned link in the root-only "/"
# (systemd's CHASE_SAFE rule), the missing template is created, alice's
# instance is mounted on /var/home/alice/tmp. What must still be refused:
#  - a symlink alice owns ($HOME/tmp -> /etc): ELOOP, /etc untouched;
#  - a root-owned symlink in a directory users can write (/tmp, sticky 1777);
#  - a root-owned symlink below alice's home (she could have moved it there);
#  - $HOME/tmp swapped between alice's directory and a symlink to /etc
#    while 40 sessions open: each mounts on her real directory or fails
#    closed, none mounts on /etc.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
require_module
require_pam_session
source "$(dirname "$0")/lib/chroot.sh"

add_user alice 1001
ch=/home/ostree
make_plain_chroot "$ch"
mkdir -p "$ch/var/home/alice/tmp" "$ch/var/lib/tmpl"
chown alice:alice "$ch/var/home/alice" "$ch/var/home/alice/tmp"
chmod 0700 "$ch/var/home/alice/tmp"
ln -s var/home "$ch/home"
[[ $(stat -c %U "$ch") == root && $(( 0$(stat -c %a "$ch") & 022 )) == 0 ]] || chmod go-w "$ch"
write_rules() {
    printf '%s\n' "$@" >"$ch/etc/security/namespace.conf"
    chmod 0644 "$ch/etc/security/namespace.conf"
}
write_rules '$HOME/tmp  %{HOME}/.tmp-inst/  user'
harness_on_exit '[[ $status == 0 ]] || { echo "--- syslog:"; syslog_lines; } >&2'
pass "OSTree layout: $(ls -ld "$ch/home" | awk '{print $9, $10, $11}'), a plain-directory chroot"

out=$(in_chroot "$ch" polyns-login alice -- sh -c 'stat -c %i /home/alice/tmp; grep -c " /var/home/alice/tmp " /proc/self/mountinfo') ||
    fail "alice's session with /home -> var/home failed: $out"
assert_eq "$(stat -c '%U:%G %a' "$ch/var/home/alice/.tmp-inst")" "root:root 0" "the template %{HOME}/.tmp-inst was created through the link"
assert_eq "${out%%$'\n'*}" "$(stat -c %i "$ch/var/home/alice/.tmp-inst/alice")" "alice's \$HOME/tmp is her instance"
assert_eq "${out##*$'\n'}" 1 "mounted on the real path /var/home/alice/tmp"

expect_refused_in_chroot() { # CASE NEEDLE
    local status=0
    syslog_clear
    in_chroot "$ch" polyns-login alice -- echo INSIDE >"$POLYNS_TEST_ROOT/out" 2>&1 || status=$?
    assert_eq "$status" 2 "$1: the session fails closed"
    assert_not_contains "$(cat "$POLYNS_TEST_ROOT/out")" INSIDE "$1: the command did not run"
    wait_for_syslog "$2" || fail "$1: no log line naming [$2]"
    pass "$1: the log says [$2]"
}
etc_tree() { find "$ch/etc" -path "$ch/etc/security" -prune -o -printf '%p %U %G %m %s %T@\n' | sort; }
etc_before=$(etc_tree)

# alice's own symlink.
mv "$ch/var/home/alice/tmp" "$ch/var/home/alice/tmp.real"
setpriv --reuid=alice --regid=alice --clear-groups ln -s /etc "$ch/var/home/alice/tmp"
expect_refused_in_chroot "alice's symlink \$HOME/tmp -> /etc" "not followed"
# A root-owned link below her home: she could have moved it there.
rm "$ch/var/home/alice/tmp"
ln -s /etc "$ch/var/home/alice/tmp"
expect_refused_in_chroot "a root-owned symlink in alice's home" "not root's or is writable"
rm "$ch/var/home/alice/tmp"
mv "$ch/var/home/alice/tmp.real" "$ch/var/home/alice/tmp"
# A root-owned link in a world-writable directory.
ln -s /var/lib/tmpl "$ch/tmp/tmpl-link"
write_rules '/srv/x  /tmp/tmpl-link/  user'
mkdir -p "$ch/srv/x"
expect_refused_in_chroot "a root-owned symlink in sticky /tmp" "not root's or is writable"
[[ -z $(ls -A "$ch/var/lib/tmpl") ]] || fail "something was created through the link in /tmp"
pass "nothing was created through the link in /tmp"

# Swapped during the walk.
write_rules '$HOME/tmp  %{HOME}/.tmp-inst/  user'
cat >"$POLYNS_TEST_ROOT/swap.sh" <<'EOS'
#!/bin/sh
cd "$1" || exit 1
while [ ! -e "$2" ]; do
    mv tmp tmp.real 2>/dev/null; ln -s /etc tmp 2>/dev/null
    rm -f tmp 2>/dev/null; mv tmp.real tmp 2>/dev/null
done
EOS
chmod 0755 "$POLYNS_TEST_ROOT/swap.sh"
rm -f "$POLYNS_TEST_ROOT/stop"
setpriv --reuid=alice --regid=alice --clear-groups "$POLYNS_TEST_ROOT/swap.sh" "$ch/var/home/alice" "$POLYNS_TEST_ROOT/stop" &
swapper=$!
opened=0 refused=0
for _ in $(seq 40); do
    status=0
    got=$(in_chroot "$ch" polyns-login alice -- sh -c 'awk '\''$5 == "/etc" {print "ETC-MOUNT"}'\'' /proc/self/mountinfo; stat -c %i /home/alice/tmp' 2>/dev/null) || status=$?
    # (1: the session opened, but alice had renamed her directory away by the
    # time stat ran inside: her own loss.)
    case $status in
    0 | 1) opened=$((opened + 1))
       assert_not_contains "$got" ETC-MOUNT "a session during the swap did not mount on /etc" >/dev/null ;;
    2) refused=$((refused + 1)) ;;
    *) touch "$POLYNS_TEST_ROOT/stop"; wait "$swapper"; fail "a session during the swap ended with status $status: $got" ;;
    esac
done
touch "$POLYNS_TEST_ROOT/stop"
wait "$swapper" || true
pass "40 sessions while alice swapped \$HOME/tmp with a symlink to /etc: $opened opened on her directory, $refused failed closed, none mounted on /etc"
[[ -d $ch/var/home/alice/tmp && ! -L $ch/var/home/alice/tmp ]] || mv "$ch/var/home/alice/tmp.real" "$ch/var/home/alice/tmp" 2>/dev/null || true
assert_eq "$(etc_tree)" "$etc_before" "the chroot's /etc is unchanged (the link's target)"
