#!/bin/bash
# Issue 6, partial failure and resource exhaustion (catalogue entries 12, 13,
# 15): every step of a session open fails in turn, the template's file system
# is out of space or inodes, the caller has 6..24 fds, the caller is
# multithreaded. Each time: PAM_SESSION_ERR, one LOG_ERR line naming the
# cause, the process back in its own namespace, no mount left, nothing
# half-created (a complete instance directory may stay: it is reusable).
#
# Entry 13 needs pam_polyns_faults.so (meson -Dfault_injection=true): the same
# module with the sys layer's test-only seam, POLYNS_FAULT=POINT[:NTH[:ERRNO]]
# (src/sys/fault_injection.hpp). pam_polyns.so itself has no such seam; this
# script checks that too. Run with --mount-api=legacy for the legacy backend.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
require_module
add_standard_users

# ------------------------------------ the seam is not in the real module
for binary in "$POLYNS_MODULE" "$POLYNS_CLI"; do
    [[ -f $binary ]] || continue
    if grep -qa POLYNS_FAULT "$binary"; then
        fail "$binary contains the fault-injection seam (POLYNS_FAULT)"
    fi
    pass "$(basename "$binary") has no fault-injection seam"
done

mkdir -p /etc/security/namespace.d
printf '#!/bin/sh\nexit 0\n' >/etc/security/namespace.d/ok.init
chmod 0755 /etc/security/namespace.d/ok.init
make_template /var/tmp/inst
make_template /run/polyns-test/inst2
# Two polydirs, both with mount flags (mount_setattr) and init scripts.
two_polydirs() {
    write_conf <<'EOF'
/tmp /var/tmp/inst/ user:mntopts=nosuid,nodev:iscript=ok.init
/var/tmp /run/polyns-test/inst2/ user:mntopts=nosuid:iscript=ok.init
EOF
}
two_polydirs
use_module
expect_opened "baseline with pam_polyns.so" /tmp /var/tmp
rm -rf /var/tmp/inst/alice /run/polyns-test/inst2/alice

# A complete instance may remain after a failure; a half-made one may not.
complete_instances='^\+ (/var/tmp/inst|/run/polyns-test/inst2)/alice alice alice 700 d [0-9]+$'

# ------------------------------------- 13. each step fails in turn (seam)
if [[ -f ${POLYNS_FAULTS_MODULE:-} ]]; then
    printf 'session required %s\n' "$POLYNS_FAULTS_MODULE" | write_pam_service "$MODULE_SERVICE"
    expect_opened "13. the faults module without POLYNS_FAULT works" /tmp /var/tmp
    rm -rf /var/tmp/inst/alice /run/polyns-test/inst2/alice
    # fault POINT[:NTH] NEEDLE...: the session fails at that point with EIO.
    fault() {
        local spec=$1
        shift
        POLYNS_FAULT=$spec ATTACK_ALLOWED_CHANGES=$complete_instances \
            expect_refused "13. fault at $spec" -- "$@" EIO
        # What may remain is complete: a made instance is alice's, 0700.
        local dir
        for dir in /var/tmp/inst/alice /run/polyns-test/inst2/alice; do
            [[ -e $dir ]] || continue
            assert_eq "$(stat -c '%U:%G %a %F' "$dir")" "alice:alice 700 directory" "13. $spec: $dir is complete"
        done
        rm -rf /var/tmp/inst/alice /run/polyns-test/inst2/alice
    }
    export POLYNS_FAULT
    fault unshare "unshare"
    fault propagation "make / slave"
    fault open_polydir "open polydir /tmp"
    fault open_template "open template /var/tmp/inst"
    fault open_template:2 "open template /run/polyns-test/inst2"
    fault mkdirat "create instance /var/tmp/inst/alice" mkdirat
    fault mkdirat:2 "create instance /run/polyns-test/inst2/alice" mkdirat
    fault fchown "/var/tmp/inst/alice" fchown
    fault fchown:2 "/run/polyns-test/inst2/alice" fchown
    fault fchmod "/var/tmp/inst/alice" fchmod
    fault mount "polydir /tmp" mount
    fault mount:2 "polydir /var/tmp" mount
    fault mount_setattr "set mount flags on /tmp"
    fault mount_setattr:2 "set mount flags on /var/tmp"
    fault init_script "ok.init"
    fault init_script:2 "polydir /var/tmp" "ok.init"
    # With the instances already there (the usual login), from the top again.
    for spec in mount mount:2 mount_setattr:2 init_script:2; do
        install -d -o alice -g alice -m 0700 /var/tmp/inst/alice /run/polyns-test/inst2/alice
        POLYNS_FAULT=$spec expect_refused "13. fault at $spec, instances existing" -- EIO
        rm -rf /var/tmp/inst/alice /run/polyns-test/inst2/alice
    done
    # A tmpdir instance (random name) made before the failure is removed:
    # only the named /tmp instance may remain.
    write_conf <<'EOF'
