#!/bin/bash
# Issue 12, item 8 (DESIGN invariant 15): a reused uid or name never inherits
# a deleted account's instance. As an admin does it: bob (1002) is deleted
# and carol created with uid 1002 (userdel/useradd); later carol is deleted
# and a new carol made with another uid. The module records whose each
# instance is when it makes it (trusted.polyns.owner, which users can neither
# read nor forge) and moves another account's instance aside
# (TEMPLATE/.polyns-moved-aside/, root:root 0700, logged with the way back),
# then makes a new one. Kept: a renamed account (usermod -l: same uid, same
# home directory) and instances made before records existed (adopted, then
# recorded).
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
use_module
make_template /tmp/user_tmpl
make_template /var/tmp/user_tmpl
write_conf <<'EOF'
/tmp      /tmp/user_tmpl/%{UID}      user
/var/tmp  /var/tmp/user_tmpl/%{USER} user
EOF

# del_user NAME: as userdel does (the account files are bind mounts: rewritten in place).
del_user() {
    local f tmp
    for f in /etc/passwd /etc/shadow /etc/group /etc/gshadow; do
        tmp=$(grep -v "^$1:" "$f" || true)
        printf '%s\n' "$tmp" >"$f"
    done
}
# login USER: what the user's /tmp and /var/tmp show.
login() { session "$1" sh -c 'ls -A /tmp; echo --; ls -A /var/tmp'; }
record() { getfattr --absolute-names --only-values -n trusted.polyns.owner "$1" 2>/dev/null || true; }

# ----------------------------------------- bob's files, then bob is deleted
session bob sh -c 'setpriv --reuid=bob --regid=bob --clear-groups sh -c "echo bob-tmp >/tmp/bob-file; echo bob-vartmp >/var/tmp/bob-file"'
del_user bob
rm -rf /home/bob
add_user carol 1002

# ---------------------------------- carol, with bob's uid, logs in first
syslog_clear
out=$(login carol)
assert_not_contains "$out" bob-file "8.uid: carol (uid 1002 after bob) does not see bob's files"
assert_eq "$(ls -A /tmp/user_tmpl/1002)" "" "8.uid: carol's /tmp instance is new and empty"
assert_contains "$(record /tmp/user_tmpl/1002)" "user=carol" "8.uid: carol's instance is recorded as hers"
aside=/tmp/user_tmpl/.polyns-moved-aside
assert_eq "$(stat -c '%U %G %a' "$aside")" "root root 700" "8.uid: the moved-aside directory is root-only"
moved=$(find "$aside" -mindepth 1 -maxdepth 1 -name '1002.uid1002.*')
[[ -n $moved ]] || fail "8.uid: bob's instance is not in $aside"
assert_eq "$(cat "$moved/bob-file") $(stat -c %u "$moved/bob-file")" "bob-tmp 1002" "8.uid: bob's files are kept, as they were"
assert_contains "$(record "$moved")" "uid=1002 " "8.record: bob's instance was recorded with his uid"
assert_contains "$(record "$moved")" "user=bob" "8.record: ... and his name"
assert_contains "$(getfattr --absolute-names --only-values -n trusted.polyns.moved_aside "$moved")" "for=carol" \
    "8.uid: what was moved aside is marked (for gc)"
syslog_settle
assert_contains "$(polyns_log warning)" "moved aside to $moved" "8.uid: a warning says where it went"
assert_contains "$(polyns_log warning)" "setfattr -x trusted.polyns.owner" "8.uid: ... and how to put it back"

# ------------------- carol is deleted, a new carol (uid 1005) takes the name
session carol sh -c 'setpriv --reuid=carol --regid=carol --clear-groups sh -c "echo carol1-vartmp >/var/tmp/carol-file"'
del_user carol
rm -rf /home/carol
add_user carol 1005
out=$(login carol)
assert_not_contains "$out" carol-file "8.name: the new carol (uid 1005) does not see the old carol's %{USER} instance"
assert_eq "$(stat -c '%u' /var/tmp/user_tmpl/carol)" 1005 "8.name: her /var/tmp instance is new and hers"
[[ -n $(find /var/tmp/user_tmpl/.polyns-moved-aside -name 'carol.uid1002.*') ]] ||
    fail "8.name: the old carol's instance was not moved aside"
pass "8.name: the old carol's instance was moved aside"

# ---------------------------------- a renamed account keeps its instance
session carol sh -c 'setpriv --reuid=carol --regid=carol --clear-groups sh -c "echo carol2-tmp >/tmp/carol2-file"'
# usermod -l cara carol: same uid, same home.
for f in /etc/passwd /etc/shadow; do
    tmp=$(sed 's/^carol:/cara:/' "$f")
    printf '%s\n' "$tmp" >"$f"
done
syslog_clear
out=$(login cara)
assert_contains "$out" carol2-file "8.rename: cara (carol renamed: same uid and home) keeps her files"
assert_contains "$(record /tmp/user_tmpl/1005)" "user=cara" "8.rename: the record follows the new name"
syslog_settle
assert_contains "$(polyns_log info)" "under another name" "8.rename: the module says so"

