# shellcheck shell=bash
# polyns system-test harness. Source it, then call harness_enter "$@" first:
#
#   #!/bin/bash
#   source "$(dirname "$0")/lib/harness.sh"
#   harness_enter "$@"
#   require_module
#   add_user alice 1001
#   write_pam_service polyns-test <<EOF
#   session required $POLYNS_MODULE
#   EOF
#   out=$(pam_session polyns-test alice -- cat /proc/self/mountinfo)
#   assert_contains "$out" " /tmp " "alice's /tmp is a mount"
#
# Or run it: `bash tests/system/lib/harness.sh [CMD...]` runs CMD (default: an
# interactive shell) inside a fresh harness world.
#
# harness_enter re-executes the script in a throwaway mount namespace
# (propagation private) and builds a private world there: tmpfs over /tmp,
# /var/tmp, /home, /root, /run (with /run/polyns-test, /run/sshd, /run/lock)
# and /var/log; an overlay over /etc (tmpfs upper: what a test writes there
# stays in the world) with the world's own copies of
# /etc/{passwd,group,shadow,gshadow}, /etc/pam.d and /etc/security; a private
# /dev (null zero full random urandom tty, a new devpts instance, /dev/shm)
# whose /dev/log is a syslog sink. The host's filesystems (/, /usr, /var, the
# checkout, ...) are read-only there, but for the build directory
# (_harness_readonly_host). Nothing a test does there reaches the host: the
# namespace and all its mounts vanish with the last process in it.
#
# Shell mode: `set -euo pipefail` (and an ERR trap naming the failing line).
# Do not install your own EXIT trap: it would replace the harness's cleanup;
# register cleanups with harness_on_exit instead.
#
# Environment (meson sets these; computed from the tree when run by hand):
#   POLYNS_SOURCE_DIR POLYNS_BUILD_DIR POLYNS_MODULE POLYNS_CLI
#   POLYNS_PAM_SESSION POLYNS_SYSLOG_SINK
# Set inside: POLYNS_TEST_ROOT (/run/polyns-test), POLYNS_SYSLOG_FILE.
# POLYNS_HARNESS_ETC=copy: /etc a copy instead of an overlay (the fallback
# where the kernel cannot stack another overlay).

set -euo pipefail
set -E
trap '_harness_err_report $? "${BASH_SOURCE[0]:-?}" "$LINENO" "$BASH_COMMAND"' ERR

_harness_err_report() {
    echo "harness: command failed (exit $1) at $2:$3: $4" >&2
}

HARNESS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${POLYNS_SOURCE_DIR:=$(cd "$HARNESS_LIB_DIR/../../.." && pwd)}"
if [[ -z ${POLYNS_BUILD_DIR:-} ]]; then
    if [[ -f $PWD/build.ninja ]]; then
        POLYNS_BUILD_DIR=$PWD
    else
        POLYNS_BUILD_DIR=$POLYNS_SOURCE_DIR/build
    fi
