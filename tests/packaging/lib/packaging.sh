# shellcheck shell=bash
# Helpers of the package tests (suite `packaging`): cached mmdebstrap base
# tarballs, throwaway chroots on tmpfs, the source tarball. Source it, then:
#
#   pkg_init "$@"                      # root, tools; set -euo pipefail; PKG_WORK
#   tarball=$(pkg_base_tarball build buildd "" --customize-hook=...)
#   pkg_isolate "$@"                   # re-exec in private mount+net+pid namespaces
#   pkg_chroot_prepare "$tarball" "$PKG_WORK/root"   # tmpfs root, /dev /proc /sys
#   pkg_chroot "$PKG_WORK/root" CMD... # run CMD chrooted, offline
#
# Nothing here touches the host: base tarballs are made by mmdebstrap in a
# private mount namespace, every chroot is a tmpfs in a private mount
# namespace (it vanishes with the test), without network (a new network
# namespace with only loopback). The only thing kept between runs is
# /var/cache/polyns/mmdebstrap/*.tar: a base system (apt's view of the
# archive on the day it was made) plus named packages, keyed on the archive
# (sources, the host's InRelease dates), the variant and the package list.
# Nothing built from this tree is ever cached.

PKG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The system tests' harness library for its assertions (pass, fail, skip,
# assert_*) and shell mode; nothing here calls harness_enter on the host.
source "$PKG_LIB_DIR/../../system/lib/harness.sh"
PKG_CACHE=${POLYNS_PKG_CACHE:-/var/cache/polyns/mmdebstrap}
# A build on the host (rpmbuild) compiles everything, as on a fresh CI
# machine: no compiler cache of earlier builds of this tree.
export CCACHE_DISABLE=1

# pkg_step TITLE: a section header, with the seconds since the test began.
PKG_T0=${PKG_T0:-$(date +%s)}
export PKG_T0
pkg_step() { printf '\n=== [%3ss] %s\n' "$(($(date +%s) - PKG_T0))" "$*"; }

# pkg_init NAME "$@": root and tools; PKG_WORK, this test's work directory
# below the build directory (not below /tmp: nothing here runs in the system
# tests' harness, but a CI tree may be copied anywhere).
pkg_init() {
    local name=$1
    shift
    [[ $(id -u) == 0 ]] || skip "the package tests need root (chroots, mounts)"
    local tool
    for tool in "${PKG_TOOLS[@]}"; do
        command -v "$tool" >/dev/null || fail "$tool not installed (scripts/install-deps.sh installs it)"
    done
    PKG_WORK=$POLYNS_BUILD_DIR/packaging-test/$name
    export PKG_WORK
}
PKG_TOOLS=(unshare mount tar xz sha256sum)

# pkg_suite: the host's Debian release (the chroots are of the same one).
pkg_suite() { . /etc/os-release && echo "$VERSION_CODENAME"; }

# The host's apt sources for Debian's archive (deb822), as given to
# mmdebstrap; only Debian's own archive, never third-party sources.
pkg_sources_file() {
    local file
    for file in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
        if [[ -s $file ]]; then
            echo "$file"
            return 0
        fi
    done
    fail "no Debian apt sources (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list)"
}

