#!/bin/bash
# Chroot-safety: the problem of seed 000 (issue 4, part 5).
#
# libpam-tmpdir gives every session TMPDIR=TMP=/tmp/user/<uid>. That path
# exists on the host only; any chroot the session enters (cowbuilder,
# pbuilder, debootstrap) inherits the variables but not the directory, so
# `mktemp -d` and `dpkg-deb --build` fail there with exactly the messages the
# seed quotes. polyns changes no environment: a session's /tmp is private by a
# mount, a chroot's /tmp is the chroot's own, and everything works.
#
# In one test:
#  1. alice's ssh session (polyns): mktemp, mktemp -d, dpkg-deb --build;
#  2. root's own polyinstantiated session: the same, plus a busybox-static
#     chroot built under the session's /tmp running mktemp -d (busybox's and
#     GNU's) and dpkg-deb --build inside the chroot;
#  3. the libpam-tmpdir approach, reproduced as a PAM session (it is NOT
#     installed: its postinst edits the host's PAM config): the same commands
#     work outside the chroot and fail inside it, with the seed's messages.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/sshd.sh"
harness_enter "$@"
print_versions busybox-static dpkg
require_module
require_pam_session
BUSYBOX=/bin/busybox
if ! [[ -x $BUSYBOX ]] || ! "$BUSYBOX" --list | grep -x mktemp >/dev/null; then
    skip "busybox-static not installed"
fi
command -v dpkg-deb >/dev/null || skip "dpkg-deb not installed"

source "$(dirname "$0")/lib/su_stack.sh"

add_user alice 1001

# No user list: root is polyinstantiated too (the seed's builds run as root).
write_user_tmpl_conf
write_login_service
harness_full_syslog_on_failure

# The libpam-tmpdir approach as a PAM session. pam_tmpdir (libpam-tmpdir's
# README and pam_tmpdir(8)): in the session phase it creates the base
# directory /tmp/user (root-owned, not group/other-writable) and
# /tmp/user/<uid> (owned by the user, 0700), and sets $TMPDIR and $TMP to the
# latter. Here pam_exec creates the directories, pam_env sets the variables.
lib=$POLYNS_TEST_ROOT/pam-tmpdir
mkdir -p "$lib"
cat >"$lib/mkdir.sh" <<'EOF'
#!/bin/sh
set -e
uid=$(id -u "$PAM_USER")
[ -d /tmp/user ] || mkdir -m 0711 /tmp/user
[ -d "/tmp/user/$uid" ] || { mkdir -m 0700 "/tmp/user/$uid"; chown "$uid" "/tmp/user/$uid"; }
EOF
chmod 0755 "$lib/mkdir.sh"
printf 'TMPDIR DEFAULT=/tmp/user/0\nTMP DEFAULT=/tmp/user/0\n' >"$lib/env-root.conf"
write_pam_service tmpdir-approach <<EOF
account  required pam_permit.so
session  required pam_exec.so quiet $lib/mkdir.sh
session  required pam_env.so readenv=0 user_readenv=0 conffile=$lib/env-root.conf
EOF

# A script run inside the sessions: the commands of the seed's build, then a
# busybox-static chroot (built under the session's $TMPDIR-or-/tmp, like
# cowbuilder's base.cow) that also carries GNU mktemp, dpkg-deb and GNU tar
# with their libraries, so the chroot reproduces the seed's exact messages.
cat >"$POLYNS_TEST_ROOT/build-probe.sh" <<'EOF'
#!/bin/bash
# usage: build-probe.sh WITH_CHROOT(0|1); prints "ok:" / "FAILED:" lines.
set -u
report() { # LABEL CMD...: run CMD, print its output, then ok/FAILED
    local label=$1 out status=0
    shift
    out=$("$@" 2>&1) || status=$?
    [[ -n $out ]] && printf '%s\n' "$out" | sed "s/^/    /"
    if ((status == 0)); then echo "ok: $label"; else echo "FAILED: $label (exit $status)"; fi
}
make_package_tree() { # DIR
    mkdir -p "$1/DEBIAN" "$1/usr/share/doc/polyns-probe"
    printf '%s\n' 'Package: polyns-probe' 'Version: 1.0' 'Architecture: all' \
        'Maintainer: polyns tests <root@localhost>' 'Description: chroot-safety probe' >"$1/DEBIAN/control"
    echo probe >"$1/usr/share/doc/polyns-probe/README"
}
echo "env: TMPDIR=${TMPDIR-<unset>} TMP=${TMP-<unset>}"
echo "/tmp: $(findmnt -rn -o SOURCE --target /tmp | tail -n 1)"
report "mktemp" mktemp
report "mktemp -d" mktemp -d
work=$(mktemp -d 2>/dev/null || echo /tmp/probe-fallback)
mkdir -p "$work"
make_package_tree "$work/pkg"
report "dpkg-deb --build" dpkg-deb --build --root-owner-group "$work/pkg" "$work/probe.deb"
[[ $1 == 1 ]] || exit 0

