#!/bin/bash
# The Debian packages as a distribution and an admin meet them (issue 15,
# items 1, 2 and 4):
#  1. a clean bookworm chroot (mmdebstrap --variant=buildd) with exactly the
#     Build-Depends of packaging/debian/control for the nocheck profile
#     (`apt-get build-dep`), offline, builds the source and both binary
#     packages from a release tarball of this tree as an unprivileged user
#     (Rules-Requires-Root: no), with DEB_BUILD_OPTIONS=nocheck;
#  2. lintian --pedantic passes (only tags overridden with a reason in
#     packaging/debian are allowed); the module is linked dynamically and
#     sits in libpam's own module directory;
#  3. a fresh minbase chroot installs them and deb_installed.sh runs there:
#     README.Debian's steps, the seed's A3-A7 over Debian's own sshd stack
#     through pam-auth-update, the upgrade check, disable, remove, and
#     common-session restored byte for byte;
#  4. ansible_role.sh: the Ansible role against another fresh chroot, twice.
# Base tarballs are cached in /var/cache/polyns/mmdebstrap (lib/packaging.sh).
# By hand (root): POLYNS_BUILD_DIR=build bash tests/packaging/deb_package.sh
# POLYNS_PKG_CHECK_BUILD=1: the full build instead (all Build-Depends, the
# test programs built and the unit suite run by dh_auto_test); too slow for
# CI's budget, run it when Build-Depends or debian/rules change.
source "$(dirname "$0")/lib/packaging.sh"
PKG_TOOLS+=(mmdebstrap lintian dpkg-deb dpkg-parsechangelog readelf flock chroot setpriv)
if [[ ${POLYNS_PKG_CHECK_BUILD:-0} == 1 ]]; then pkg_init deb-check "$@"; else pkg_init deb "$@"; fi

debian_dir=$POLYNS_SOURCE_DIR/packaging/debian
version=$(pkg_version)
deb_version=$(dpkg-parsechangelog -l "$debian_dir/changelog" -SVersion)
[[ $deb_version == "$version"-* ]] || fail "packaging/debian/changelog ($deb_version) does not package meson.build's version $version"

# Base systems (network: before isolating). The build chroot's key includes
# the Build-Depends field: a change there makes a new one.
build_depends=$(sed -n '/^Build-Depends:/,/^[A-Z][-A-Za-z]*:/p' "$debian_dir/control" | sed '$d')
if [[ ${POLYNS_PKG_CHECK_BUILD:-0} == 1 ]]; then
    profile_name=check build_profiles= build_options="parallel=$(nproc)"
else
    profile_name=nocheck build_profiles=nocheck build_options="nocheck parallel=$(nproc)"
fi
export POLYNS_PKG_BD_DIR=$PKG_WORK/build-deps
if [[ -z ${POLYNS_PKG_ISOLATED:-} ]]; then
    pkg_step "base systems (cached in $PKG_CACHE)"
    rm -rf -- "$PKG_WORK"
    mkdir -p "$POLYNS_PKG_BD_DIR/debian"
    cp "$debian_dir/control" "$debian_dir/changelog" "$POLYNS_PKG_BD_DIR/debian/"
