#!/bin/bash
# Issue 12, item 4 (part): defaults that do not depend on the caller.
# create= with an owner but no mode makes the polydir 0755 whatever the
# caller's umask (Linux-PAM: 0777 less the umask, so umask 000 left a
# root-owned world-writable polydir without the sticky bit); `polyns check`
# warns about an owner without a mode.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
require_cli
add_standard_users
use_module
make_template /var/tmp/inst
write_conf <<'EOF2'
/home/newpoly /var/tmp/inst/ user:create=,root
EOF2
for mask in 000 077; do
    rm -rf /home/newpoly /var/tmp/inst/*
    (umask "$mask" && session alice true)
    assert_eq "$(stat -c '%U %a' /home/newpoly)" "root 755" "4.create: umask $mask: the new polydir is root's 0755"
done
out=$("$POLYNS_CLI" check 2>&1 || true)
echo "$out"
assert_contains "$out" "create= names an owner but no mode" "4.check: polyns check warns about an owner without a mode"
pass "caller-defaults"
