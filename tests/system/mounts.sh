#!/bin/bash
# What gets mounted where: the explicit-instance form, create=, a $HOME
# polydir, mntopts= on bind and tmpfs instances (flags read back from
# /proc/self/mountinfo inside the session), su-like unmnt_remnt and
# unmnt_only in a nested session, and the empty plan (no namespace change).
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
use_module
mounts_before=$(mount_table)
outside_ns=$(mount_ns)

# ------------------------------------------------- explicit-instance form
make_template /tmp/user_tmpl
write_conf <<'EOF'
/tmp /tmp/user_tmpl/%{UID} user
EOF
syslog_clear
out=$(session alice stat -c '%U %a' /tmp)
assert_eq "$out" "alice 700" "explicit instance: /tmp is alice's 0700 instance"
assert_eq "$(stat -c '%U %a' /tmp/user_tmpl/1001)" "alice 700" "explicit instance: /tmp/user_tmpl/1001 exactly (no user name appended)"
syslog_settle
assert_contains "$(polyns_log info)" "/tmp -> /tmp/user_tmpl/1001" "explicit instance: logged"

# ----------------------------------------------------------------- create=
make_template /var/tmp/inst
write_conf <<'EOF'
/var/tmp/newpoly /var/tmp/inst/ user:create=0750,root,polyteam
/var/tmp/newpoly2 /var/tmp/inst2/ user:create
EOF
make_template /var/tmp/inst2
out=$(session alice stat -c '%U' /var/tmp/newpoly /var/tmp/newpoly2)
assert_eq "$out" "$(printf 'alice\nalice')" "create=: both polydirs are instantiated for alice"
assert_eq "$(stat -c '%U:%G %a' /var/tmp/newpoly)" "root:polyteam 750" "create=0750,root,polyteam: polydir created with that mode and owner"
assert_eq "$(stat -c '%U:%G' /var/tmp/newpoly2)" "alice:alice" "create (no values): polydir owned by the user and primary group"
write_conf <<'EOF'
/var/tmp/missing /var/tmp/inst/ user
EOF
rc=0
session alice true || rc=$?
assert_eq "$rc" "$OPEN_FAILED" "without create=, a missing polydir fails the session"

# --------------------------------------------------------- $HOME polydir
# The instance parent lives in alice's home but belongs to root (0755), as a
# template must; the polydir is alice's own $HOME/tmp.
install -d -o alice -g alice -m 0755 /home/alice/tmp
install -d -o root -g root -m 0755 /home/alice/.inst
write_conf <<'EOF'
$HOME/tmp $HOME/.inst/ user
EOF
echo shared >/home/alice/tmp/before
out=$(session alice sh -c 'ls -A /home/alice/tmp; stat -c "%U %a" /home/alice/tmp')
assert_eq "$out" "alice 700" "\$HOME polydir: /home/alice/tmp is alice's empty 0700 instance"
[[ -d /home/alice/.inst/alice ]] || fail "\$HOME polydir: instance /home/alice/.inst/alice missing"
pass "\$HOME polydir: instance under \$HOME/.inst"
# A user-owned component swapped for a symlink is not followed.
rm -rf /home/alice/tmp
ln -s /etc /home/alice/tmp
rc=0
session alice true || rc=$?
assert_eq "$rc" "$OPEN_FAILED" "\$HOME polydir that is a symlink: refused"
rm /home/alice/tmp

