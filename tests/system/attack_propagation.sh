#!/bin/bash
# Issue 6, catalogue entry 7: mount propagation (DESIGN invariant 5). The
# harness world's / is made rshared (harness_make_shared), as systemd makes
# a host's /: a session namespace unshared from it starts as its peer, so any
# mount it makes would flow back here unless the module turns its tree slave
# (default) or private (mount_private). A session is kept open (its command
# waits on a FIFO) while we look from outside and mount things here:
#   - after open, none of the session's mounts is visible here or on the host;
#   - a mount root makes inside the session later does not flow out either;
#   - a mount made here afterwards does appear in the session (slave), and
#     with mount_private does not.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
require_module
add_standard_users
make_template /var/tmp/inst
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF
harness_make_shared
grep -q ' / / .*shared:' /proc/self/mountinfo || fail "harness_make_shared did not make / shared"

state=$POLYNS_TEST_ROOT/attack-propagation
mkdir -p "$state" /home/probe /home/inner

# The optional fields (field 7 up to "-") of the mount on MOUNT_POINT in a
# mountinfo file.
propagation_of() {
    awk -v mp="$2" '$5 == mp { f = ""; for (i = 7; $i != "-"; i++) f = f " " $i; print f; exit }' "$1"
}

# run_case CASE MODULE_ARGS EXPECT_PROBE(yes|no)
run_case() {
    local case=$1 args=$2 expect_probe=$3 mounts host_before pid rc=0
    use_module "$args"
    rm -rf "${state:?}"/* && mkfifo "$state/go"
    mounts=$(mount_table)
    host_before=$(host_mount_points)
    syslog_clear
    # The command (root, inside the session): record the table, mount a
    # tmpfs of its own, say ready, wait, record the table again.
    session alice sh -c "cp /proc/self/mountinfo $state/inside-open
        mount -n -t tmpfs inner /home/inner
        echo ready >$state/ready
        read x <$state/go
        cp /proc/self/mountinfo $state/inside-later" &
    pid=$!
    for _ in $(seq 100); do [[ -e $state/ready ]] && break; sleep 0.1; done
    [[ -e $state/ready ]] || { kill "$pid"; fail "$case: the session did not start"; }

    if [[ $args == *mount_private* ]]; then
        assert_eq "$(propagation_of "$state/inside-open" /)" "" "$case: the session's / is private (no peer, no master)"
    else
        assert_contains "$(propagation_of "$state/inside-open" /)" "master:" "$case: the session's / is a slave"
    fi
    assert_not_contains "$(propagation_of "$state/inside-open" /)" "shared:" "$case: the session's / is not shared"
    assert_contains "$(awk '$5 == "/tmp" {print $4}' "$state/inside-open")" "/inst/alice" \
        "$case: the session has alice's instance on /tmp"
    # While the session is open: nothing of it here nor on the host.
    assert_eq "$(mount_table)" "$mounts" "$case: no session mount (/tmp, /home/inner) is visible in the harness namespace"
    assert_eq "$(host_mount_points)" "$host_before" "$case: the host's mount table is unchanged"
    [[ -z $(awk '$5 == "/home/inner"' /proc/self/mountinfo) ]] || fail "$case: the session's own later mount flowed out"

    # A mount made here while the session is open.
    mount -n -t tmpfs probe /home/probe
    echo go >"$state/go"
    wait "$pid" || rc=$?
    assert_eq "$rc" 0 "$case: the session ran and closed"
    if [[ $expect_probe == yes ]]; then
        [[ -n $(awk '$5 == "/home/probe"' "$state/inside-later") ]] ||
            fail "$case: a mount made outside after open did not reach the (slave) session"
        pass "$case: a mount made outside after open reaches the session (slave)"
    else
        [[ -z $(awk '$5 == "/home/probe"' "$state/inside-later") ]] ||
            fail "$case: a mount made outside after open reached the private session"
        pass "$case: a mount made outside after open does not reach the session (private)"
    fi
    umount -n /home/probe
    assert_eq "$(mount_table)" "$mounts" "$case: after close nothing is left in the harness namespace"
    assert_eq "$(host_mount_points)" "$host_before" "$case: after close the host's mount table is unchanged"
    syslog_settle
    assert_eq "$(polyns_log err)" "" "$case: no LOG_ERR line"
}

# Control: a namespace that keeps / shared (what a module forgetting to
# make it slave would leave) does leak its mounts here. So the checks below
# can see a leak.
unshare --mount --propagation unchanged mount -n -t tmpfs control /home/inner
[[ -n $(awk '$5 == "/home/inner"' /proc/self/mountinfo) ]] || fail "7. control: a shared namespace's mount did not flow back"
umount -n /home/inner
pass "7. control: without slave/private, a session's mount would flow back here"

run_case "7. default (slave)" "" yes
run_case "7. mount_private" "mount_private" no
run_case "7. unmount_on_close" "unmount_on_close" yes
pass "7. no propagation back; slave sees later host mounts, private does not"
