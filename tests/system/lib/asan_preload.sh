# shellcheck shell=bash
# The sanitizer run only (meson test --setup asan sets POLYNS_TEST_PRELOAD to
# ASan's runtime). A program that dlopen()s the ASan-built module needs ASan's
# runtime loaded first; asan-bin/ puts it there with LD_PRELOAD, which glibc
# ignores in a setuid program (su run by a user). The loader reads
# /etc/ld.so.preload in every program, setuid or not, so:
#
# asan_preload_exec CMD...: exec CMD (a program, not a function) in a mount
# namespace nested in the harness's, where /etc is an overlay of the real one
# whose ld.so.preload names ASan's runtime; the harness's private /etc files
# (passwd, pam.d, ...) are moved back on top. The host's /etc and the
# harness's namespace never see it (private propagation both ways). Without
# POLYNS_TEST_PRELOAD, it just execs CMD.
#
# Every program of CMD's tree then runs with ASan's runtime, so the tree must
# not run programs that deadlock with it (logger, pgrep, ps: libsystemd's),
# and ASAN_OPTIONS with detect_leaks=0 must reach each of them: the defaults
# make some (bash -l) hang at exit, and leaks of su or sh are not ours. su
# without -l keeps ASAN_OPTIONS (glibc's secure mode drops only LD_* and the
# like); su -l and sshd clear the environment.
#
# Source after harness.sh, after harness_enter.
asan_preload_exec() {
    if [[ -z ${POLYNS_TEST_PRELOAD:-} ]]; then
        exec "$@"
    fi
    local work=${POLYNS_TEST_ROOT:-/run/polyns-test}/attack-asan-etc.$BASHPID  # attack-*: not in tree snapshots
    mkdir -p "$work"
    exec unshare --mount --propagation private -- bash -euc '
        work=$1 runtime=$2
        shift 2
        mkdir -p "$work/upper" "$work/work" "$work/stash"
        printf "%s\n" "$runtime" >"$work/upper/ld.so.preload"
        # The mounts on /etc/... (the harness private copies); one below
        # another moves with it.
        mapfile -t points < <(awk '\''$5 ~ "^/etc/" { print $5 }'\'' /proc/self/mountinfo | sort -u |
            awk '\''top == "" || index($0, top "/") != 1 { print; top = $0 }'\'')
        i=0
        for point in "${points[@]}"; do
            if [[ -d $point ]]; then mkdir "$work/stash/$i"; else : >"$work/stash/$i"; fi
            mount -n --move "$point" "$work/stash/$i"
            i=$((i + 1))
        done
        mount -n -t overlay polyns-asan-etc \
            -o "lowerdir=/etc,upperdir=$work/upper,workdir=$work/work" /etc
        i=0
        for point in "${points[@]}"; do
            mount -n --move "$work/stash/$i" "$point"
            i=$((i + 1))
        done
        exec "$@"
    ' asan-preload "$work" "$POLYNS_TEST_PRELOAD" "$@"
}
