#!/bin/bash
# Multithreaded callers (issue 13, item 1): gdm-session-worker opens the
# session with GLib threads running. polyns-threaded-session is such a PAM
# application (a GLib main loop on the main thread, a GDBus-like thread with
# its own main context) and opens the session from the main loop (the
# thread-group leader) and from a third thread. Each time:
#  - the opening thread, and the session process it forks, see alice's
#    instance on /tmp; the other threads keep the harness's /tmp and mount
#    namespace;
#  - close works (a tmpdir instance is removed);
#  - a failing open from a thread rolls back: that thread is back in its
#    namespace, nothing is left mounted;
#  - the harness's (and the host's) mount table is unchanged.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
require_module
[[ -x ${POLYNS_THREADED_SESSION:-} ]] || fail "polyns-threaded-session not built"

add_user alice 1001
install -d -o root -g root -m 0755 /tmp/user_tmpl /var/tmp/tmpdir_tmpl
cat >/etc/security/namespace.conf <<'EOF2'
/tmp     /tmp/user_tmpl/%{UID}    user
/var/tmp /var/tmp/tmpdir_tmpl/a-  tmpdir
EOF2
chmod 0644 /etc/security/namespace.conf
write_pam_service gdm-like <<EOF2
account  required pam_permit.so
session  required $POLYNS_MODULE ${POLYNS_TEST_MODULE_ARGS:-}
EOF2
cat >/etc/security/broken.conf <<'EOF2'
/tmp     /tmp/user_tmpl/%{UID}          user
/var/tmp /var/tmp/no/such/parent/tmpl/  user
EOF2
chmod 0644 /etc/security/broken.conf
write_pam_service gdm-like-broken <<EOF2
session  required $POLYNS_MODULE conf=/etc/security/broken.conf ${POLYNS_TEST_MODULE_ARGS:-}
EOF2
harness_on_exit '[[ $status == 0 ]] || { echo "--- syslog:"; syslog_lines; } >&2'

host_ns=$(stat -L -c %i /proc/self/ns/mnt)
host_tmp=$(stat -c %i /tmp)
mounts=$(mount_table)
host_before=$(host_mount_points)
field() { sed -n "s/^$1 .*\\<$2=\\([^ ]*\\).*/\\1/p" <<<"$out"; }

for opener in leader worker; do
    opt=()
    [[ $opener == worker ]] && opt=(--from-worker)
    out=$("$POLYNS_THREADED_SESSION" "${opt[@]}" gdm-like alice -- sh -c \
        'echo "child ns=$(stat -L -c %i /proc/self/ns/mnt) tmp=$(stat -c %i /tmp) vartmp=$(ls -d /var/tmp/tmpdir_tmpl 2>/dev/null || echo hidden)"') ||
        fail "$opener: the threaded driver failed: $out"
    echo "$out" | sed "s/^/  $opener| /"
    alice_tmp=$(stat -c %i /tmp/user_tmpl/1001)
    threads=$(sed -n 's/^threads=//p' <<<"$out")
    want=2
    [[ $opener == worker ]] && want=3
    ((threads >= want)) || fail "$opener: the driver had $threads threads at open, expected $want or more"
    pass "$opener: pam_open_session ran with $threads threads (GLib main loop, gdbus-like thread$([[ $opener == worker ]] && echo ', session worker'))"
    assert_contains "$out" "open=ok" "$opener: the session opened in a multithreaded caller"
    assert_eq "$(field before ns)" "$host_ns" "$opener: the opening thread started in the harness's namespace"
    [[ $(field opener ns) != "$host_ns" ]] || fail "$opener: the opening thread did not move"
    pass "$opener: the opening thread entered a new namespace"
    assert_eq "$(field opener tmp)" "$alice_tmp" "$opener: the opening thread sees alice's instance"
    assert_eq "$(field child ns)" "$(field opener ns)" "$opener: the session process it forked is in that namespace"
    assert_eq "$(field child tmp)" "$alice_tmp" "$opener: the session process sees alice's /tmp instance"
    assert_eq "$(field gdbus ns)" "$host_ns" "$opener: the gdbus-like thread keeps the original namespace"
    assert_eq "$(field gdbus tmp)" "$host_tmp" "$opener: the gdbus-like thread sees the host's /tmp"
    if [[ $opener == worker ]]; then
        assert_eq "$(field main ns)" "$host_ns" "worker: the main-loop thread (leader) keeps the original namespace"
        assert_eq "$(field main tmp)" "$host_tmp" "worker: the main-loop thread sees the host's /tmp"
    fi
    assert_contains "$out" "child=0" "$opener: the session process ran"
    assert_contains "$out" "close=ok" "$opener: the session closed"
    assert_eq "$(find /var/tmp/tmpdir_tmpl -mindepth 1 | wc -l)" 0 "$opener: close removed the tmpdir instance"

    syslog_clear
    out=$("$POLYNS_THREADED_SESSION" "${opt[@]}" gdm-like-broken alice -- true) ||
        fail "$opener: the threaded driver failed: $out"
    echo "$out" | sed "s/^/  $opener-broken| /"
    assert_contains "$out" "open=failed" "$opener: a broken rule fails the session"
    assert_eq "$(field opener ns)" "$host_ns" "$opener: rollback put the opening thread back in its namespace"
    assert_eq "$(field opener tmp)" "$host_tmp" "$opener: and it sees the host's /tmp again"
    wait_for_syslog "no/such/parent" || fail "$opener: no log line for the failed open"
done
assert_eq "$(mount_table)" "$mounts" "no mount left in the harness namespace"
assert_eq "$(host_mount_points)" "$host_before" "the host's mount table is unchanged"
