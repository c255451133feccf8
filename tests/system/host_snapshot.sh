#!/bin/bash
# host_snapshot.sh begin|end: proves the system suite leaves the host alone.
#
# Runs in the host's mount namespace (no harness_enter). `begin` (first test
# of the suite, alone) records the host's mount table, the passwd/group/
# shadow/gshadow files, /etc/pam.d and /etc/security with hashes, the top of
# /home and /run, the login records and /root/.ssh, and opens the world
# register (host-snapshot/worlds/): every test world the harness makes
# meanwhile leaves a record there when it ends (harness.sh's
# _harness_record_world): the host's mounts of its filesystems or in its peer
# groups (looked up while they exist), the account lines and /etc files it
# wrote, its entries in /home, /run and /root/.ssh. `end` (last test, alone)
# records the host again and fails on every recorded mount and every change
# that matches a world's record: a world's account line, a file with
# a world's content, a world's /home, /run or /root/.ssh entry, a login
# record of a world's user. Other changes of the host during the run (apt
# rewriting /etc/group, a service mounting under /run, other people's tests)
# are listed for information and do not count: the suite's test worlds are
# what this check is about. Host mounts that disappeared are listed too (no
# world can unmount a host mount: its / is private).
set -euo pipefail

mode=${1:-}
build_dir=${POLYNS_BUILD_DIR:?POLYNS_BUILD_DIR not set (run through meson test)}
snapshot_dir=$build_dir/host-snapshot
worlds_dir=$snapshot_dir/worlds
begin_dir=$snapshot_dir/begin
end_dir=$snapshot_dir/end

# take_snapshot DIR: one file per aspect of the host.
take_snapshot() {
    local dir=$1 file
    rm -rf "$dir"
    mkdir -p "$dir"
    readlink /proc/self/ns/mnt >"$dir/namespace"
    # mount point, filesystem, peer groups (the mount id changes with every
    # remount and says nothing about who made it).
    awk '{ tags = ""; for (i = 7; $i != "-"; i++) tags = tags " " $i; print $5, $3 tags }' /proc/self/mountinfo |
        LC_ALL=C sort >"$dir/mounts"
    for file in passwd group shadow gshadow; do
        LC_ALL=C sort -u "/etc/$file" >"$dir/$file"
    done
    find /etc/pam.d /etc/security -type f -print0 | xargs -0 -r sha256sum | awk '{ print $2, $1 }' |
        LC_ALL=C sort >"$dir/files"
    find /etc/pam.d /etc/security -printf '%p %y %m %U:%G %s %l\n' | LC_ALL=C sort >"$dir/tree"
    # Where a test escaping its namespace would leave traces.
    find /home /run -maxdepth 1 -printf 'entry %p %y %m %U:%G\n' | LC_ALL=C sort >"$dir/entries"
    if [[ -d /root/.ssh ]]; then
        find /root/.ssh -printf 'ssh %p %y %m %s\n' | LC_ALL=C sort >"$dir/ssh"
    else
        : >"$dir/ssh"
    fi
    : >"$dir/logins"
    for file in /var/log/wtmp /var/log/btmp; do
        [[ -s $file ]] && utmpdump "$file" 2>/dev/null | sed "s#^#$file #" >>"$dir/logins"
    done
    LC_ALL=C sort -o "$dir/logins" "$dir/logins"
}

added() { LC_ALL=C comm -13 "$begin_dir/$1" "$end_dir/$1"; } # lines new at end
removed() { LC_ALL=C comm -23 "$begin_dir/$1" "$end_dir/$1"; }

# The worlds' records, one kind: "KIND rest" lines -> "rest" lines, sorted.
recorded() {
    find "$worlds_dir" -type f ! -name '*.tmp' -exec cat {} + 2>/dev/null | sed -n "s/^$1 //p" | LC_ALL=C sort -u || true
}

if [[ $(id -u) != 0 ]]; then
    echo "SKIP: system tests need root"
    exit 77
fi

