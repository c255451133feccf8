#!/bin/bash
# Issue 6, catalogue entry 18: shadowing by an earlier mount. The seed's
# layout keeps /var/tmp's template under /tmp, and /tmp is mounted first.
# Once alice's instance is on /tmp, the path /tmp/var_tmpl resolves inside
# *her* directory: a module that resolves /var/tmp's template (or instance)
# by path after the first mount uses whatever she planted there. She plants
# look-alikes in her /tmp instance (symlinks to /etc, /root, /, her own /tmp
# instance; a directory of her own with a fake instance; a FIFO) and every
# session must still bind the host's /tmp/var_tmpl/alice on /var/tmp
# (DESIGN invariant 11: every fd is pinned before the first mount), change
# nothing anywhere else, and leave her plants as they were.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
require_module
add_standard_users
use_module
make_template /tmp/user_tmpl
make_template /tmp/var_tmpl
write_conf <<'EOF'
/tmp     /tmp/user_tmpl/ user
/var/tmp /tmp/var_tmpl/  user
EOF

# Look at a session from inside: device:inode of /tmp and /var/tmp, the
# marker file on /var/tmp, and the mount points the session added.
inside_view() {
    session alice sh -c 'stat -c "tmp=%d:%i" /tmp; stat -c "vartmp=%d:%i" /var/tmp
        echo "mark=$(cat /var/tmp/MARK 2>/dev/null)"
        awk "{print \"mp=\" \$5}" /proc/self/mountinfo'
}
dev_ino() { stat -c '%d:%i' "$1"; }

# check_uses_host_template CASE: alice's session opens, /tmp is the host's
# /tmp/user_tmpl/alice, /var/tmp the host's /tmp/var_tmpl/alice (same
# inode: not a look-alike), no other mount appears here, inside or on the
# host, no LOG_ERR line, and the watched trees (her plants included) are
# unchanged except for ALLOWED (a regex of tree_changes lines).
check_uses_host_template() {
    local case=$1 allowed=${2:-} before mounts host_before out new changes
    syslog_clear
    before=$(tree_snapshot)
    mounts=$(mount_table)
    host_before=$(host_mount_points)
    out=$(inside_view) || fail "$case: the session failed ($out)"
    assert_contains "$out" "tmp=$(dev_ino /tmp/user_tmpl/alice)" "$case: /tmp is alice's host instance"
    assert_contains "$out" "vartmp=$(dev_ino /tmp/var_tmpl/alice)" \
        "$case: /var/tmp is the host's /tmp/var_tmpl/alice, not a look-alike"
    assert_contains "$out" "mark=host" "$case: /var/tmp shows the host instance's content"
    new=$(comm -13 <(local_mount_points) <(printf '%s\n' "$out" | sed -n 's/^mp=//p' | LC_ALL=C sort) | tr '\n' ' ')
    assert_eq "$new" "/tmp /var/tmp " "$case: the session's own mounts are exactly /tmp and /var/tmp"
    assert_eq "$(mount_table)" "$mounts" "$case: no mount appeared in the harness namespace"
    assert_eq "$(host_mount_points)" "$host_before" "$case: the host's mount table is unchanged"
    syslog_settle
    assert_eq "$(polyns_log err)" "" "$case: no LOG_ERR line"
    changes=$(tree_changes "$before")
    [[ -z $allowed ]] || changes=$(printf '%s\n' "$changes" | grep -Ev -- "$allowed" || true)
    assert_eq "$changes" "" "$case: nothing created, chowned, chmodded or deleted elsewhere"
    for p in /etc/alice /root/alice /alice /tmp/user_tmpl/alice/alice; do
        [[ ! -e $p && ! -L $p ]] || fail "$case: $p was created"
    done
}

# The first session makes both instances; root marks the real one.
session alice true
echo host >/tmp/var_tmpl/alice/MARK && chown alice:alice /tmp/var_tmpl/alice/MARK
check_uses_host_template "18. no plant (baseline)"