# ------------------------ an instance made before records existed: adopted
install -d -o alice -g alice -m 0700 /tmp/user_tmpl/1001
echo old >/tmp/user_tmpl/1001/alice-old && chown alice:alice /tmp/user_tmpl/1001/alice-old
assert_eq "$(record /tmp/user_tmpl/1001)" "" "8.adopt: no record before"
out=$(login alice)
assert_contains "$out" alice-old "8.adopt: alice's unrecorded instance is still hers"
assert_contains "$(record /tmp/user_tmpl/1001)" "user=alice" "8.adopt: ... and recorded from now on"
# --------- %{USER}: a name reused with a new uid, the old instance unrecorded
# (made before records existed). Whose it is cannot be told (a renumbered
# account, usermod -u, or a new account with the old name): refused, nothing
# touched, and the hint names both ways out.
install -d -o 1007 -g 1007 -m 0700 /var/tmp/user_tmpl/gina
echo old-gina >/var/tmp/user_tmpl/gina/gina-file && chown 1007:1007 /var/tmp/user_tmpl/gina/gina-file
add_user gina 1008
syslog_clear
status=0
session gina true || status=$?
assert_eq "$status" "$OPEN_FAILED" "8.name-unrecorded: gina (uid 1008) is refused the unrecorded instance of uid 1007"
assert_one_error_line "/var/tmp/user_tmpl/gina" "is 1007:1007" "usermod -u): chown -hR 1008:1008 /var/tmp/user_tmpl/gina" \
    "mv /var/tmp/user_tmpl/gina /var/tmp/user_tmpl/gina.uid1007"
assert_eq "$(stat -c '%u %a' /var/tmp/user_tmpl/gina) $(cat /var/tmp/user_tmpl/gina/gina-file)" "1007 700 old-gina" \
    "8.name-unrecorded: the old instance is untouched"
mv /var/tmp/user_tmpl/gina /var/tmp/user_tmpl/gina.uid1007   # the hint, for a new account
out=$(login gina)
assert_not_contains "$out" gina-file "8.name-unrecorded: after the hint's mv gina gets a new instance"
assert_contains "$(record /var/tmp/user_tmpl/gina)" "uid=1008 " "8.name-unrecorded: ... recorded as hers"

# ------------- a filesystem without trusted.* xattrs (ramfs): no record, said
# once when the instance is made; the documented gap (SECURITY.md): a reused
# uid is given the unrecorded %{UID} instance, as with pam_namespace.so;
# `polyns gc --deleted-users` between userdel and useradd closes it.
mkdir -p /var/tmp/ramfs-tmpl
mount -t ramfs -o mode=0755 polyns-test-ramfs /var/tmp/ramfs-tmpl
write_conf <<'EOF'
/tmp      /var/tmp/ramfs-tmpl/%{UID}      user
EOF
add_user dave 1006
syslog_clear
session dave sh -c 'setpriv --reuid=dave --regid=dave --clear-groups sh -c "echo dave-tmp >/tmp/dave-file"' ||
    fail "8.ramfs: dave's session on a ramfs template failed"
assert_eq "$(stat -c '%U %a' /var/tmp/ramfs-tmpl/1006)" "dave 700" "8.ramfs: dave's instance is made as usual"
xattr_out=$(getfattr --absolute-names -n trusted.polyns.owner /var/tmp/ramfs-tmpl/1006 2>&1 || true)
if [[ $xattr_out == *"Operation not supported"* ]]; then
    pass "8.ramfs: the filesystem holds no trusted.* xattr, so no record"
else
    fail "8.ramfs: ramfs took a trusted.* xattr: this check no longer tests a filesystem without them"
fi
syslog_settle
assert_contains "$(polyns_log info)" "is on a filesystem without trusted.* extended attributes" \
    "8.ramfs: the module says the instance carries no record"
assert_contains "$(polyns_log info)" "polyns gc --deleted-users" "8.ramfs: ... and what to do before a uid is reused"
del_user dave
add_user erin 1006
out=$(login erin)
assert_contains "$out" dave-file "8.ramfs: the documented gap: erin (dave's uid, no gc) is given dave's unrecorded instance"
session erin true  # erin's session ended; now erin is deleted the way SECURITY.md says
del_user erin
"$POLYNS_CLI" gc --deleted-users >/dev/null || fail "8.ramfs: polyns gc --deleted-users failed"
[[ ! -e /var/tmp/ramfs-tmpl/1006 ]] || fail "8.ramfs: gc --deleted-users left uid 1006's instance"
add_user fred 1006
out=$(login fred)
assert_not_contains "$out" dave-file "8.ramfs: after gc --deleted-users the next account with uid 1006 starts empty"
umount /var/tmp/ramfs-tmpl
pass "attack-reused-uid"