# ------------------------------------------------------- mntopts on bind
rm -rf /var/tmp/inst/*
write_conf <<'EOF'
/tmp /var/tmp/inst/ user:mntopts=nosuid,nodev,noexec
EOF
out=$(session alice awk '$5 == "/tmp" { o = $6 } END { print o }' /proc/self/mountinfo)
for flag in nosuid nodev noexec; do
    assert_contains ",$out," ",$flag," "mntopts on a bind instance: $flag in mountinfo ($out)"
done
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF
out=$(session alice awk '$5 == "/tmp" { o = $6 } END { print o }' /proc/self/mountinfo)
assert_not_contains ",$out," ",noexec," "without mntopts: the bind instance is not noexec ($out)"

# ------------------------------------------------------ mntopts on tmpfs
write_conf <<'EOF'
/tmp /var/tmp/inst/ tmpfs:mntopts=size=1M,nr_inodes=100,mode=0710,nosuid,noexec
EOF
out=$(session alice awk '$5 == "/tmp" { line = $0 } END { print line }' /proc/self/mountinfo)
per_mount=$(printf '%s\n' "$out" | awk '{ print $6 }')
super=${out##* }
assert_contains "$out" " - tmpfs " "tmpfs: the instance is a tmpfs"
assert_contains ",$per_mount," ",nosuid," "tmpfs: nosuid ($per_mount)"
assert_contains ",$per_mount," ",noexec," "tmpfs: noexec ($per_mount)"
assert_contains ",$per_mount," ",nodev," "tmpfs: nodev not asked, set by default ($per_mount)"
assert_contains ",$super," ",size=1024k," "tmpfs: size=1M ($super)"
assert_contains ",$super," ",nr_inodes=100," "tmpfs: nr_inodes=100 ($super)"
assert_contains ",$super," ",mode=710," "tmpfs: mode=0710 ($super)"

# Issue 12, item 4: a tmpfs rule that names no limits and no flags gets
# nosuid,nodev and systemd's limits for a nested tmpfs (size=10%,
# nr_inodes=400k), not the kernel's half of RAM per session; what the rule
# writes wins (suid, dev, size=, nr_inodes=).
tmpfs_mount() { # prints "PER_MOUNT_OPTIONS SUPER_OPTIONS" of the session's /tmp
    session alice awk '$5 == "/tmp" { per = $6; super = $NF } END { print per, super }' /proc/self/mountinfo
}
write_conf <<'EOF'
/tmp /var/tmp/inst/ tmpfs
EOF
read -r per_mount super < <(tmpfs_mount)
ram_pages=$(($(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo) / 4))
ten_percent_k=$((((ram_pages * 10 + 99) / 100) * 4))
assert_contains ",$per_mount," ",nosuid," "tmpfs default: nosuid ($per_mount)"
assert_contains ",$per_mount," ",nodev," "tmpfs default: nodev ($per_mount)"
assert_contains ",$super," ",size=${ten_percent_k}k," "tmpfs default: size=10% of RAM ($super)"
assert_contains ",$super," ",nr_inodes=409600," "tmpfs default: nr_inodes=400k ($super)"
out=$("$POLYNS_CLI" check 2>&1 || true)
assert_contains "$out" "warning: tmpfs without size=" "polyns check warns on a tmpfs rule without size="
"$POLYNS_CLI" check --strict >/dev/null 2>&1 && fail "polyns check --strict passes a tmpfs rule without size="
pass "polyns check --strict fails on it"
write_conf <<'EOF'
/tmp /var/tmp/inst/ tmpfs:mntopts=suid,dev,size=2M,nr_inodes=0
EOF
read -r per_mount super < <(tmpfs_mount)
assert_not_contains ",$per_mount," ",nosuid," "tmpfs mntopts=suid: not nosuid ($per_mount)"
assert_not_contains ",$per_mount," ",nodev," "tmpfs mntopts=dev: not nodev ($per_mount)"
assert_contains ",$super," ",size=2048k," "tmpfs: the rule's size ($super)"
assert_contains ",$super," ",nr_inodes=0," "tmpfs: the rule's nr_inodes=0, no limit ($super)"

# --------------------------------------------- su-like: unmnt_remnt, unmnt_only
# alice's session; inside it a nested session (as su would open) for bob.
rm -rf /var/tmp/inst/*
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF
touch /tmp/shared-marker
printf 'session required %s unmnt_remnt\n' "$POLYNS_MODULE" | write_pam_service polyns-su
printf 'session required %s unmnt_only\n' "$POLYNS_MODULE" | write_pam_service polyns-su-only
printf 'session required %s\n' "$POLYNS_MODULE" | write_pam_service polyns-su-plain
nested() { # SERVICE USER: prints the owner of /tmp in alice's session, then in the nested one
    session alice sh -c 'stat -c %U /tmp; touch /tmp/alice-was-here;
        "$POLYNS_PAM_SESSION" '"$1 $2"' -- sh -c "stat -c %U /tmp; ls -A /tmp"'
}
out=$(nested polyns-su bob)
assert_eq "$out" "$(printf 'alice\nbob')" "unmnt_remnt: /tmp is alice's, then bob's in the nested session (alice's file invisible)"
[[ -d /var/tmp/inst/bob ]] || fail "unmnt_remnt: bob's instance was not created"
out=$(nested polyns-su-only bob)
assert_eq "$(printf '%s\n' "$out" | sed -n 2p)" root "unmnt_only: the nested session sees the original /tmp again"
assert_contains "$out" shared-marker "unmnt_only: the shared /tmp's content is back"
assert_not_contains "$out" alice-was-here "unmnt_only: alice's instance is no longer on /tmp"
syslog_clear
out=$(nested polyns-su-plain bob)
assert_eq "$(printf '%s\n' "$out" | sed -n 2p)" bob "plain nested session (no unmnt_remnt): bob's instance mounted over alice's"

# ------------------------------------------------ empty plan: nothing at all
write_conf <<'EOF'
/tmp /var/tmp/inst/ user alice
EOF
syslog_clear
out=$(pam_session --print-ns "$MODULE_SERVICE" alice -- readlink /proc/self/ns/mnt 2>&1)
assert_contains "$out" "$outside_ns" "empty plan: the command runs in the caller's namespace"
assert_contains "$out" "mntns before=$outside_ns" "empty plan: driver before"
assert_contains "$out" "mntns after_open=$outside_ns" "empty plan: no unshare at open"
syslog_settle
assert_eq "$(polyns_log info)" "" "empty plan: no session line (nothing done)"
: >/etc/security/namespace.conf
out=$(session bob readlink /proc/self/ns/mnt)
assert_eq "$out" "$outside_ns" "empty config: the command runs in the caller's namespace"

assert_eq "$(mount_table)" "$mounts_before" "caller's mount table unchanged"