# plant CMD...: alice runs CMD in her own session (so in her /tmp instance,
# which is /tmp/user_tmpl/alice on the host), as herself.
plant() { session alice setpriv --reuid=alice --regid=alice --clear-groups -- "$@"; }
unplant() { rm -rf /tmp/user_tmpl/alice/var_tmpl; }

for target in /etc /root / /tmp/user_tmpl /tmp /var/tmp/../../etc; do
    plant ln -s "$target" /tmp/var_tmpl
    [[ -L /tmp/user_tmpl/alice/var_tmpl ]] || fail "18. the plant did not land in alice's instance"
    check_uses_host_template "18. /tmp/var_tmpl in her instance is a symlink to $target"
    unplant
done

# A directory of her own that looks like the template, with a fake instance
# (her owner and mode, as the module would check) and a setuid-looking file.
plant sh -c 'mkdir -m 0755 /tmp/var_tmpl && mkdir -m 0700 /tmp/var_tmpl/alice &&
    echo fake >/tmp/var_tmpl/alice/MARK && chmod 4755 /tmp/var_tmpl/alice/MARK'
check_uses_host_template "18. a look-alike template directory with a fake instance"
# The fake instance is a symlink into /etc.
plant sh -c 'rm -rf /tmp/var_tmpl/alice && ln -s /etc /tmp/var_tmpl/alice'
check_uses_host_template "18. the look-alike's instance is a symlink to /etc"
unplant
plant mkfifo /tmp/var_tmpl
check_uses_host_template "18. /tmp/var_tmpl in her instance is a FIFO"
unplant

# The host instance does not exist yet (first /var/tmp session after an
# admin cleaned it): it is created in the host's template, not in her plant.
plant sh -c 'mkdir -m 0755 /tmp/var_tmpl && ln -s /etc /tmp/var_tmpl/alice'
rm -rf /tmp/var_tmpl/alice
session alice true
[[ -d /tmp/var_tmpl/alice && ! -L /tmp/var_tmpl/alice ]] || fail "18. the host's instance was not created"
assert_eq "$(stat -c '%U:%G %a' /tmp/var_tmpl/alice)" "alice:alice 700" "18. new host instance owner and mode"
assert_eq "$(stat -c %F /tmp/user_tmpl/alice/var_tmpl/alice)" "symbolic link" "18. her plant is untouched"
echo host >/tmp/var_tmpl/alice/MARK && chown alice:alice /tmp/var_tmpl/alice/MARK
check_uses_host_template "18. after a fresh instance was made beside the plant"
unplant

# tmpdir: the instance is made, mounted and removed at close through the
# pinned template fd, never through her look-alike.
write_conf <<'EOF'
/tmp     /tmp/user_tmpl/ user
/var/tmp /tmp/var_tmpl/  tmpdir
EOF
plant sh -c 'mkdir -m 0755 /tmp/var_tmpl && echo keep >/tmp/var_tmpl/file'
before=$(tree_snapshot)
# Inside, /tmp/var_tmpl is her look-alike; the host's template is seen
# through this (harness) shell's root.
out=$(session alice sh -c "stat -c vartmp=%d:%i /var/tmp
    for d in /proc/$$/root/tmp/var_tmpl/*; do
        [ \"\${d##*/}\" = alice ] || stat -c tmpdir=%d:%i \"\$d\"; done")
assert_contains "$out" "tmpdir=" "18. tmpdir: a temporary instance was made in the host's template"
assert_eq "$(printf '%s\n' "$out" | sed -n 's/^vartmp=//p')" "$(printf '%s\n' "$out" | sed -n 's/^tmpdir=//p')" \
    "18. tmpdir: /var/tmp is the temporary instance in the host's template"
assert_eq "$(ls -A /tmp/var_tmpl)" "alice" "18. tmpdir: the host template holds only the kept instance"
assert_eq "$(tree_changes "$before")" "" "18. tmpdir: the temporary instance was removed from the host template; her plant untouched"
assert_eq "$(cat /tmp/user_tmpl/alice/var_tmpl/file)" keep "18. tmpdir: her look-alike's content is intact"
syslog_settle
assert_eq "$(polyns_log err)" "" "18. tmpdir: no LOG_ERR line"
unplant
pass "18. shadowing: every second mount used the host's template"
