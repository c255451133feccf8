#!/bin/bash
# host_noise.sh [SECONDS]: a busy host, for running the system suite beside
# it (issue 10). Runs ON THE HOST, as root, in a loop until SECONDS have
# passed (default: until SIGINT/SIGTERM):
#   - creates, rewrites (new file + rename) and deletes its own files in
#     /etc, /root and /run (names polyns-noise.PID.*);
#   - rewrites /etc/group the way groupadd does: a new file with the same
#     content, owner, mode and times, renamed over it, under the same lock
#     groupadd takes (/etc/group.lock, shadow's link(2) protocol: a real
#     groupadd waiting for it retries), so the host's accounts stay
#     byte-identical and no concurrent change is lost; not while any mount
#     namespace has a mount on /etc/group (see group_mounted_somewhere:
#     an old test harness would then write its users into the host's file);
#   - mounts a tmpfs on its own directory under /mnt, writes a file there and
#     unmounts it.
# It touches nothing else. On exit (end of time, SIGINT, SIGTERM, an error)
# it unmounts and removes everything it made and drops its lock, then checks
# /etc/group is byte-identical to what it was (unless something else changed
# it meanwhile, which it reports) and that none of its names is left.
#
#   bash tests/host_noise.sh 1200 &   # beside: meson test -C build --suite system
set -euo pipefail

duration=${1:-0}
tag=polyns-noise.$$
mnt=/mnt/$tag
mounted=0
locked=0
rounds=0
group_renamed=0
group_skipped=0

[[ $(id -u) == 0 ]] || { echo "host_noise: needs root" >&2; exit 1; }

cleanup() {
    local status=$? path
    trap - EXIT INT TERM
    set +e
    ((mounted)) && umount "$mnt" && mounted=0
    [[ -d $mnt ]] && rmdir "$mnt"
    # Under our lock /etc/group+ is ours (groupadd waits for the lock).
    ((locked)) && rm -f /etc/group+ /etc/group.lock && locked=0
    rm -f "/etc/group.$$"
    for path in /etc /root /run; do rm -f "$path/$tag".*; done
    local left
    left=$(find /etc /root /run /mnt -maxdepth 1 -name "$tag*" 2>/dev/null)
    if [[ -n $left ]]; then
        echo "host_noise: LEFT BEHIND: $left" >&2
        status=1
    fi
    if [[ $(sha256sum </etc/group) != "$group_hash" ]]; then
        echo "host_noise: /etc/group differs from when it started (changed by something else meanwhile?)" >&2
        status=1
    fi
    echo "host_noise: $rounds rounds ($group_renamed renames of /etc/group, $group_skipped skipped while a" \
        "namespace had a mount on /etc/group), stopped; host restored (exit $status)"
    exit "$status"
}
group_hash=$(sha256sum </etc/group)
trap cleanup EXIT
trap 'exit 0' INT
trap 'exit 0' TERM

# shadow's commonio lock: /etc/group.PID holding our pid, linked to
# /etc/group.lock (link fails while someone holds it).
lock_group() {
    local pidfile=/etc/group.$$ tries=0
    echo $$ >"$pidfile"
    until ln "$pidfile" /etc/group.lock 2>/dev/null; do
        ((++tries < 100)) || { rm -f "$pidfile"; return 1; }
        sleep 0.05
    done
    locked=1
    rm -f "$pidfile"
}
unlock_group() {
    rm -f /etc/group.lock
    locked=0
}

# Is /etc/group a mount point in some mount namespace of this host? A test
# harness that bind-mounts a private copy over it (polyns's before issue 10,
# still in other people's trees) loses that mount when the file is renamed
# over, and its later writes to /etc/group land in the host's file: a rename
# then would make the host's accounts change. Skip the round instead.
group_mounted_somewhere() {
    local path inode pid
    declare -A seen=()
    while read -r path inode; do
        [[ -n ${seen[$inode]:-} ]] && continue
        seen[$inode]=1
        pid=${path#/proc/}
        pid=${pid%%/*}
        awk '$5 == "/etc/group" { found = 1 } END { exit !found }' "/proc/$pid/mountinfo" 2>/dev/null && return 0
    done < <(stat -L -c '%n %i' /proc/[0-9]*/ns/mnt 2>/dev/null)
    return 1
}

# The groupadd way: write /etc/group+, rename it over /etc/group.
rewrite_group() {
    lock_group || { group_skipped=$((group_skipped + 1)); return 0; }
    cp -p /etc/group /etc/group+
    # Looked at last, right before the rename: the window in which such a
    # harness could mount unseen is the scan itself (tens of ms).
    if ! cmp -s /etc/group /etc/group+ || group_mounted_somewhere; then
        group_skipped=$((group_skipped + 1))
    else
        mv /etc/group+ /etc/group && group_renamed=$((group_renamed + 1))
    fi
    rm -f /etc/group+
    unlock_group
}

# A file of our own in DIR: created, rewritten by rename, deleted.
churn() { # DIR
    local file=$1/$tag.$rounds
    echo "noise $rounds" >"$file"
    echo "noise $rounds rewritten" >"$file.new"
    mv "$file.new" "$file"
    chmod 0600 "$file"
    rm -f "$file"
}

mkdir "$mnt"
start=$(date +%s)
echo "host_noise: running as pid $$ (files $tag.*, mount point $mnt)$( ((duration)) && echo " for ${duration}s")"
while ((duration == 0 || $(date +%s) - start < duration)); do
    rounds=$((rounds + 1))
    churn /etc
    churn /root
    churn /run
    rewrite_group
    mount -t tmpfs -o size=1m "$tag" "$mnt"
    mounted=1
    echo "$rounds" >"$mnt/round"
    sleep 0.2
    umount "$mnt"
    mounted=0
    sleep 0.2
done