/tmp /var/tmp/inst/ user:mntopts=nosuid
/var/tmp /run/polyns-test/inst2/ tmpdir:mntopts=nosuid:iscript=ok.init
EOF
    for spec in mount:2 mount_setattr:2 init_script:2; do
        POLYNS_FAULT=$spec ATTACK_ALLOWED_CHANGES=$complete_instances \
            expect_refused "13. tmpdir instance, fault at $spec" -- "polydir /var/tmp" EIO
        assert_eq "$(ls -A /run/polyns-test/inst2)" "" "13. tmpdir, fault at $spec: the temporary instance was removed"
        rm -rf /var/tmp/inst/alice
    done
    # A polydir made by create= is removed again when a later step fails,
    # and never left half-made (root-owned, mode 0) when its fchown fails.
    printf '/home/newpoly /var/tmp/inst/ user:create=0750,alice,alice\n' | write_conf
    for spec in mkdirat fchown fchmod mount mkdirat:2 fchown:2; do
        POLYNS_FAULT=$spec ATTACK_ALLOWED_CHANGES=$complete_instances \
            expect_refused "13. create= polydir, fault at $spec" -- "/home/newpoly" EIO
        [[ ! -e /home/newpoly ]] || fail "13. create=, fault at $spec: /home/newpoly was left behind"
        rm -rf /var/tmp/inst/alice
    done
    two_polydirs
    # 12. mount-max: /proc/sys/fs/mount-max is host-global, and the count
    # it limits is per mount namespace (ns->mounts): reaching it would need
    # ~100,000 mounts, or lowering the host's limit, which a test must not
    # do. The kernel answers ENOSPC (mount, open_tree, move_mount, unshare's
    # copy); the seam returns exactly that at each point.
    for spec in unshare:1:ENOSPC mount:1:ENOSPC mount:2:ENOSPC; do
        POLYNS_FAULT=$spec ATTACK_ALLOWED_CHANGES=$complete_instances \
            expect_refused "12. mount-max reached ($spec)" -- ENOSPC
        rm -rf /var/tmp/inst/alice /run/polyns-test/inst2/alice
    done
    unset POLYNS_FAULT
    use_module
else
    # The default build has no seam; CI configures -Dfault_injection=true.
    echo "SKIP (part): entry 13 needs pam_polyns_faults.so (meson -Dfault_injection=true)"
fi

# ------------------------------------------------------- 12. ENOSPC
# The template on a tiny tmpfs: out of inodes (mkdirat: ENOSPC) ...
small=/run/polyns-test/small
mkdir -p "$small"
mount -t tmpfs -o size=64k,nr_inodes=8,mode=0755 tmpfs "$small"
mkdir -m 0755 "$small/inst"
i=0
while touch "$small/f$i" 2>/dev/null; do ((++i)); done
write_conf <<EOF
/tmp $small/inst/ user
EOF
expect_refused "12. template's file system out of inodes" -- "$small/inst/alice" mkdirat ENOSPC
# ... and out of blocks: a directory needs no data block on tmpfs, so the
# instance is made and the session works; what must not happen is a
# half-made instance or a mount when something else runs out.
rm -f "$small"/f*
umount "$small"
mount -t tmpfs -o size=16k,nr_inodes=64,mode=0755 tmpfs "$small"
mkdir -m 0755 "$small/inst"
head -c 1M /dev/zero >"$small/fill" 2>/dev/null || true
rc=0
out=$(timeout 20 "$POLYNS_PAM_SESSION" "$MODULE_SERVICE" alice -- stat -c '%U %a' /tmp 2>&1) || rc=$?
if [[ $rc == 0 ]]; then
    assert_eq "$out" "alice 700" "12. template's file system full (no blocks): the instance is alice's 0700"
