# shellcheck shell=bash
# Helpers shared by the module's system tests (methods.sh, options.sh, ...).
# Source after harness.sh and call after harness_enter: everything here writes
# only to the throwaway namespace's private /etc copies and tmpfs mounts.

MODULE_SERVICE=polyns-test

# The PAM service polyns-test: one session line with our module and ARGS.
use_module() {
    printf 'session required %s %s\n' "$POLYNS_MODULE" "$*" | write_pam_service "$MODULE_SERVICE"
}

# namespace.conf from stdin, root-owned 0644 as the loader requires.
write_conf() {
    cat > /etc/security/namespace.conf
    chown root:root /etc/security/namespace.conf
    chmod 0644 /etc/security/namespace.conf
}

# A template (instance parent) as the seed's A3 makes it: root:root 0755.
make_template() {
    local dir=$1 mode=${2:-0755}
    mkdir -p "$dir"
    chown root:root "$dir"
    chmod "$mode" "$dir"
}

# Fail (not skip) without the module with the fault-injection seam
# (pam_polyns_faults.so, built with meson -Dfault_injection=true).
require_faults_module() {
    [[ -f ${POLYNS_FAULTS_MODULE:-} ]] || fail "needs pam_polyns_faults.so (meson -Dfault_injection=true)"
}

# The two users nearly every test needs; alice is in "polyteam" as well.
add_standard_users() {
    add_group polyteam 2000
    add_user alice 1001 polyteam
    add_user bob 1002
}

# session [DRIVER_OPTIONS] USER CMD...: runs CMD (as root) inside a session for
# USER opened through real libpam with the polyns-test service.
session() {
    local driver_options=()
    while [[ $1 == --* ]]; do
        driver_options+=("$1")
        [[ $1 == --keep-open-fds || $1 == --open-twice-as ]] && { shift; driver_options+=("$1"); }
        shift
    done
    local user=$1
    shift
    pam_session "${driver_options[@]}" "$MODULE_SERVICE" "$user" -- "$@"
}

# Runs CMD as USER (no PAM): to create files with the user's rights.
as_user() {
    local user=$1
    shift
    setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "$@"
}

# Datagrams reach the sink asynchronously, but in order: once our own marker
# has arrived, every line the module wrote before it is in the file.
syslog_settle() {
    local marker="polyns-test-settle-$RANDOM$RANDOM"
    logger --socket /dev/log -- "$marker"
    wait_for_syslog "$marker" 5
}

# The polydirs' mount points and options in this (the harness's) namespace, for
# "no mount left behind / nothing flowed back" checks.
mount_table() {
    awk '{ for (i = 7; $i != "-"; i++) {}; print $5, $6, $(i + 1) }' /proc/self/mountinfo | sort
}

# Field 6 (per-mount options) of the topmost mount on PATH, as seen by the caller.
mount_options_of() {
    awk -v mp="$1" '$5 == mp { opts = $6 } END { print opts }' /proc/self/mountinfo
}

# Super-block options (after " - fstype source ") of the topmost mount on PATH.
super_options_of() {
    awk -v mp="$1" '$5 == mp { line = $0 } END {
        n = split(line, f, " - "); split(f[n], g, " "); print g[1], g[3] }' /proc/self/mountinfo
}

# syslog lines of one severity (err, warning, notice, info, debug) written by
# the module. The sink keeps the raw "<PRI>" prefix: severity = PRI % 8.
polyns_log() {
    local want
    case $1 in
        err) want=3 ;; warning) want=4 ;; notice) want=5 ;; info) want=6 ;; debug) want=7 ;;
        *) fail "polyns_log: unknown severity $1" ;;
    esac
    syslog_lines | awk -v want="$want" '
        match($0, /^<[0-9]+>/) && index($0, "polyns: ") {
            if (substr($0, 2, RLENGTH - 2) % 8 == want) print
        }'
}

count_lines() {
    if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | wc -l; fi
}

# Asserts exactly one LOG_ERR line from the module and that it contains every
# NEEDLE; prints nothing.
assert_one_error_line() {
    local errors
    syslog_settle
    errors=$(polyns_log err)
    assert_eq "$(count_lines "$errors")" 1 "exactly one LOG_ERR line (got: $errors)"
    local needle
    for needle in "$@"; do
        assert_contains "$errors" "$needle" "the LOG_ERR line names '$needle'"
    done
}

# "mnt:[4026532...]" of this process.
mount_ns() {
    readlink /proc/self/ns/mnt
}

# The driver's exit status for a failed pam_open_session.
OPEN_FAILED=2

# A test script run with the argument --mount-api=legacy (meson's *-legacy
# tests) runs every session with the new mount API answering ENOSYS, as on an
# old kernel: the module must fall back to the /proc/self/fd backend (DESIGN
# invariant 13). All drivers, nested ones included, go through the wrapper.
if [[ " $* " == *" --mount-api=legacy "* ]]; then
    POLYNS_WITHOUT_NEW_MOUNT_API=${POLYNS_WITHOUT_NEW_MOUNT_API:-$POLYNS_BUILD_DIR/tests/system/polyns-without-new-mount-api}
    [[ -x $POLYNS_WITHOUT_NEW_MOUNT_API ]] || fail "not built: $POLYNS_WITHOUT_NEW_MOUNT_API"
    _module_real_driver=$POLYNS_PAM_SESSION
    POLYNS_PAM_SESSION=$POLYNS_TEST_ROOT/pam-session-legacy-mount-api
    printf '#!/bin/sh\nexec %q %q "$@"\n' "$POLYNS_WITHOUT_NEW_MOUNT_API" "$_module_real_driver" >"$POLYNS_PAM_SESSION"
    chmod 0755 "$POLYNS_PAM_SESSION"
    export POLYNS_PAM_SESSION
    echo "mount API: legacy (new mount API syscalls answer ENOSYS)"
fi
