#!/bin/bash
# The nested-session check (issue 13: is the caller inside an earlier
# session's view, i.e. does the topmost mount on a polydir look like
# polyinstantiation?) decides the same whether the kernel answers it
# (statx's unique mount id + statmount(2), Linux 6.8+) or the mount table
# does (older kernels; here polyns-without-statmount makes statmount answer
# ENOSYS for the whole session tree, as on Debian 12's 6.1). And where the
# kernel answers, a plain session reads no mount table at all.
#
# Callers: outside any session (the world's own tmpfs on /tmp: no), inside a
# session of method user (a bind of an instance: yes) and of method tmpfs
# (polyns's tmpfs: yes), under an admin's bind of a subdirectory on /var/tmp
# only (yes), under an admin's plain tmpfs on /tmp (no), and for a polydir
# that is no mount point at all ($HOME/tmp: no).
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
WITHOUT_STATMOUNT=${POLYNS_WITHOUT_STATMOUNT:-$POLYNS_BUILD_DIR/tests/system/polyns-without-statmount}
[[ -x $WITHOUT_STATMOUNT ]] || fail "not built: $WITHOUT_STATMOUNT"
print_versions libc6

make_template /tmp/user_tmpl
make_template /var/tmp/user_tmpl
make_template /var/tmp/tmpfs_tmpl
install -d -o bob -g bob -m 0755 /home/bob/tmp
NESTED_LINE="the caller is inside an earlier session"
# bob's session, the one whose check is watched: /tmp and /var/tmp, or his
# $HOME/tmp alone (a polydir that is no mount point).
printf '/tmp /tmp/user_tmpl/ user\n/var/tmp /var/tmp/user_tmpl/ user\n' >/etc/security/inner.conf
printf '$HOME/tmp /var/tmp/user_tmpl/home- user\n' >/etc/security/inner-home.conf
# alice's outer sessions.
printf '/tmp /tmp/user_tmpl/ user\n/var/tmp /var/tmp/user_tmpl/ user\n' >/etc/security/outer-user.conf
printf '/tmp /var/tmp/tmpfs_tmpl/ tmpfs\n' >/etc/security/outer-tmpfs.conf
chmod 0644 /etc/security/*.conf
for conf in inner inner-home outer-user outer-tmpfs; do
    printf 'session required %s conf=/etc/security/%s.conf debug\n' "$POLYNS_MODULE" "$conf" |
        write_pam_service "polyns-$conf"
done

# decide CALLER INNER_SERVICE [WRAPPER]: "nested" or "plain", the check's
# verdict for bob's session opened by CALLER.
inner() { printf "%q " "$POLYNS_PAM_SESSION" --no-cmd "polyns-$1" bob; }
decide() {
    local caller=$1 service=$2 wrapper=${3:-} cmd
    cmd=$(inner "$service")
    syslog_clear
    case $caller in
    plain) $wrapper sh -c "$cmd" ;;
    user-session) $wrapper "$POLYNS_PAM_SESSION" polyns-outer-user alice -- sh -c "$cmd" ;;
    tmpfs-session) $wrapper "$POLYNS_PAM_SESSION" polyns-outer-tmpfs alice -- sh -c "$cmd" ;;
    admin-bind) $wrapper unshare --mount --propagation private -- sh -c \
        "mkdir -p /var/tmp/admin/sub && mount --bind /var/tmp/admin/sub /var/tmp && $cmd" ;;
    admin-tmpfs) $wrapper unshare --mount --propagation private -- sh -c \
        "mount -t tmpfs admin-tmpfs /tmp && $cmd" ;;
    esac >/dev/null 2>"$POLYNS_TEST_ROOT/decide.err" || fail "$caller/$service${wrapper:+ (without statmount)}: $(cat "$POLYNS_TEST_ROOT/decide.err")"
    syslog_settle
    if syslog_lines | grep -q "polyns-$service:session.*$NESTED_LINE"; then echo nested; else echo plain; fi
}

cases=(
    "plain inner plain"
    "user-session inner nested"
    "tmpfs-session inner nested"
    "admin-bind inner nested"
    "admin-tmpfs inner plain"
    "user-session inner-home plain"
)
for case in "${cases[@]}"; do
    read -r caller service expected <<<"$case"
    by_kernel=$(decide "$caller" "$service")
    by_table=$(decide "$caller" "$service" "$WITHOUT_STATMOUNT")
    assert_eq "$by_kernel" "$expected" "$caller, $service: $expected"
    assert_eq "$by_table" "$by_kernel" "$caller, $service: the mount table decides the same ($by_table)"
done

# Which one answered: a plain session's mount-table reads (strace; the
# table is /proc/thread-self/mountinfo). Without statmount the walks to the
# polydirs read it too (to judge the mounts they cross); the fault point
# "statmount" of pam_polyns_faults.so takes it away from this check alone.
command -v strace >/dev/null || fail "strace is not installed"
table_reads() { # SERVICE [WRAPPER...]
    local trace=$POLYNS_TEST_ROOT/nested-check.strace service=$1
    shift
    "$@" strace -f -qq -o "$trace" -e trace=open,openat,openat2 "$POLYNS_PAM_SESSION" --no-cmd "$service" bob
    grep -c 'mountinfo' "$trace" || true
}
reads=$(table_reads polyns-inner "$WITHOUT_STATMOUNT")
[[ $reads -ge 1 ]] || fail "without statmount a plain session reads no mount table: the seccomp filter did not take effect"
pass "without statmount a plain session reads the mount table ($reads opens)"
if kernel_has_statmount; then
    assert_eq "$(table_reads polyns-inner)" 0 "with statmount (kernel $(uname -r)) a plain session reads no mount table"
    faults=${POLYNS_FAULTS_MODULE:-$POLYNS_BUILD_DIR/tests/system/pam_polyns_faults.so}
    if [[ -f $faults ]]; then
        printf 'session required %s conf=/etc/security/inner.conf debug\n' "$faults" | write_pam_service polyns-inner-faults
        assert_eq "$(table_reads polyns-inner-faults env POLYNS_FAULT=statmount:1+:38)" 1 \
            "the nested-session check alone without statmount: the mount table read once"
    fi
else
    echo "NOTE: kernel $(uname -r) has no statmount: the mount table answers (checked above)"
fi