case $mode in
begin)
    rm -rf "$worlds_dir" "$end_dir"
    take_snapshot "$begin_dir"
    mkdir -p "$worlds_dir"
    echo "host snapshot recorded in $begin_dir; the test worlds record themselves in $worlds_dir"
    ;;
end)
    if [[ ! -f $begin_dir/mounts ]]; then
        echo "SKIP: no host-snapshot-begin in this run (run the whole 'system' suite)"
        exit 77
    fi
    take_snapshot "$end_dir"
    nworlds=$(find "$worlds_dir" -type f ! -name '*.tmp' 2>/dev/null | wc -l)
    problems=()
    report() { problems+=("$1"); printf 'FROM A TEST WORLD: %s\n' "$1" >&2; }

    [[ $(cat "$begin_dir/namespace") == "$(cat "$end_dir/namespace")" ]] ||
        report "begin and end ran in different mount namespaces"
    # Mounts: each world looked for its filesystems and peer groups in the
    # host's table when it ended (device and group numbers are reused later).
    while IFS= read -r line; do
        [[ -n $line ]] && report "mount of a test world's filesystem in the host: $line"
    done < <(recorded leak-mount)
    # Account files: lines a world added.
    for file in passwd group shadow gshadow; do
        while IFS= read -r line; do
            [[ -n $line ]] || continue
            grep -qxF -- "/etc/$file $line" <<<"$(recorded line)" &&
                report "/etc/$file has a test world's line: ${line%%:*}:..."
        done < <(added "$file")
    done
    # pam.d, security: a file with the content a world gave it.
    files=$(recorded file)
    while read -r path hash; do
        [[ -n $path ]] || continue
        grep -qxF -- "$path $hash" <<<"$files" && report "$path has a test world's content"
    done < <(added files)
    # /home, /run, /root/.ssh: a world's entry.
    for kind in entries ssh; do
        rec=$(recorded "$([[ $kind == entries ]] && echo entry || echo ssh)")
        while IFS= read -r line; do
            [[ -n $line ]] || continue
            grep -qxF -- "${line#* }" <<<"$rec" && report "${line#* } (a test world's)"
        done < <(added "$kind")
    done
    # Login records of a world's user (utmpdump shows the user in [brackets]).
    # (The worlds' users: the names of the passwd lines they added.)
    users=$(recorded line | sed -n 's#^/etc/passwd \([^:]*\):.*#\1#p' | LC_ALL=C sort -u)
    while IFS= read -r line; do
        [[ -n $line ]] || continue
        for user in $(grep -oE '\[[^]]*\]' <<<"$line" | tr -d '[]' | sort -u); do
            if grep -qxF -- "$user" <<<"$users" && ! grep -q -- "^$user:" "$begin_dir/passwd"; then
                report "login record of the test world's user $user: $line"
            fi
        done
    done < <(added logins)

    other=$(for aspect in mounts passwd group shadow gshadow files tree entries ssh logins; do
        added "$aspect" | sed "s#^#+ $aspect: #"
        removed "$aspect" | sed "s#^#- $aspect: #"
    done)
    if [[ -n $other ]]; then
        echo "host changes during the run ($nworlds test worlds recorded; only those matching a world count):"
        printf '%s\n' "$other" | cut -c1-200 | head -n 100
    fi
    # Consume the snapshot: a later partial run must not compare against it.
    rm -rf "$snapshot_dir/last-begin"
    mv "$begin_dir" "$snapshot_dir/last-begin"
    rm -rf "$snapshot_dir/last-worlds"
    mv "$worlds_dir" "$snapshot_dir/last-worlds"
    if ((${#problems[@]})); then
        echo "FAIL: the system suite changed the host: ${#problems[@]} changes come from test worlds (above)" >&2
        exit 1
    fi
    echo "PASS: nothing of $nworlds test worlds reached the host's mount table, account files, /etc/pam.d, /etc/security, /home, /run, /root/.ssh or login records"
    ;;
*)
    echo "usage: host_snapshot.sh begin|end" >&2
    exit 2
    ;;
esac