fi
# A relative build directory (POLYNS_BUILD_DIR=build-bench) names the module
# for libpam, which would look for it under /lib/security: make it absolute.
[[ $POLYNS_BUILD_DIR == /* ]] || POLYNS_BUILD_DIR=$PWD/$POLYNS_BUILD_DIR
: "${POLYNS_MODULE:=$POLYNS_BUILD_DIR/src/pam/pam_polyns.so}"
: "${POLYNS_CLI:=$POLYNS_BUILD_DIR/src/cli/polyns}"
: "${POLYNS_PAM_SESSION:=$POLYNS_BUILD_DIR/tests/system/polyns-pam-session}"
: "${POLYNS_SYSLOG_SINK:=$POLYNS_BUILD_DIR/tests/system/polyns-syslog-sink}"
export POLYNS_SOURCE_DIR POLYNS_BUILD_DIR POLYNS_MODULE POLYNS_CLI POLYNS_PAM_SESSION POLYNS_SYSLOG_SINK

POLYNS_TEST_ROOT=/run/polyns-test
POLYNS_SYSLOG_FILE=$POLYNS_TEST_ROOT/syslog.log
export POLYNS_TEST_ROOT POLYNS_SYSLOG_FILE

case ":$PATH:" in
*:/usr/sbin:*) ;;
*) PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin ;;
esac
export PATH

# ---------------------------------------------------------------- assertions

pass() { echo "PASS: $*"; }

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

skip() {
    echo "SKIP: $*"
    exit 77
}

# assert_eq ACTUAL EXPECTED MSG
assert_eq() {
    if [[ "$1" == "$2" ]]; then
        pass "$3"
    else
        fail "$3: expected [$2], got [$1]"
    fi
}

# assert_contains HAYSTACK NEEDLE MSG (fixed string)
assert_contains() {
    if [[ "$1" == *"$2"* ]]; then
        pass "$3"
    else
        printf '%s\n' "--- text searched:" "$1" "---" >&2
        fail "$3: [$2] not found"
    fi
}

# assert_not_contains HAYSTACK NEEDLE MSG (fixed string)
assert_not_contains() {
    if [[ "$1" != *"$2"* ]]; then
        pass "$3"
    else
        printf '%s\n' "--- text searched:" "$1" "---" >&2
        fail "$3: [$2] found"
    fi
}

# assert_status EXPECTED_STATUS MSG CMD...: runs CMD, compares its exit status.
assert_status() {
    local expected=$1 message=$2 status=0
    shift 2
    "$@" || status=$?
    assert_eq "$status" "$expected" "$message (exit status of: $*)"
}

# ------------------------------------------------------------ the namespace

_harness_mount_ns() { readlink /proc/self/ns/mnt; }

# The init mount namespace as far as we can see it: PID 1's (unreadable in
# some VMs, e.g. firecracker's process_api denies it even to root) and
# kthreadd's (kernel threads always live in the initial namespaces).
_harness_init_namespaces() {
    readlink /proc/1/ns/mnt 2>/dev/null || true
    if [[ $(cat /proc/2/comm 2>/dev/null) == kthreadd ]]; then
        readlink /proc/2/ns/mnt 2>/dev/null || true
    fi
}

# Refuses (exit 1) unless we are in a mount namespace of our own: not the one
# harness_enter was called from, and not the init namespace.
_harness_check_namespace() {
    local here outer init_ns
    here=$(_harness_mount_ns)
    outer=${POLYNS_HARNESS_OUTER_NS:-}
    if [[ -z $outer ]]; then
        echo "harness: REFUSING to run: POLYNS_HARNESS_INSIDE is set but no outer namespace was recorded;" \
            "start the test through harness_enter, not with POLYNS_HARNESS_INSIDE by hand" >&2
        exit 1
    fi
    if [[ $here == "$outer" ]]; then
        echo "harness: REFUSING to run: still in the caller's mount namespace ($here);" \
            "this would modify the host's /etc and mounts" >&2
        exit 1
    fi
    for init_ns in $(_harness_init_namespaces); do
        if [[ $here == "$init_ns" ]]; then
            echo "harness: REFUSING to run: in the init mount namespace ($here);" \
                "this would modify the host's /etc and mounts" >&2
            exit 1
        fi
    done
}

# Fails unless harness_enter has built the private world in this namespace;
# every helper that writes /etc or mounts calls it first.
_harness_require_inside() {
    if [[ -z ${POLYNS_HARNESS_NS:-} || ! -e $POLYNS_TEST_ROOT/.ready ]] ||
        [[ $(_harness_mount_ns) != "$POLYNS_HARNESS_NS" ]]; then
        fail "${FUNCNAME[1]:-harness}: not inside the harness namespace (call harness_enter \"\$@\" first)"
    fi
}

# harness_on_exit CMD...: run CMD (as one eval'd string) when the script exits,
# before the harness's own cleanup; last registered runs first. The script's
# exit status is in $HARNESS_EXIT_STATUS then.
_harness_exit_actions=()
harness_on_exit() { _harness_exit_actions=("$*" "${_harness_exit_actions[@]}"); }

# harness_on_failure CMD...: as harness_on_exit, but only when the script
# fails (exits neither 0 nor 77): e.g. harness_on_failure 'sshd_log_lines >&2'.
harness_on_failure() {
    harness_on_exit "[[ \$HARNESS_EXIT_STATUS == 0 || \$HARNESS_EXIT_STATUS == 77 ]] || { $*; }"
}

# harness_full_syslog_on_failure: a failed test prints every syslog line the
# world received, not only the last 40 (where an early session's line
# explains a late failure).
_harness_syslog_on_failure=40
harness_full_syslog_on_failure() { _harness_syslog_on_failure=all; }

_harness_cleanup() {
    local status=$? action
    trap - ERR
    set +e
    HARNESS_EXIT_STATUS=$status
    for action in "${_harness_exit_actions[@]}"; do
        eval "$action"
    done
    # A failed test's log should say what the modules logged.
    if [[ $status != 0 && $status != 77 && -s $POLYNS_SYSLOG_FILE ]]; then
        if [[ $_harness_syslog_on_failure == all ]]; then
            echo "--- harness: every syslog line received ($(wc -l <"$POLYNS_SYSLOG_FILE")):" >&2
            cat "$POLYNS_SYSLOG_FILE" >&2
        else
            echo "--- harness: last syslog lines received (of $(wc -l <"$POLYNS_SYSLOG_FILE")):" >&2
            tail -n "$_harness_syslog_on_failure" "$POLYNS_SYSLOG_FILE" >&2
        fi
        echo "---" >&2
    fi
    if [[ -n ${_harness_sink_pid:-} ]]; then
        kill -TERM "$_harness_sink_pid" 2>/dev/null
        wait "$_harness_sink_pid" 2>/dev/null
        _harness_sink_pid=
    fi
    _harness_reap_leftovers
    _harness_record_world
    return "$status"
}

# While the system suite runs (host-snapshot-begin made the directory), every
# world leaves a record: the host's mounts of its filesystems or peer groups
# at its end (there should be none), and what it had that the host must
# never get: the account lines and /etc files it wrote, its entries in
# /home, /run and /root/.ssh. host-snapshot-end
# fails on a host change that matches a record, and only on those: the host
# changing by itself meanwhile (apt, other tests, services) is not the suite.
_harness_record_world() {
    local dir
    [[ ${POLYNS_HARNESS_NS:-} == "$(_harness_mount_ns)" && -e $POLYNS_TEST_ROOT/.ready ]] || return 0
    # Through the host's view: the build dir may lie below /home or /tmp,
    # which are the world's own here.
    dir=$(host_path "$POLYNS_BUILD_DIR/host-snapshot/worlds" 2>/dev/null) || return 0
    [[ -d $dir ]] || return 0
    local record=$dir/${POLYNS_HARNESS_NS//[^0-9]/}.$$ file upper=$POLYNS_TEST_ROOT/etc/upper
    {
        # Checked now, while the world's filesystems and peer groups exist:
        # their numbers are reused once they are gone.
        host_world_mounts | sed 's/^/leak-mount /'
        for file in passwd group shadow gshadow; do
            [[ -f $upper/$file ]] || continue
            # Lines the world added or changed.
            LC_ALL=C comm -23 <(LC_ALL=C sort -u "$upper/$file") "$POLYNS_TEST_ROOT/etc/pristine-$file" |
                sed "s#^#line /etc/$file #"
        done
        # Files the world wrote in /etc: the overlay's upper dir (but the
        # account files, above) and what changed in its pam.d and security.
        (cd "$upper" && find . -type f -printf '%P\0' | xargs -0 -r sha256sum) |
            awk '$2 !~ /^(passwd|group|shadow|gshadow)$/ { print "file /etc/" $2, $1 }' | LC_ALL=C sort |
            LC_ALL=C comm -23 - "$POLYNS_TEST_ROOT/etc/pristine-files"
        local sub
        for sub in pam.d security; do
            (cd "$POLYNS_TEST_ROOT/$sub" && find . -type f -printf '%P\0' | xargs -0 -r sha256sum) |
                awk -v d="/etc/$sub/" '{ print "file " d $2, $1 }'
        done | LC_ALL=C sort | LC_ALL=C comm -23 - <(LC_ALL=C sort "$POLYNS_TEST_ROOT/etc/pristine")
        find /home /run -maxdepth 1 -printf 'entry %p %y %m %U:%G\n'
        if [[ -d /root/.ssh ]]; then find /root/.ssh -printf 'ssh %p %y %m %s\n'; fi
        true
    } 2>/dev/null | LC_ALL=C sort -u >"$record.tmp" && mv "$record.tmp" "$record"
}

# A daemon a test forgot to stop (sshd, a session's sleep) would keep the
# namespace alive and hold meson's output pipe, so the run hangs until its
# timeout. Kill, by pid, what is left in *this* namespace: the id is unique,
# no process outside the test can match it.
_harness_reap_leftovers() {
    local here here_inode path inode pid leftovers=() table
    here=$(_harness_mount_ns)
    [[ $here == "${POLYNS_HARNESS_NS:-}" ]] || return 0
    here_inode=${here//[^0-9]/}
    # One stat for all processes: the namespace's inode is the number in mnt:[N].
    table=$(stat -L -c '%n %i' /proc/[0-9]*/ns/mnt 2>/dev/null || true)
    while read -r path inode; do
        [[ $inode == "$here_inode" ]] || continue
        pid=${path#/proc/}
        pid=${pid%%/*}
        [[ $pid == "$$" || $pid == "$BASHPID" || $pid == "${_harness_sink_pid:-}" ]] && continue
        # Our own ancestors (a nested harness script) are not leftovers.
        _harness_is_ancestor "$pid" && continue
        leftovers+=("$pid")
    done <<<"$table"
    [[ ${#leftovers[@]} -gt 0 ]] || return 0
    disown -a 2>/dev/null # no "Killed" job notices
    for pid in "${leftovers[@]}"; do
        [[ -e /proc/$pid ]] || continue
        echo "harness: killing leftover process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80))" >&2
        kill -KILL "$pid" 2>/dev/null
    done
}

_harness_is_ancestor() { # PID
    local current=$$ parent
    while [[ $current -gt 1 ]]; do
        parent=$(awk '/^PPid:/ {print $2}' "/proc/$current/status" 2>/dev/null) || return 1
        [[ $parent == "$1" ]] && return 0
        [[ -n $parent ]] || return 1
        current=$parent
    done
    return 1
}

_harness_tmpfs() { # DIR MODE [EXTRA_OPTIONS]
    mkdir -p "$1"
    # Source "tmpfs", as on a real host: session transcripts read naturally.
    mount -n -t tmpfs -o "mode=$2${3:+,$3}" tmpfs "$1"
}

_harness_setup_private_dev() {
    local hostdev=$POLYNS_TEST_ROOT/hostdev node tty_gid
    mkdir -p "$hostdev"
    mount -n --bind /dev "$hostdev"
    _harness_tmpfs /dev 0755 nosuid
    for node in null zero full random urandom tty; do
        : >"/dev/$node"
        mount -n --bind "$hostdev/$node" "/dev/$node"
    done
    umount -n "$hostdev"
    rmdir "$hostdev"
    ln -s /proc/self/fd /dev/fd
    ln -s /proc/self/fd/0 /dev/stdin
    ln -s /proc/self/fd/1 /dev/stdout
    ln -s /proc/self/fd/2 /dev/stderr
    tty_gid=$(getent group tty | cut -d: -f3 || true)
    mkdir /dev/pts
    mount -n -t devpts -o "newinstance,ptmxmode=0666,mode=620${tty_gid:+,gid=$tty_gid}" devpts /dev/pts
    ln -s pts/ptmx /dev/ptmx
    _harness_tmpfs /dev/shm 1777 nosuid,nodev
}

_harness_start_syslog_sink() {
    [[ -x $POLYNS_SYSLOG_SINK ]] ||
        fail "syslog sink not built: $POLYNS_SYSLOG_SINK (run: ninja -C $POLYNS_BUILD_DIR)"
    : >"$POLYNS_SYSLOG_FILE"
    "$POLYNS_SYSLOG_SINK" /dev/log "$POLYNS_SYSLOG_FILE" </dev/null >>"$POLYNS_TEST_ROOT/syslog-sink.err" 2>&1 &
    _harness_sink_pid=$!
    local tries=0
    until [[ -S /dev/log ]]; do
        if ! kill -0 "$_harness_sink_pid" 2>/dev/null; then
            cat "$POLYNS_TEST_ROOT/syslog-sink.err" >&2
            fail "syslog sink exited before binding /dev/log"
        fi
        ((++tries > 500)) && fail "syslog sink did not create /dev/log within 5s"
        sleep 0.01
    done
}

# /etc becomes an overlay: the host's /etc below, a tmpfs upper dir above
# ($POLYNS_TEST_ROOT/etc/upper), so whatever a test or the module writes in
# /etc lands there. The account files are copied up at once: from then on
# they are the world's own. (A bind mount of a copy over the host's
# /etc/group would not do: when the host replaces the file, as groupadd and
# apt's maintainer scripts do with a new file and rename(2), the kernel
# detaches every mount on the old file in every namespace, and the test
# suddenly sees the host's accounts without its users: "chown: invalid
# group: 'alice:alice'".) Host mounts on files below /etc (a container's
# /etc/hosts, /etc/resolv.conf) are hidden by the overlay: their content is
# copied in.
_harness_private_etc() {
    local base=$POLYNS_TEST_ROOT/etc target saved=$POLYNS_TEST_ROOT/etc/mounted file i=0
    mkdir -p "$base/upper" "$base/work" "$saved"
    local -a targets=()
    while read -r target; do
        [[ -f $target ]] || continue
        cp -p -- "$target" "$saved/$i"
        targets+=("$target")
        i=$((i + 1))
    done < <(awk '$5 ~ "^/etc/" { print $5 }' /proc/self/mountinfo)
    : >"$base/pristine-files"
    echo "POLYNS_HARNESS_ETC=${POLYNS_HARNESS_ETC:-overlay}" >"$base/mode"
    if [[ ${POLYNS_HARNESS_ETC:-overlay} == overlay ]] &&
        mount -n -t overlay -o "lowerdir=/etc,upperdir=$base/upper,workdir=$base/work" overlay /etc 2>"$base/mode"; then
        echo overlay >"$base/mode"
    else
        # No overlay possible (a root filesystem that is itself an overlay,
        # nested worlds beyond the kernel's stacking depth) or
        # POLYNS_HARNESS_ETC=copy: a copy of /etc bound over it. The "upper
        # dir" is then the whole copy; pristine-files says what it held.
        echo "harness: /etc is a copy, not an overlay ($(cat "$base/mode"))" >&2
        echo copy >"$base/mode"
        cp -a /etc/. "$base/upper/"
        (cd "$base/upper" && find . -type f -printf '%P\0' | xargs -0 -r sha256sum) |
            awk '{ print "file /etc/" $2, $1 }' | LC_ALL=C sort >"$base/pristine-files"
        mount -n --bind "$base/upper" /etc
    fi
    for ((i = 0; i < ${#targets[@]}; i++)); do
        cp -p -- "$saved/$i" "${targets[i]}"
    done
    rm -rf -- "$saved"
    for file in passwd group shadow gshadow; do
        [[ -e /etc/$file ]] || continue
        : >>"/etc/$file" # opened for writing: copied up, unchanged
        LC_ALL=C sort -u "/etc/$file" >"$base/pristine-$file"
    done
    # polyns trusts config only if root-owned and not group/other-writable.
    # Own copies (bind-mounted directories) so that a package adding a file
    # to the host's pam.d meanwhile does not show up in the merged overlay.
    local dir
    for dir in pam.d security; do
        cp -a "/etc/$dir" "$POLYNS_TEST_ROOT/$dir"
        chown -R 0:0 "$POLYNS_TEST_ROOT/$dir"
        chmod -R go-w "$POLYNS_TEST_ROOT/$dir"
        mount -n --bind "$POLYNS_TEST_ROOT/$dir" "/etc/$dir"
        (cd "$POLYNS_TEST_ROOT/$dir" && find . -type f -printf '%P\0' | xargs -0 -r sha256sum) |
            awk -v d="/etc/$dir/" '{ print "file " d $2, $1 }' >>"$POLYNS_TEST_ROOT/etc/pristine"
    done
}

# The host's filesystems are read-only in every world: a test (or the module
# it drives: a corpus naming /tmp-inst creates that template) can write only
# where the harness made a place for it, never on the host's /, /usr, /var,
# /srv or the checkout. Each host mount the world inherited gets its own
# bind remount ro (MS_REMOUNT|MS_BIND changes this namespace's mount, not the
# filesystem: the host's mount keeps its flags; harness-selftest checks
# both), before the harness stacks its own mounts, which stay writable:
#   /tmp /var/tmp /home /root /run /var/log /dev  tmpfs (_harness_setup)
#   /etc                 the overlay's upper dir in /run (_harness_private_etc)
#   $POLYNS_BUILD_DIR    itself, bound rw: tests leave artifacts for meson's
#                        log there (run_bench.sh's polyns-bench.json, coverage
#                        data), and host-snapshot's records (via host_path)
# Skipped: /proc, /sys and /dev (kernel interfaces, not storage; /dev is
# replaced), and mounts below the directories the harness covers with its
# own tmpfs (a world cannot reach them; a user's FUSE mount below /run/user
# would refuse root's remount). A mount the host has read-only stays so.
# POLYNS_HARNESS_ROOT=writable (only where / is itself throwaway: the
# packaging tests' fresh chroot, where dpkg -i installs) leaves them as they are.
_harness_readonly_host() {
    [[ ${POLYNS_HARNESS_ROOT:-readonly} == writable ]] && return 0
    [[ ${POLYNS_HARNESS_ROOT:-readonly} == readonly ]] ||
        fail "POLYNS_HARNESS_ROOT=${POLYNS_HARNESS_ROOT}: expected readonly (the default) or writable"
    local build mount_point options
    build=$(realpath -e -- "$POLYNS_BUILD_DIR" 2>/dev/null) || build=
    if [[ -n $build ]]; then
        mount -n --bind "$build" "$build"
    fi
    # Field 5 the mount point (octal escapes for blanks), field 6 the per-mount
    # options; in mount order, so a parent is remounted before its children.
    while read -r mount_point options; do
        mount_point=$(printf '%b' "$mount_point")
        case $mount_point in
        /proc | /proc/* | /sys | /sys/* | /dev | /dev/*) continue ;;
        /tmp/* | /var/tmp/* | /home/* | /root/* | /run/* | /var/log/*) continue ;;
        esac
        [[ $mount_point == "$build" ]] && continue
        [[ ,$options, == *,ro,* ]] && continue
        options=${options/#rw,/}
        options=${options/#rw/}
        mount -n -o "remount,bind,ro${options:+,$options}" "$mount_point" ||
            fail "harness: cannot make the host's $mount_point read-only in this world"
    done < <(awk '{ print $5, $6 }' /proc/self/mountinfo)
}

_harness_setup() {
    # Private: mounts the host makes from now on (under /run, /mnt ...) do not
    # appear here, and nothing of ours reaches the host. A test that needs
    # propagation builds its own shared subtree (harness_make_shared).
    mount -n --make-rprivate /
    # The filesystems the host has now: any other one in this world is the
    # world's own (host_world_mounts).
    local host_devices
    host_devices=$(awk '{ print $3 }' "/proc/${POLYNS_HARNESS_OUTER_PID:-0}/mountinfo" 2>/dev/null | LC_ALL=C sort -u) || true
    _harness_readonly_host

    # /run first: /run/polyns-test lives there. A tmpfs over all of /run also
    # catches what PAM stacks write there (pam_motd's /run/motd.dynamic, ...).
    _harness_tmpfs /run 0755 nosuid,nodev
    mkdir -m 0755 "$POLYNS_TEST_ROOT" "$POLYNS_TEST_ROOT/etc" /run/sshd /run/user
    printf '%s\n' "$host_devices" >"$POLYNS_TEST_ROOT/host-devices"
    mkdir -m 1777 /run/lock
    ln -s /dev/shm /run/shm

    _harness_tmpfs /tmp 1777
    _harness_tmpfs /var/tmp 1777
    _harness_tmpfs /home 0755
    _harness_tmpfs /root 0700
    # sshd, su and login write wtmp/btmp/lastlog.
    _harness_tmpfs /var/log 0755
    local utmp_gid
    utmp_gid=$(getent group utmp | cut -d: -f3 || echo 0)
    install -m 0664 -o 0 -g "$utmp_gid" /dev/null /var/log/wtmp
    install -m 0664 -o 0 -g "$utmp_gid" /dev/null /var/log/lastlog
    install -m 0660 -o 0 -g "$utmp_gid" /dev/null /var/log/btmp

    _harness_private_etc

    _harness_setup_private_dev
    _harness_start_syslog_sink

    touch "$POLYNS_TEST_ROOT/.ready"
}

# harness_enter "$@": the first line of every system test.
harness_enter() {
    if [[ $(id -u) != 0 ]]; then
        skip "system tests need root (they mount and add users inside a throwaway namespace)"
    fi
    if [[ -z ${POLYNS_HARNESS_INSIDE:-} ]]; then
        command -v unshare >/dev/null || fail "unshare (util-linux) not found"
        local script
        script=$(realpath -- "$0")
        [[ -f $script ]] ||
            fail "harness_enter re-executes its script, but \$0 ($0) is not a file; use: bash $HARNESS_LIB_DIR/harness.sh CMD..."
        POLYNS_HARNESS_OUTER_NS=$(_harness_mount_ns)
        # Our parent stays in the caller's namespace while we run: its
        # /proc/PID/root and mountinfo are the host's view (see host_path).
        POLYNS_HARNESS_OUTER_PID=$PPID
        export POLYNS_HARNESS_OUTER_NS POLYNS_HARNESS_OUTER_PID
        exec unshare --mount --propagation private -- env POLYNS_HARNESS_INSIDE=1 bash "$script" "$@"
    fi
    _harness_check_namespace
    if [[ ${POLYNS_HARNESS_CHECK_ONLY:-} == 1 ]]; then
        echo "harness: namespace check passed (POLYNS_HARNESS_CHECK_ONLY: nothing mounted)"
        exit 0
    fi
    # A nested script (e.g. a helper sourced by a test) in an already built world.
    if [[ ${POLYNS_HARNESS_NS:-} == "$(_harness_mount_ns)" && -e $POLYNS_TEST_ROOT/.ready ]]; then
        return 0
    fi
    trap _harness_cleanup EXIT
    _harness_setup
    POLYNS_HARNESS_NS=$(_harness_mount_ns)
    export POLYNS_HARNESS_NS
    case $PWD in
    /tmp | /tmp/* | /var/tmp | /var/tmp/* | /home | /home/* | /run | /run/* | /root | /root/*) cd / ;;
    esac
}

# harness_make_shared: make every mount of the harness world shared (new
# peer groups, private to this namespace: it was made rprivate first, so
# nothing links back to the host). A session namespace unshared from here
# then starts as our peer, and a mount it makes flows back here unless the
# module makes its tree slave or private: invariant 5 becomes observable in
# this namespace's /proc/self/mountinfo without touching the host.
harness_make_shared() {
    _harness_require_inside
    mount -n --make-rshared /
}

# ------------------------------------------------------------ the host's view

# The pid of a live process in the caller's (host) namespace, or fail.
_harness_outer_pid() {
    local pid=${POLYNS_HARNESS_OUTER_PID:-}
    [[ -n $pid && $(readlink "/proc/$pid/ns/mnt" 2>/dev/null) == "${POLYNS_HARNESS_OUTER_NS:-}" ]] ||
        fail "the host's view is gone (caller pid ${pid:-?} exited or changed namespace)"
    echo "$pid"
}

# host_path PATH: a path through which PATH is read as the host sees it
# (read only, please), e.g. [[ -e $(host_path /tmp/x) ]].
host_path() {
    local pid
    pid=$(_harness_outer_pid)
    echo "/proc/$pid/root$1"
}

# host_mountinfo: the host namespace's mount table.
host_mountinfo() {
    local pid
    pid=$(_harness_outer_pid)
    cat "/proc/$pid/mountinfo"
}

# host_world_mounts: "MOUNT_POINT MAJOR:MINOR" of every mount in the host's
# table that came from this world: a filesystem the world has and the host
# did not have when the world was made (the world's tmpfs, its /etc overlay,
# a test's own mounts), or a mount in one of the world's peer groups (what a
# shared subtree of the world would propagate). Host mounts made meanwhile by
# anyone else (their own filesystems, their own peer groups) are not listed:
# the check sees only what the test and the module did.
host_world_mounts() {
    _harness_require_inside
    local ids
    ids=$(awk -v known="$POLYNS_TEST_ROOT/host-devices" '
        BEGIN { while ((getline line < known) > 0) host[line] = 1 }
        !($3 in host) { print "dev=" $3 }
        { for (i = 7; $i != "-"; i++) if ($i ~ /^(shared|master|propagate_from):/) { split($i, t, ":"); print "group=" t[2] } }
    ' /proc/self/mountinfo | LC_ALL=C sort -u | tr '\n' ' ')
    host_mountinfo | awk -v ids="$ids" '
        BEGIN { n = split(ids, a, " "); for (i = 1; i <= n; i++) world[a[i]] = 1 }
        {
            hit = ("dev=" $3) in world
            for (i = 7; $i != "-"; i++) if ($i ~ /^(shared|master|propagate_from):/) {
                split($i, t, ":"); if (("group=" t[2]) in world) hit = 1
            }
            if (hit) print $5, $3
        }'
}

# ------------------------------------------------------------ users, groups

# Rewrites FILE in place adding MEMBER to GROUP's list in field FIELD.
_harness_add_member() { # FILE GROUP MEMBER FIELD
    local file=$1 group=$2 member=$3 field=$4 updated
    grep -q "^$group:" "$file" || fail "no group $group in $file"
    updated=$(awk -F: -v OFS=: -v g="$group" -v m="$member" -v f="$field" '
        $1 == g { $f = ($f == "" ? m : $f "," m) } { print }' "$file")
    printf '%s\n' "$updated" >"$file"
}

_harness_check_new_name() { # FILE NAME ID
    if cut -d: -f1 "$1" | grep -qxF -- "$2"; then fail "$2 already exists in $1"; fi
    if cut -d: -f3 "$1" | grep -qxF -- "$3"; then fail "id $3 already used in $1"; fi
}

# add_group NAME GID [MEMBER[,MEMBER...]...]
add_group() {
    _harness_require_inside
    local name=$1 gid=$2
    shift 2
    local members
    members=$(IFS=,; echo "$*")
    _harness_check_new_name /etc/group "$name" "$gid"
    echo "$name:x:$gid:$members" >>/etc/group
    echo "$name:!::$members" >>/etc/gshadow
}

# add_user NAME UID [SUPPLEMENTARY_GROUP...]: primary group NAME (gid UID),
# home /home/NAME (owned by the user, 0755), shell /bin/sh, password "*"
# (no password, but not locked: sshd key logins work).
add_user() {
    _harness_require_inside
    local name=$1 uid=$2 group
    shift 2
    _harness_check_new_name /etc/passwd "$name" "$uid"
    _harness_check_new_name /etc/group "$name" "$uid"
    local today=$(($(date +%s) / 86400))
    echo "$name:x:$uid:$uid::/home/$name:/bin/sh" >>/etc/passwd
    echo "$name:x:$uid:" >>/etc/group
    echo "$name:*:$today:0:99999:7:::" >>/etc/shadow
    echo "$name:!::" >>/etc/gshadow
    for group in "$@"; do
        _harness_add_member /etc/group "$group" "$name" 4
        _harness_add_member /etc/gshadow "$group" "$name" 4
    done
    install -d -o "$uid" -g "$uid" -m 0755 "/home/$name"
}

# write_pam_service NAME: the stack from stdin into /etc/pam.d/NAME (0644 root).
write_pam_service() {
    _harness_require_inside
    [[ $1 =~ ^[A-Za-z0-9._-]+$ ]] || fail "write_pam_service: bad service name [$1]"
    cat >"/etc/pam.d/$1"
    chown 0:0 "/etc/pam.d/$1"
    chmod 0644 "/etc/pam.d/$1"
}

# --------------------------------------------------------------- the product

# Fail (not skip) when something under test has not been built: a test that
# silently skips proves nothing.
require_module() {
    [[ -f $POLYNS_MODULE ]] || fail "pam_polyns.so not built: $POLYNS_MODULE (run: ninja -C $POLYNS_BUILD_DIR)"
}
require_cli() {
    [[ -x $POLYNS_CLI ]] || fail "polyns CLI not built: $POLYNS_CLI (run: ninja -C $POLYNS_BUILD_DIR)"
}
require_pam_session() {
    [[ -x $POLYNS_PAM_SESSION ]] ||
        fail "PAM driver not built: $POLYNS_PAM_SESSION (run: ninja -C $POLYNS_BUILD_DIR)"
}

# pam_session [DRIVER_OPTIONS] SERVICE USER [--] CMD...: see pam_session.cpp.
# Exit status: CMD's; 2 = pam_open_session failed; 3 = other PAM error.
pam_session() {
    _harness_require_inside
    require_pam_session
    "$POLYNS_PAM_SESSION" "$@"
}

# print_versions PACKAGE...: one line naming the Debian package versions and
# the kernel a test ran against. Tests whose outcome depends on what the
# distribution serves (sshd, su, Linux-PAM's module, busybox, FUSE) say so,
# whatever minor versions a fresh machine gets.
print_versions() {
    local package version seen=()
    for package in "$@"; do
        version=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null) || version="not installed"
        seen+=("$package ${version:-not installed}")
    done
    seen+=("kernel $(uname -r)")
    local IFS=,
    echo "versions seen: ${seen[*]}" | sed 's/,/, /g'
}

# kernel_has_statmount: true where statmount(2) exists (Linux 6.8+; it
# answers statmount(NULL) with EFAULT or EINVAL then, ENOSYS where it does not).
kernel_has_statmount() {
    python3 -c 'import ctypes, sys; libc = ctypes.CDLL(None, use_errno=True); libc.syscall(457, None, None, 0, 0); sys.exit(ctypes.get_errno() == 38)'
}

# ------------------------------------------------------------------- syslog

# syslog_lines [EXTENDED_REGEX]: what the private /dev/log received so far.
syslog_lines() {
    if [[ $# -gt 0 ]]; then
        grep -E -- "$1" "$POLYNS_SYSLOG_FILE" || true
    else
        cat "$POLYNS_SYSLOG_FILE"
    fi
}

syslog_clear() { : >"$POLYNS_SYSLOG_FILE"; }

# wait_for_syslog EXTENDED_REGEX [TIMEOUT_SECONDS=5]: datagrams are delivered
# asynchronously; returns 1 (printing what arrived) on timeout.
wait_for_syslog() {
    local pattern=$1 timeout=${2:-5} deadline
    deadline=$(($(date +%s%N) + timeout * 1000000000))
    until grep -qE -- "$pattern" "$POLYNS_SYSLOG_FILE"; do
        if (($(date +%s%N) > deadline)); then
            echo "harness: no syslog line matching [$pattern] within ${timeout}s; received:" >&2
            sed 's/^/  /' "$POLYNS_SYSLOG_FILE" >&2
            return 1
        fi
        sleep 0.02
    done
}

# ------------------------------------------------------------ run directly
# bash tests/system/lib/harness.sh [CMD...]: CMD (default: an interactive
# shell) inside a fresh harness world, for debugging and experiments.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    harness_enter "$@"
    set +e
    trap - ERR
    if [[ $# -eq 0 ]]; then
        echo "harness: inside $(readlink /proc/self/ns/mnt); exit the shell to throw the world away" >&2
        bash -i
    else
        "$@"
    fi
    exit $?
fi
