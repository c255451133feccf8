#!/bin/bash
# The 4th field: excluded users, "~" (only these users), @group and uid
# ranges, decided per session through real libpam. A user a rule does not apply
# to keeps the caller's mount namespace (nothing is unshared).
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
add_user carol 1500
use_module
make_template /var/tmp/inst
mounts_before=$(mount_table)
outside_ns=$(mount_ns)

# polyinstantiated USER: prints "yes" if USER's session got a new mount
# namespace with /tmp on the user's instance, "no" if the namespace is the
# caller's. Anything else fails the test.
polyinstantiated() {
    local user=$1 out
    out=$(session "$user" sh -c 'readlink /proc/self/ns/mnt; stat -c %U /tmp')
    local ns owner
    ns=$(printf '%s\n' "$out" | sed -n 1p)
    owner=$(printf '%s\n' "$out" | sed -n 2p)
    if [[ $ns == "$outside_ns" && $owner == root ]]; then
        echo no
    elif [[ $ns != "$outside_ns" && $owner == "$user" ]]; then
        echo yes
    else
        echo "inconsistent: ns=$ns (outside $outside_ns) /tmp owner=$owner"
    fi
}

# expect "RULE USERS" user=yes|no ...
expect() {
    local users_field=$1
    shift
    write_conf <<EOF
/tmp /var/tmp/inst/ user $users_field
EOF
    local pair user want
    for pair in "$@"; do
        user=${pair%%=*}
        want=${pair#*=}
        assert_eq "$(polyinstantiated "$user")" "$want" "users field [$users_field]: $user polyinstantiated=$want"
    done
}

expect ""                 root=yes alice=yes bob=yes
expect "root,bob"         root=no alice=yes bob=no
expect "~alice"           root=no alice=yes bob=no carol=no
expect "~alice,carol"     alice=yes bob=no carol=yes
expect "@polyteam"           alice=no bob=yes carol=yes
expect "~@polyteam"          alice=yes bob=no carol=no
expect "1001-1002"        alice=no bob=no carol=yes root=yes
expect "~1400-1600"       alice=no bob=no carol=yes
expect "~0"               root=yes alice=no
expect "~@polyteam,1500"     alice=yes bob=no carol=yes

# With debug, the reason a rule is skipped is logged.
use_module debug
write_conf <<'EOF'
/tmp /var/tmp/inst/ user bob
EOF
syslog_clear
session bob true
syslog_settle
assert_contains "$(polyns_log debug)" "skip /tmp" "debug: the skipped rule is logged with its reason"

assert_eq "$(mount_table)" "$mounts_before" "caller's mount table unchanged"