else
    assert_eq "$rc" "$OPEN_FAILED" "12. template's file system full: refused cleanly ($out)"
    [[ ! -e $small/inst/alice ]] || assert_eq "$(stat -c '%U %a' "$small/inst/alice")" "alice 700" \
        "12. full: what is left is complete"
fi
umount "$small"

# ---------------------------------------------- 12. RLIMIT_NOFILE low
# With 6..24 fds the session either works (mounts exactly right) or fails
# closed; never half. libpam itself needs some fds, so low limits fail early.
two_polydirs
opened=0
# Not through module.sh's legacy wrapper script: a shell under such limits
# fails by itself. The wrapped driver is exec'd directly instead.
rlimit_driver=("$POLYNS_PAM_SESSION")
[[ -z ${_module_real_driver:-} ]] || rlimit_driver=("$POLYNS_WITHOUT_NEW_MOUNT_API" "$_module_real_driver")
for limit in 6 8 10 12 14 16 18 20 24; do
    rm -rf /var/tmp/inst/alice /run/polyns-test/inst2/alice
    syslog_clear
    before=$(tree_snapshot)
    mounts=$(mount_table)
    rc=0
    out=$(timeout 20 prlimit --nofile="$limit" -- "${rlimit_driver[@]}" --print-ns "$MODULE_SERVICE" alice \
        -- stat -c "%U %a" /tmp /var/tmp 2>&1) || rc=$?
    assert_eq "$(mount_table)" "$mounts" "12. RLIMIT_NOFILE=$limit: no mount left here"
    if [[ $rc == 3 ]]; then
        # libpam itself could not start (reading /etc/pam.d): the module never ran.
        assert_contains "$out" "pam_start" "12. RLIMIT_NOFILE=$limit: libpam cannot start; the module is not reached"
        assert_eq "$(tree_changes "$before")" "" "12. RLIMIT_NOFILE=$limit: nothing changed"
    elif [[ $rc == 0 ]]; then
        assert_contains "$out" "alice 700
alice 700" "12. RLIMIT_NOFILE=$limit: both instances mounted, alice's 0700"
        ((++opened))
    else
        assert_eq "$rc" "$OPEN_FAILED" "12. RLIMIT_NOFILE=$limit: refused ($out)"
        assert_contains "$out" "mntns after_open=$(mount_ns)" "12. RLIMIT_NOFILE=$limit: back in its own namespace"
        syslog_settle
        errors=$(polyns_log err)
        if [[ -n $errors ]]; then
            assert_eq "$(count_lines "$errors")" 1 "12. RLIMIT_NOFILE=$limit: one LOG_ERR line"
            assert_contains "$errors" EMFILE "12. RLIMIT_NOFILE=$limit: the line names EMFILE"
        fi
        changes=$(tree_changes "$before" | grep -Ev -- "$complete_instances" || true)
        assert_eq "$changes" "" "12. RLIMIT_NOFILE=$limit: nothing half-made"
    fi
done
[[ $opened -gt 0 ]] || fail "12. no RLIMIT_NOFILE up to 24 let a session open"
pass "12. RLIMIT_NOFILE 6..24: every session worked or failed closed ($opened opened)"
rm -rf /var/tmp/inst/alice /run/polyns-test/inst2/alice

# ------------------------------------------- 15. multithreaded caller
expect_refused "15. multithreaded caller" --threads -- thread