fi
# Computed once, before isolating (the re-executed script has no network
# and must use the same tarballs even if the tree changed meanwhile).
if [[ -z ${POLYNS_PKG_ISOLATED:-} ]]; then
    build_base=$(pkg_base_tarball "deb-build-$profile_name" buildd "" \
        --customize-hook='mkdir -p "$1/tmp/bd" && cp -r "$POLYNS_PKG_BD_DIR/debian" "$1/tmp/bd/"' \
        --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get build-dep -y --no-install-recommends -o APT::Build-Profiles=$build_profiles /tmp/bd" \
        --customize-hook='rm -rf "$1/tmp/bd"' \
        -- "$build_depends")
    install_base=$(pkg_base_tarball deb-install minbase \
        "openssh-server,openssh-client,mount,procps,iproute2,mawk,libpam-runtime,libpam-modules,libfmt9,libmd0,python3,python3-apt")
    export POLYNS_PKG_BUILD_BASE=$build_base POLYNS_PKG_INSTALL_BASE=$install_base
fi
build_base=$POLYNS_PKG_BUILD_BASE
install_base=$POLYNS_PKG_INSTALL_BASE
pkg_isolate "$@"

out=$PKG_WORK/out
mkdir -p "$out"

pkg_step "release tarball and source tree"
pkg_source_tarball "$out/polyns_$version.orig.tar.xz" "$version"
build_root=$PKG_WORK/build-root
pkg_chroot_prepare "$build_base" "$build_root"
mkdir -p "$build_root/build"
cp "$out/polyns_$version.orig.tar.xz" "$build_root/build/"
tar -C "$build_root/build" -xf "$out/polyns_$version.orig.tar.xz"
cp -a "$debian_dir" "$build_root/build/polyns-$version/debian"
chown -R 65534:65534 "$build_root/build"

pkg_step "dpkg-buildpackage in the clean chroot ($profile_name, offline, as nobody)"
build_log=$out/build.log
if ! pkg_chroot "$build_root" setpriv --reuid=65534 --regid=65534 --clear-groups \
    env HOME=/build DEB_BUILD_OPTIONS="$build_options" \
    sh -c "cd /build/polyns-$version && dpkg-buildpackage -us -uc ${build_profiles:+-P$build_profiles}" >"$build_log" 2>&1; then
    tail -n 60 "$build_log" >&2
    fail "dpkg-buildpackage failed in the clean chroot (log: $build_log)"
fi
pass "dpkg-buildpackage ($profile_name) built in a chroot holding only the Build-Depends"
cp "$build_root/build/"*.deb "$build_root/build/"*.dsc "$build_root/build/"*.debian.tar.* \
    "$build_root/build/"*.changes "$build_root/build/"*.buildinfo "$out/"
umount -R "$build_root"
ls -l "$out"
changes=$(ls "$out"/*.changes | head -n 1)
arch=$(dpkg --print-architecture)
lib_deb=$out/libpam-polyns_${deb_version}_$arch.deb
cli_deb=$out/polyns_${deb_version}_$arch.deb
[[ -f $lib_deb && -f $cli_deb ]] || fail "expected $lib_deb and $cli_deb"

pkg_step "lintian --pedantic"
lintian_out=$(lintian --pedantic --display-info --fail-on error,warning,info,pedantic "$changes" 2>&1) || {
    printf '%s\n' "$lintian_out" >&2
    fail "lintian --pedantic reports tags that are not overridden"
}
printf '%s\n' "$lintian_out"
pass "lintian --pedantic: no tag that is not overridden with a reason"

pkg_step "what the packages hold"
contents=$(dpkg-deb -c "$lib_deb" | awk '{print $6}')
printf '%s\n' "$contents"
libpam_moddir=$(pkg-config --variable=libdir pam)/security
assert_contains "$contents" ".$libpam_moddir/pam_polyns.so" "the module is in libpam's own module directory ($libpam_moddir)"
assert_contains "$contents" "./etc/security/namespace.d/polyns.conf" "the rules ship as a namespace.d drop-in"
assert_not_contains "$contents" "./etc/security/namespace.conf" "libpam-modules' namespace.conf is not shipped"
assert_not_contains "$contents" "/tmpfiles.d/" "nothing in tmpfiles.d (systemd-tmpfiles --create would adopt a user's directory)"
assert_contains "$(dpkg-deb -f "$lib_deb" Pre-Depends)" "polyns (= $deb_version)" "libpam-polyns pre-depends on the checker of its own version"
unpacked=$PKG_WORK/unpacked
dpkg-deb -x "$lib_deb" "$unpacked"
needed=$(readelf -d "$unpacked$libpam_moddir/pam_polyns.so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "NEEDED: $needed"
assert_contains "$needed" "libstdc++.so.6" "the module links libstdc++ dynamically (security updates reach logins)"
assert_contains "$(dpkg-deb -f "$lib_deb" Depends)" "libstdc++6" "libpam-polyns depends on libstdc++6"
assert_contains "$(dpkg-deb -c "$cli_deb")" "./usr/sbin/polyns" "polyns ships /usr/sbin/polyns"

pkg_step "a fresh chroot installs them; README.Debian, seed A3-A7 (sshd), upgrade check, removal"
root=$PKG_WORK/root
pkg_chroot_prepare "$install_base" "$root"
mkdir -p "$root/polyns-src" "$root/debs" "$root/polyns-tools"
mount --bind -o ro "$POLYNS_SOURCE_DIR" "$root/polyns-src"
mount -o remount,bind,ro "$root/polyns-src"
cp "$lib_deb" "$cli_deb" "$root/debs/"
cp "$POLYNS_SYSLOG_SINK" "$root/polyns-tools/polyns-syslog-sink"
pkg_chroot "$root" POLYNS_SOURCE_DIR=/polyns-src POLYNS_BUILD_DIR=/polyns-tools \
    POLYNS_SYSLOG_SINK=/polyns-tools/polyns-syslog-sink PKG_T0="$PKG_T0" \
    bash /polyns-src/tests/packaging/deb_installed.sh
umount -R "$root"

# The Ansible role (packaging/ansible) drives polyns setup and polyns audit
# (issue 14): run it where this tree has them.
if [[ -f $POLYNS_SOURCE_DIR/src/cli/setup_command.cpp && -f $POLYNS_SOURCE_DIR/src/cli/audit_command.cpp ]]; then
    pkg_step "the Ansible role against a fresh chroot, twice"
    bash "$(dirname "$0")/ansible_role.sh" "$install_base" "$cli_deb" "$lib_deb"
else
    echo "note: this tree has no polyns setup and audit yet: the Ansible role's test (ansible_role.sh) did not run"
fi
pkg_step "done"
