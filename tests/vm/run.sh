#!/bin/bash
# tests/vm/run.sh BUILD_DIR PAM_POLYNS_SO POLYNS_CLI VM_SESSION
# The SELinux VM suite: Debian's kernel under qemu (TCG: no KVM needed), an
# initramfs-only root (mkinitramfs.sh), booted once with the MLS policy (the
# comparison, the seed's lines, the enforcing smoke run) and once with the
# MCS one (`default`). compare.py turns the result lines into the comparison
# table of pam_namespace.so and pam_polyns.so and the absolute checks.
# Exit 77 (skipped) only when qemu-system-x86_64 is not installed, and never
# with CI=true: there the suite must run.
set -euo pipefail
build=$1 module=$2 cli=$3 session=$4
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v qemu-system-x86_64 >/dev/null; then
    if [ "${CI:-}" = true ]; then
        echo "FAIL: qemu-system-x86_64 is missing and CI=true (scripts/install-deps.sh installs qemu-system-x86)"
        exit 1
    fi
    echo "SKIP: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
    exit 77
fi
for p in mls default; do
    [ -d "/etc/selinux/$p/policy" ] || { echo "FAIL: /etc/selinux/$p is missing (scripts/install-deps.sh installs selinux-policy-$p)"; exit 1; }
done
[ -x /bin/busybox ] || { echo "FAIL: /bin/busybox is missing (busybox-static)"; exit 1; }

t0=$EPOCHREALTIME
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
kernel=$("$here/get_kernel.sh")
echo "kernel: $kernel ($(elapsed "$t0") s)"

work="$build/tests/vm/work"
rm -rf "$work"; mkdir -p "$work"
t=$EPOCHREALTIME
"$here/mkinitramfs.sh" "$work/initrd.cpio.gz" "$module" "$cli" "$session"
echo "initramfs: $(du -h "$work/initrd.cpio.gz" | cut -f1) ($(elapsed "$t") s)"

boot() {   # boot NAME POLICY [kernel args]
    local name=$1 policy=$2; shift 2
    local t=$EPOCHREALTIME rc=0
    timeout --foreground "${POLYNS_VM_TIMEOUT:-600}" qemu-system-x86_64 \
        -accel tcg -cpu max -smp 1 -m 1024 -nodefaults -no-user-config -display none -no-reboot \
        -kernel "$kernel" -initrd "$work/initrd.cpio.gz" \
        -serial "file:$work/$name.console" -serial "file:$work/$name.results" \
        -append "console=ttyS0 security=selinux enforcing=0 panic=-1 quiet loglevel=3 polyns.policy=$policy $*" \
        </dev/null || rc=$?
    echo "boot $name: qemu exit $rc, $(elapsed "$t") s"
    if ! grep -q '^B|end|' "$work/$name.results" 2>/dev/null; then
        echo "FAIL: the $name VM did not finish; console:"; tail -40 "$work/$name.console"
        return 1
    fi
}
status=0
# POLYNS_VM_BOOTS=mls (or default) boots only that one, for work on the cases.
# The two boots run side by side: each qemu (TCG, one vCPU) is one thread.
boots=${POLYNS_VM_BOOTS:-mls default}
pids=()
case " $boots " in *" mls "*) boot mls mls polyns.enforce=1 & pids+=($!) ;; esac
case " $boots " in *" default "*) boot default default & pids+=($!) ;; esac
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
python3 "$here/compare.py" "$work/mls.results" "$work/default.results" $boots || status=1
echo "vm suite wall time: $(elapsed "$t0") s"
exit $status
