#!/bin/bash
# Issue 12, item 4 (part): defaults that do not depend on the caller.
# create= with an owner but no mode makes the polydir 0755 whatever the
# caller's umask (Linux-PAM: 0777 less the umask, so umask 000 left a
# root-owned world-writable polydir without the sticky bit); `polyns check`
# warns about an owner without a mode. The init script runs with the kernel's
# boot limits and nice 0, not the caller's (ulimit -f, ulimit -n, nice 19
# before su would make a root script fail half-way).
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

# ------------------------------------------ limits and nice of init scripts
report=/run/polyns-test/limits
cat >/etc/security/namespace.init <<EOF2
#!/bin/sh
echo "nice=\$(nice) fsize=\$(ulimit -f) nofile=\$(ulimit -n)" >$report
head -c 1048576 /dev/zero >$report.big
EOF2
chmod 0755 /etc/security/namespace.init
rm -f "$report" "$report.big"
rc=0
(ulimit -S -f 8 && ulimit -S -n 64 && exec nice -n 19 "$POLYNS_PAM_SESSION" "$MODULE_SERVICE" alice -- true) || rc=$?
assert_eq "$rc" 0 "4.limits: the session opened under the caller's ulimit -f 8, -n 64 and nice 19"
assert_eq "$(cat "$report")" "nice=0 fsize=unlimited nofile=1024" "4.limits: the script ran with nice 0 and the boot limits"
assert_eq "$(stat -c %s "$report.big")" 1048576 "4.limits: ... so it could write its 1 MiB file"
pass "caller-defaults"
