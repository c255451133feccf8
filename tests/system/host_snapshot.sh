#!/bin/bash
# host_snapshot.sh begin|end: proves the system suite leaves the host alone.
#
# Runs in the host's mount namespace (no harness_enter). `begin` (first test
# of the suite, alone) records the host's mount table, the hashes of the
# passwd/group/shadow/gshadow files, a listing with hashes of /etc/pam.d
# and /etc/security, the top of /home and /run, the login records and
# /root/.ssh; `end` (last test, alone) records the same and demands
# byte-identical output.
set -euo pipefail

mode=${1:-}
build_dir=${POLYNS_BUILD_DIR:?POLYNS_BUILD_DIR not set (run through meson test)}
snapshot_dir=$build_dir/host-snapshot
begin_file=$snapshot_dir/begin.txt
end_file=$snapshot_dir/end.txt

take_snapshot() {
    echo "## mount namespace"
    readlink /proc/self/ns/mnt
    echo "## /proc/self/mountinfo"
    cat /proc/self/mountinfo
    echo "## account files"
    sha256sum /etc/passwd /etc/group /etc/shadow /etc/gshadow
    stat -c '%n %a %u:%g %s' /etc/passwd /etc/group /etc/shadow /etc/gshadow
    echo "## /etc/pam.d /etc/security tree"
    find /etc/pam.d /etc/security -printf '%p %y %m %U:%G %s %l\n' | LC_ALL=C sort
    echo "## /etc/pam.d /etc/security contents"
    find /etc/pam.d /etc/security -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    # Where a test escaping its namespace would leave traces: homes, /run
    # (on the root filesystem here: a mkdir there in any namespace is a host
    # change), login records, root's ssh files.
    echo "## /home /run (top level)"
    find /home /run -maxdepth 1 -printf '%p %y %m %U:%G\n' | LC_ALL=C sort
    echo "## login records"
    stat -c '%n %s %Y' /var/log/wtmp /var/log/btmp /var/log/lastlog 2>/dev/null || true
    echo "## /root/.ssh"
    if [[ -d /root/.ssh ]]; then
        find /root/.ssh -printf '%p %y %m %s %T@\n' | LC_ALL=C sort
    fi
}

if [[ $(id -u) != 0 ]]; then
    echo "SKIP: system tests need root"
    exit 77
fi

case $mode in
begin)
    mkdir -p "$snapshot_dir"
    rm -f "$end_file"
    take_snapshot >"$begin_file"
    echo "host snapshot recorded in $begin_file ($(wc -l <"$begin_file") lines)"
    ;;
end)
    if [[ ! -f $begin_file ]]; then
        echo "SKIP: no host-snapshot-begin in this run (run the whole 'system' suite)"
        exit 77
    fi
    take_snapshot >"$end_file"
    # Consume the snapshot: a later partial run must not compare against it.
    mv "$begin_file" "$snapshot_dir/last-begin.txt"
    if diff -u "$snapshot_dir/last-begin.txt" "$end_file"; then
        echo "PASS: host mount table, account files, /etc/pam.d and /etc/security unchanged"
    else
        echo "FAIL: the host changed during the system suite (diff above: - before, + after)" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: host_snapshot.sh begin|end" >&2
    exit 2
    ;;
esac
