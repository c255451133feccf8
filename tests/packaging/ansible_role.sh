#!/bin/bash
# The Ansible role (packaging/ansible, issue 15 item 5) against a fresh
# Debian chroot, run by deb_package.sh inside its private namespaces with
# the packages it built:  ansible_role.sh INSTALL_BASE_TARBALL DEB...
#
# The world: a fresh minbase chroot on tmpfs whose pid 1 is a chrooted
# process in a pid namespace of its own (as in a container, so `polyns
# audit` reads "the host" from /proc/1 inside the chroot), with /tmp,
# /var/tmp and /dev/shm mounted nosuid,nodev,noexec (the STIG checks) and
# one interactive user. ansible-playbook (Debian's ansible) drives it through
# the community.general.chroot connection, twice: the first run installs,
# writes the rules, runs polyns setup --enable-pam and a clean audit; the
# second reports no change. Then a failing audit must fail the play.
source "$(dirname "$0")/lib/packaging.sh"
PKG_TOOLS+=(ansible-playbook nsenter)
parent_work=${PKG_WORK:-}
pkg_init deb "$@"
PKG_WORK=${parent_work:-$PKG_WORK}
[[ -n ${POLYNS_PKG_ISOLATED:-} ]] || fail "run by deb_package.sh (inside its namespaces)"
install_base=$1
shift

world=$PKG_WORK/ansible-world
pkg_chroot_prepare "$install_base" "$world"
mkdir -p "$world/debs"
cp "$@" "$world/debs/"
mount -t tmpfs -o mode=1777,nosuid,nodev,noexec tmpfs "$world/tmp"
mount -t tmpfs -o mode=1777,nosuid,nodev,noexec tmpfs "$world/var/tmp"
mount -o remount,nosuid,nodev,noexec "$world/dev/shm"
echo 'alice:x:1001:1001:alice:/home/alice:/bin/bash' >>"$world/etc/passwd"
echo 'alice:x:1001:' >>"$world/etc/group"
echo 'alice:*:19000:0:99999:7:::' >>"$world/etc/shadow"
install -d -o 1001 -g 1001 -m 0750 "$world/home/alice"
# A Debian host with systemd has /etc/tmpfiles.d (minbase has no systemd).
install -d -m 0755 "$world/etc/tmpfiles.d"

# pid 1 of the world: a chrooted sleep in new pid and mount namespaces with
# the world's own /proc; ansible-playbook joins both (nsenter), so each task
# it chroots into the world sees that /proc.
unshare --pid --mount --fork --kill-child --mount-proc="$world/proc" \
    chroot "$world" /bin/sleep infinity &
world_unshare=$!
world_init=
for _ in $(seq 100); do
    world_init=$(pgrep -P "$world_unshare" 2>/dev/null | head -n 1 || true)
    [[ -n $world_init ]] && break
    sleep 0.05
done
[[ -n $world_init ]] || fail "the world's init did not start"
trap 'kill "$world_unshare" 2>/dev/null || true' EXIT

debs=$(for deb in "$@"; do printf '"/debs/%s", ' "$(basename "$deb")"; done)
cat >"$PKG_WORK/inventory" <<EOF2
[fleet]
world ansible_connection=community.general.chroot ansible_host=$world ansible_python_interpreter=/usr/bin/python3
EOF2
cat >"$PKG_WORK/vars.yml" <<EOF2
polyns_deb_files: [${debs%, }]
# Debian's sshd stack includes common-session (where pam-auth-update puts
# the module) before pam_selinux.so open; audit judges that order wrong even
# with SELinux off, where it changes nothing (level names instances per user).
polyns_audit_waivers: {pam-sshd: "Debian sshd stack order; SELinux is off here"}
EOF2
export HOME=$PKG_WORK/ansible-home ANSIBLE_LOCAL_TEMP=$PKG_WORK/ansible-home/tmp
export ANSIBLE_REMOTE_TMP=/root/.ansible/tmp ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_ROLES_PATH=$POLYNS_SOURCE_DIR/packaging/ansible/roles ANSIBLE_STDOUT_CALLBACK=default
mkdir -p "$ANSIBLE_LOCAL_TEMP"

play() { # LOG [EXTRA ARGS...]
    local log=$1
    shift
    nsenter -t "$world_init" --pid --mount -- \
        ansible-playbook -i "$PKG_WORK/inventory" -e "@$PKG_WORK/vars.yml" "$@" \
        "$POLYNS_SOURCE_DIR/packaging/ansible/site.yml" >"$log" 2>&1
}
recap() { grep -E '^world +:' "$1"; }

pkg_step "ansible-playbook, first run"
play "$PKG_WORK/ansible-1.log" || { cat "$PKG_WORK/ansible-1.log" >&2; fail "the first run failed"; }
tail -n 30 "$PKG_WORK/ansible-1.log"
first=$(recap "$PKG_WORK/ansible-1.log")
[[ $first =~ changed=([0-9]+) && ${BASH_REMATCH[1]} -gt 0 ]] || fail "the first run changed nothing: $first"
assert_contains "$first" "failed=0" "the first run installs, configures, enables and audits without failure"
assert_contains "$(cat "$world/etc/pam.d/common-session")" "pam_polyns.so" "the role enabled the module (pam-auth-update)"
assert_eq "$(stat -c '%U:%G %a' "$world/tmp/user_tmpl" "$world/var/tmp/user_tmpl" | sort -u)" "root:root 755" \
    "polyns setup created the templates root:root 0755"

pkg_step "ansible-playbook, second run: no change"
play "$PKG_WORK/ansible-2.log" || { cat "$PKG_WORK/ansible-2.log" >&2; fail "the second run failed"; }
second=$(recap "$PKG_WORK/ansible-2.log")
echo "$second"
assert_contains "$second" "changed=0" "the second run reports no change"
assert_contains "$second" "failed=0" "the second run passes the audit again"

pkg_step "a failing audit check fails the play"
nsenter -t "$world_init" --mount -- mount -o remount,nosuid,nodev,exec "$world/tmp"
status=0
play "$PKG_WORK/ansible-3.log" || status=$?
[[ $status != 0 ]] || { cat "$PKG_WORK/ansible-3.log" >&2; fail "the play passed with /tmp mounted exec"; }
assert_contains "$(cat "$PKG_WORK/ansible-3.log")" "mount-tmp-noexec" "the play fails naming the failed check"
