#!/bin/bash
# Issue 12, item 5: with instance_mode=mirror an instance may be open to
# others (/tmp's 1777), so its template must let nobody else reach it (as
# Linux-PAM requires mode 000). Reachability is judged with the template's
# POSIX ACL, not its mode bits alone: a 0000 template with user:bob:--x
# (setfacl), or one whose group (root's too: it has members) may search it,
# lets bob into alice's mirrored 1777 instance, and is refused; with the ACL
# removed, or with a mask that takes the execute bit away, it is accepted.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
require_module
add_standard_users
use_module instance_mode=mirror
make_template /var/tmp/m 0000
write_conf <<'EOF2'
/tmp /var/tmp/m/ user
EOF2
ATTACK_USER=alice

open_ok() { # CASE
    rm -rf /var/tmp/m/*
    session alice true || fail "$1: the session did not open"
    assert_eq "$(stat -c %a /var/tmp/m/alice)" 1777 "$1: alice's mirrored instance is 1777"
}

open_ok "5.plain: a 0000 template"

setfacl -m u:bob:x /var/tmp/m
rm -rf /var/tmp/m/*
expect_refused "5.acl-user: a 0000 template with user:bob:--x" -- /var/tmp/m "ACL user:1002"
# bob could indeed reach an instance there: the kernel says so.
install -d -m 1777 /var/tmp/m/probe
as_user bob touch /var/tmp/m/probe/x && pass "5.acl-user: (bob can write in a 1777 directory below it)"
rm -rf /var/tmp/m/probe

setfacl -m m::- /var/tmp/m
open_ok "5.acl-masked: the same entry, masked out (m::-)"

setfacl -b /var/tmp/m
chmod 0000 /var/tmp/m
setfacl -m g:polyteam:x /var/tmp/m
rm -rf /var/tmp/m/*
expect_refused "5.acl-group: a 0000 template with group:polyteam:--x" -- /var/tmp/m "ACL group:2000"

setfacl -b /var/tmp/m
chmod 0010 /var/tmp/m
rm -rf /var/tmp/m/*
expect_refused "5.group-root: a 0010 root:root template (root's group has members)" -- /var/tmp/m "group 0"
chmod 0000 /var/tmp/m
open_ok "5.back: 0000 without an ACL again"
pass "mirror-reach"
