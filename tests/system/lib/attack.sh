# shellcheck shell=bash
# Helpers of the attack suite (tests/system/attack_*.sh, issue 6). Source
# after harness.sh and module.sh, after harness_enter. Each attack checks what
# must hold (issue 6): no mount outside the intended target, as seen by the
# harness (this namespace) and by the host; nothing created, chowned,
# chmodded or deleted outside the intended place (tree snapshots); a refused
# session fails closed (driver exit 2 = pam_open_session failed) with one
# LOG_ERR line naming the cause.

# The user attacked and the PAM service used (use_module writes it).
ATTACK_USER=${ATTACK_USER:-alice}
# Trees where nothing may change unexpectedly. /etc is the harness's overlay:
# what the world (test, module, login programs) did to it is exactly its
# upper dir, walked as part of /run and shown as /etc/...; the merged view
# would also show what the host does to its own /etc meanwhile (apt
# rewriting /etc/group, *.dpkg-new files), which is none of the test's doing.
# Created, changed (copied up), chowned, chmodded and deleted (a whiteout,
# type c) entries of /etc all show there.
ATTACK_WATCHED=(/tmp /var/tmp /home /root /run)

# One line per entry of the watched trees: path owner group mode type inode.
# Each tree is walked on its own filesystem (-xdev: nothing mounted below it
# is walked twice); the harness's own bookkeeping files are left out.
tree_snapshot() {
    find "${ATTACK_WATCHED[@]}" -xdev -printf '%p %u %g %m %y %i\n' 2>/dev/null |
        grep -v -e '^/run/polyns-test/syslog' -e '^/run/polyns-test/attack-' \
            -e '^/run/polyns-test/etc/work[/ ]' -e '^/run/polyns[/ ]' |
        sed "s#^$POLYNS_TEST_ROOT/etc/upper\([/ ]\)#/etc\1#" | LC_ALL=C sort
}

# tree_changes BEFORE: what changed since BEFORE ("- line" gone, "+ line" new).
tree_changes() {
    diff <(printf '%s\n' "$1") <(tree_snapshot) | sed -n 's/^< /- /p; s/^> /+ /p' || true
}

# The host's mount points that came from this world (through the caller's
# /proc/PID/mountinfo; harness.sh's host_world_mounts): a mount of one of the
# world's filesystems or in a peer group of the world's. Mounts the host makes
# meanwhile (a tmpfs under /mnt or /run) are not the test's doing.
host_mount_points() { host_world_mounts | awk '{print $1}' | LC_ALL=C sort; }

# Mount points of this (the harness's) namespace.
local_mount_points() { awk '{print $5}' /proc/self/mountinfo | LC_ALL=C sort; }

# expect_refused CASE [DRIVER_OPTION...] -- NEEDLE...: $ATTACK_USER's session
# (service $MODULE_SERVICE) fails closed: exit 2 within 20 s (a hang fails),
# the command did not run, the module printed nothing, the driver is back in
# its own namespace, no mount appeared here or on the host, the watched trees
# are unchanged, one LOG_ERR line naming the user and every NEEDLE.
# ATTACK_ALLOWED_CHANGES (a regex of tree_changes lines) may excuse changes.
expect_refused() {
    local case=$1 rc=0 out driver=() before mounts host_before changes
    shift
    while [[ $1 != -- ]]; do driver+=("$1"); shift; done
    shift
    syslog_clear
    before=$(tree_snapshot)
    mounts=$(mount_table)
    host_before=$(host_mount_points)
    out=$(timeout 20 "$POLYNS_PAM_SESSION" --print-ns "${driver[@]}" "$MODULE_SERVICE" "$ATTACK_USER" \
        -- echo INSIDE 2>&1) || rc=$?
    [[ $rc != 124 ]] || fail "$case: the session hung (killed after 20 s)"
    assert_eq "$rc" "$OPEN_FAILED" "$case: refused (pam_open_session fails)"
    assert_contains "$out" "Cannot make/remove an entry for the specified session" "$case: PAM_SESSION_ERR"
    assert_not_contains "$out" INSIDE "$case: the command did not run"
    assert_eq "$(printf '%s\n' "$out" | grep -v '^polyns-pam-session: ' || true)" "" \
        "$case: the module wrote nothing to stdout/stderr"
    assert_contains "$out" "mntns after_open=$(mount_ns)" "$case: the caller is back in its own namespace"
    assert_eq "$(mount_table)" "$mounts" "$case: no mount left in the harness namespace"
    assert_eq "$(host_mount_points)" "$host_before" "$case: the host's mount table is unchanged"
    changes=$(tree_changes "$before")
    if [[ -n ${ATTACK_ALLOWED_CHANGES:-} ]]; then
        changes=$(printf '%s\n' "$changes" | grep -Ev -- "$ATTACK_ALLOWED_CHANGES" || true)
    fi
    assert_eq "$changes" "" "$case: nothing created, chowned, chmodded or deleted"
    assert_one_error_line "$ATTACK_USER" "$@"
}

# expect_opened CASE MOUNT_POINT... : $ATTACK_USER's session opens (exit 0
# within 20 s); inside it, the mounts not in the harness namespace are exactly
# on MOUNT_POINT...; afterwards no mount is left here or on the host, and no
# LOG_ERR line was written. Sets ATTACK_CHANGES to the tree changes (for the
# caller to check: usually the new instance directories).
# ATTACK_DRIVER_OPTIONS (array) and ATTACK_CMD_PREFIX (array, e.g. env
# --block-signal) change how the driver is started.
expect_opened() {
    local case=$1 rc=0 before mounts host_before inside new want
    shift
    syslog_clear
    before=$(tree_snapshot)
    mounts=$(mount_table)
    host_before=$(host_mount_points)
    inside=$(timeout 20 "${ATTACK_CMD_PREFIX[@]}" "$POLYNS_PAM_SESSION" "${ATTACK_DRIVER_OPTIONS[@]}" \
        "$MODULE_SERVICE" "$ATTACK_USER" -- awk '{print $5}' /proc/self/mountinfo 2>&1) || rc=$?
    [[ $rc != 124 ]] || fail "$case: the session hung (killed after 20 s)"
    assert_eq "$rc" 0 "$case: the session opens ($inside)"
    new=$(comm -13 <(local_mount_points) <(printf '%s\n' "$inside" | LC_ALL=C sort) | tr '\n' ' ')
    want=$(printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ' ')
    assert_eq "$new" "$want" "$case: the session's own mounts are exactly on: $*"
    assert_eq "$(mount_table)" "$mounts" "$case: no mount appeared in the harness namespace"
    assert_eq "$(host_mount_points)" "$host_before" "$case: the host's mount table is unchanged"
    syslog_settle
    assert_eq "$(polyns_log err)" "" "$case: no LOG_ERR line"
    ATTACK_CHANGES=$(tree_changes "$before")
}
ATTACK_DRIVER_OPTIONS=()
ATTACK_CMD_PREFIX=()

# assert_only_instance_created CASE CHANGES PATH OWNER GROUP MODE: the only
# change is one new directory PATH owned OWNER:GROUP with MODE.
assert_only_instance_created() {
    local case=$1 changes=$2 path=$3 owner=$4 group=$5 mode=$6 inode
    inode=$(stat -c %i "$path" 2>/dev/null) || fail "$case: $path was not created"
    assert_eq "$changes" "+ $path $owner $group $mode d $inode" \
        "$case: only the instance $path ($owner:$group $mode) was created"
}