# pkg_base_tarball NAME VARIANT "PKG,PKG,..." [MMDEBSTRAP_OPTION...] [-- KEY_EXTRA...]:
# path of a cached base tarball (made when missing). The cache key covers
# the archive (sources file; Date of the host's InRelease files, or today's
# date without them), mmdebstrap's version, the variant, the packages and
# the options (hooks) plus KEY_EXTRA (e.g. the Build-Depends field). A new
# key replaces the older tarball of the same NAME.
pkg_base_tarball() {
    local name=$1 variant=$2 include=$3
    shift 3
    local options=() extra=()
    while (($#)); do
        if [[ $1 == -- ]]; then
            shift
            extra=("$@")
            break
        fi
        options+=("$1")
        shift
    done
    local sources suite archive_date key tarball
    sources=$(pkg_sources_file)
    suite=$(pkg_suite)
    archive_date=$(grep -h '^Date:' /var/lib/apt/lists/*_InRelease 2>/dev/null | sort | tr '\n' ' ' || true)
    [[ -n $archive_date ]] || archive_date=$(date -u +%F)
    key=$({
        echo "v1 $suite $variant $include"
        cat "$sources"
        echo "$archive_date"
        mmdebstrap --version 2>&1
        printf '%s\n' "${options[@]}" "${extra[@]}"
    } | sha256sum | cut -c1-16)
    tarball=$PKG_CACHE/$name-$suite-$key.tar
    if [[ -s $tarball ]]; then
        echo "packaging: cached base $tarball" >&2
        echo "$tarball"
        return 0
    fi
    install -d -m 0700 "$PKG_CACHE"
    (
        # One maker per cache at a time (package-deb and package-ansible
        # may want the same tarball).
        exec 9>"$PKG_CACHE/.lock"
        flock 9
        if [[ ! -s $tarball ]]; then
            echo "packaging: making base $tarball (mmdebstrap --variant=$variant --include=$include)" >&2
            local tmp=$tarball.tmp.$$
            local log=$PKG_CACHE/$name.log
            # mmdebstrap mounts /dev and /proc into its chroot: do that in a
            # private mount namespace. TMPDIR away from the host's /tmp.
            mkdir -p "$PKG_WORK/mmdebstrap-tmp"
            if ! TMPDIR=$PKG_WORK/mmdebstrap-tmp unshare --mount --propagation private -- \
                mmdebstrap --mode=root --variant="$variant" ${include:+--include="$include"} \
                --format=tar "${options[@]}" "$suite" "$tmp" "$sources" >"$log" 2>&1; then
                rm -f -- "$tmp"
                tail -n 40 "$log" >&2
                fail "mmdebstrap failed for $name (log: $log)"
            fi
            mv -f -- "$tmp" "$tarball"
            # Older keys of NAME go (not one made within the hour: a test
            # running beside this one may be about to extract it).
            find "$PKG_CACHE" -maxdepth 1 -name "$name-*.tar" ! -path "$tarball" -mmin +60 -delete
        fi
    ) >&2
    echo "$tarball"
}

# pkg_isolate "$@": re-execute the calling script in new mount, network and
# pid namespaces: every mount it makes and every process it starts (sshd,
# builds) vanish with it, and chroots have no network but loopback.
pkg_isolate() {
    if [[ -z ${POLYNS_PKG_ISOLATED:-} ]]; then
        local script
        script=$(realpath -- "$0")
        exec unshare --mount --propagation private --net --pid --fork --kill-child -- \
            env POLYNS_PKG_ISOLATED=1 bash "$script" "$@"
    fi
    [[ $(readlink /proc/self/ns/mnt) != "$(readlink /proc/1/ns/mnt 2>/dev/null || true)" ]] ||
        [[ $$ == 1 ]] || fail "not in a private mount namespace"
    # A fresh /proc for the new pid namespace (the chroots mount theirs).
    mount -t proc proc /proc
    ip link set lo up 2>/dev/null || true
}

# pkg_chroot_prepare TARBALL ROOT: ROOT becomes a tmpfs holding the
# tarball's system, with a minimal /dev, /proc and /sys (read-only). ROOT is a mount point (a chroot whose / is not one
# behaves differently for the module: issue 13).
pkg_chroot_prepare() {
    local tarball=$1 root=$2
    mkdir -p "$root"
    mount -t tmpfs -o mode=0755 polyns-chroot "$root"
    tar -C "$root" -xf "$tarball"
    # Real device nodes (not bind mounts: the system tests' harness, run in
    # there, binds this /dev non-recursively and would see placeholders).
    mount -t tmpfs -o mode=0755,nosuid polyns-dev "$root/dev"
    mknod -m 0666 "$root/dev/null" c 1 3
    mknod -m 0666 "$root/dev/zero" c 1 5
    mknod -m 0666 "$root/dev/full" c 1 7
    mknod -m 0666 "$root/dev/random" c 1 8
    mknod -m 0666 "$root/dev/urandom" c 1 9
    mknod -m 0666 "$root/dev/tty" c 5 0
    ln -s /proc/self/fd "$root/dev/fd"
    ln -s /proc/self/fd/0 "$root/dev/stdin"
    ln -s /proc/self/fd/1 "$root/dev/stdout"
    ln -s /proc/self/fd/2 "$root/dev/stderr"
    mkdir -p "$root/dev/pts" "$root/dev/shm"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
    ln -s pts/ptmx "$root/dev/ptmx"
    mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount -o remount,bind,ro "$root/sys" 2>/dev/null || true
    # /tmp and /run stay directories of the tmpfs root: the system tests'
    # harness stacks its own tmpfs there, and the seed's checks expect one
    # mount on /tmp.
}

# pkg_chroot ROOT CMD...: run CMD inside ROOT with a clean environment.
pkg_chroot() {
    local root=$1
    shift
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# pkg_source_tarball OUT VERSION: the source tree as a release tarball would
# hold it (polyns-VERSION/...): tracked and untracked-but-not-ignored files
# when the tree is a git checkout, else everything but build directories.
# Every file dated as packaging/debian/changelog's entry (reproducible, and
# not 1970, which lintian calls ancient).
pkg_source_tarball() {
    local out=$1 dir=polyns-$2 stamp
    stamp=$(dpkg-parsechangelog -l "$POLYNS_SOURCE_DIR/packaging/debian/changelog" -STimestamp)
    (
        cd "$POLYNS_SOURCE_DIR"
        if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
            git ls-files -z --cached --others --exclude-standard |
                xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh
        else
            find . \( -name .git -o -name 'build*' -o -name subprojects \) -prune -o \
                \( -type f -o -type l \) -printf '%P\0'
        fi
    ) | tar -C "$POLYNS_SOURCE_DIR" --null -T - --transform "s,^,$dir/," \
        --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$stamp" -cJf "$out"
}

# pkg_version: the project's version (meson.build).
pkg_version() {
    sed -n "s/^  version: '\([^']*\)'.*/\1/p" "$POLYNS_SOURCE_DIR/meson.build" | head -n 1
}