root=$work/chroot
mkdir -p "$root/bin" "$root/tmp" "$root/dev"
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
chroot "$root" /bin/busybox --install -s /bin
for bin in /usr/bin/mktemp /usr/bin/dpkg-deb /usr/bin/tar; do
    for file in "$bin" $(ldd "$bin" | grep -o '/[^ ]*'); do
        mkdir -p "$root$(dirname "$file")"
        cp -L "$file" "$root$file"
    done
done
: >"$root/dev/null" && mount --bind /dev/null "$root/dev/null"
make_package_tree "$root/pkg"
in_chroot() { chroot "$root" /bin/env PATH=/usr/bin:/bin "$@"; }
report "chroot: busybox mktemp -d" in_chroot /bin/mktemp -d
report "chroot: GNU mktemp --directory" in_chroot mktemp --directory
report "chroot: dpkg-deb --build" in_chroot dpkg-deb --build --root-owner-group /pkg /probe.deb
EOF
chmod 0755 "$POLYNS_TEST_ROOT/build-probe.sh"

count() { grep -c "^$1" <<<"$2" || true; }

# ----------------------------------------------------- 1. alice over ssh
sshd_write_pam_stack "session required $MODULE_LINE"
sshd_authorize alice
sshd_start
echo "== alice's ssh session (polyns)"
out=$(ssh_run alice "bash $POLYNS_TEST_ROOT/build-probe.sh 0") || fail "alice's ssh session failed: $out"
echo "$out"
assert_contains "$out" "env: TMPDIR=<unset> TMP=<unset>" "polyns sets no TMPDIR/TMP"
assert_contains "$out" "[/user_tmpl/1001]" "alice's /tmp is her instance"
assert_eq "$(count FAILED "$out")" 0 "alice: mktemp, mktemp -d, dpkg-deb --build all succeed"
assert_eq "$(count ok: "$out")" 3 "alice: three commands ran"
[[ -n $(find /tmp/user_tmpl/1001 -name probe.deb) ]] || fail "alice's package is not in her instance"
pass "alice's package was built in her private /tmp"

# ----------------------------------------- 2. root's polyinstantiated session
echo "== root's session (polyns)"
out=$(pam_session polyns-login root -- bash "$POLYNS_TEST_ROOT/build-probe.sh" 1 2>&1) ||
    fail "root's polyns session failed: $out"
echo "$out"
assert_contains "$out" "env: TMPDIR=<unset> TMP=<unset>" "polyns sets no TMPDIR/TMP for root"
assert_contains "$out" "[/user_tmpl/0]" "root's /tmp is its instance"
assert_eq "$(count FAILED "$out")" 0 "root (polyns): every command succeeds, in and out of the chroot"
assert_eq "$(count ok: "$out")" 6 "root (polyns): mktemp, mktemp -d, dpkg-deb, chroot mktemp -d (busybox, GNU), chroot dpkg-deb"
assert_contains "$out" "ok: chroot: busybox mktemp -d" "a busybox-static chroot runs mktemp -d in a polyns session"
assert_contains "$out" "ok: chroot: dpkg-deb --build" "dpkg-deb --build works in a chroot in a polyns session"

# -------------------------------------------- 3. the libpam-tmpdir approach
echo "== root's session (the libpam-tmpdir approach)"
out=$(pam_session tmpdir-approach root -- bash "$POLYNS_TEST_ROOT/build-probe.sh" 1 2>&1) ||
    fail "the libpam-tmpdir session itself failed: $out"
echo "$out"
assert_contains "$out" "env: TMPDIR=/tmp/user/0 TMP=/tmp/user/0" "the approach sets TMPDIR and TMP to /tmp/user/0"
assert_eq "$(stat -c '%a %U' /tmp/user/0)" "700 root" "it created /tmp/user/0 (0700) on the host side"
assert_contains "$out" "ok: mktemp -d" "outside the chroot mktemp -d works (in /tmp/user/0)"
assert_contains "$out" "ok: dpkg-deb --build" "outside the chroot dpkg-deb --build works"
assert_contains "$out" "FAILED: chroot: busybox mktemp -d" "inside the chroot busybox mktemp -d fails"
assert_contains "$out" "FAILED: chroot: GNU mktemp --directory" "inside the chroot GNU mktemp fails"
assert_contains "$out" "mktemp: failed to create directory via template '/tmp/user/0/tmp.XXXXXXXXXX': No such file or directory" \
    "... with seed 000's message"
assert_contains "$out" "FAILED: chroot: dpkg-deb --build" "inside the chroot dpkg-deb --build fails"
assert_contains "$out" "dpkg-deb: error: failed to make temporary file (control member): No such file or directory" \
    "... with seed 000's message"
