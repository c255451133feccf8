#!/bin/bash
# The RPM (issue 15, item 3): packaging/polyns.spec built with rpmbuild (from
# Debian's rpm package; fedora-macros stands in for Fedora's %meson macros),
# then its contents, flags, dependencies and scriptlets checked against what
# the spec means to ship. BuildRequires cannot be resolved on Debian
# (--nodeps): the build uses this machine's Debian libraries. Built
# --without check (no test programs; the unit suite runs in the main build).
# Everything lives below the build directory, in private mount, network and
# pid namespaces. By hand (root): POLYNS_BUILD_DIR=build bash tests/packaging/rpm_package.sh
source "$(dirname "$0")/lib/packaging.sh"
PKG_TOOLS+=(rpmbuild rpm rpm2cpio cpio readelf dpkg-parsechangelog)
pkg_init rpm "$@"
[[ -n ${POLYNS_PKG_ISOLATED:-} ]] || rm -rf -- "$PKG_WORK"
pkg_isolate "$@"

spec=$POLYNS_SOURCE_DIR/packaging/polyns.spec
version=$(pkg_version)
spec_version=$(rpmspec -q --srpm --qf '%{VERSION}' "$spec" 2>/dev/null || sed -n 's/^Version: *//p' "$spec")
assert_eq "$spec_version" "$version" "the spec packages meson.build's version"

top=$PKG_WORK/rpmbuild
mkdir -p "$top/SOURCES" "$top/tmp"
pkg_step "release tarball"
pkg_source_tarball "$top/SOURCES/polyns-$version.tar.xz" "$version"

pkg_step "rpmbuild -ba --without check"
log=$PKG_WORK/rpmbuild.log
if ! rpmbuild -ba --nodeps --without check \
    --load="$PKG_LIB_DIR/../fedora-macros" \
    --define "_topdir $top" --define "_tmppath $top/tmp" \
    --define "_smp_build_ncpus $(nproc)" \
    "$spec" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    fail "rpmbuild failed (log: $log)"
fi
grep -E '^(Wrote|warning|Warning):' "$log" || true
pass "rpmbuild -ba built the source and binary RPMs"
rpm_file=$(ls "$top"/RPMS/*/polyns-"$version"-*.rpm | grep -v -e debuginfo -e debugsource | head -n 1)
[[ -f $rpm_file ]] || fail "no binary RPM"
ls "$top"/SRPMS/polyns-"$version"-*.src.rpm >/dev/null || fail "no source RPM"

pkg_step "contents against the spec's intent"
libdir=$(rpm --eval '%{_libdir}')
# (Without the .build-id links: rpm adds them to every package with ELF files.)
files=$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm_file" | grep -v ' /usr/lib/\.build-id' | sed 's/^ */ /' | sort -k2)
printf '%s\n' "$files"
expected=$(sort -k2 <<EOF2
 /etc/security/polyns.conf cn
 $libdir/security/pam_polyns.so
 /usr/sbin/polyns
 /usr/share/doc/polyns
 /usr/share/doc/polyns/COMPATIBILITY.md d
 /usr/share/doc/polyns/README.authselect.md d
 /usr/share/doc/polyns/README.md d
 /usr/share/doc/polyns/SECURITY.md d
 /usr/share/doc/polyns/examples
 /usr/share/doc/polyns/examples/namespace.conf d
 /usr/share/doc/polyns/examples/namespace.d-polyns.conf d
 /usr/share/doc/polyns/examples/namespace.init d
 /usr/share/doc/polyns/examples/seed-a5.conf d
 /usr/share/doc/polyns/examples/tmpfiles.d-polyns.conf d
 /usr/share/licenses/polyns
 /usr/share/licenses/polyns/LICENSE l
 /usr/share/man/man5/polyns-namespace.conf.5 d
 /usr/share/man/man8/pam_polyns.8 d
 /usr/share/man/man8/polyns.8 d
EOF2
)
if [[ -f $POLYNS_SOURCE_DIR/conf/bash-completion/polyns ]]; then
    expected+=$'\n /usr/share/bash-completion/completions/polyns'
fi
# rpm prints FILEFLAGS first: compare as "PATH FLAGS". Man pages are
# compared without .gz (Fedora's brp-compress gzips them, Debian's rpm not).
actual=$(awk '{ if (NF == 2) print " " $2 " " $1; else print " " $1 }' <<<"$files" | sed 's/\.gz\( \|$\)/\1/' | sort -k1)
expected=$(awk '{ if (NF == 2) print " " $1 " " $2; else print " " $1 }' <<<"$expected" | sort -k1)
if [[ $actual != "$expected" ]]; then
    diff <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") >&2 || true
    fail "the RPM's files and flags differ from the spec's intent (- expected, + actual)"
fi
pass "files: the module in $libdir/security, polyns, the rules as %config(noreplace), %license, %doc, man pages"
assert_not_contains "$files" "pam-configs" "no Debian-only /usr/share/pam-configs"
assert_not_contains "$files" "tmpfiles.d/" "nothing in tmpfiles.d (the example is %doc)"

requires=$(rpm -qp --requires "$rpm_file")
printf '%s\n' "$requires"
assert_contains "$requires" "libstdc++.so.6" "dynamically linked: requires libstdc++.so.6"
extract=$PKG_WORK/extract
mkdir -p "$extract"
(cd "$extract" && rpm2cpio "$rpm_file" | cpio -idm --quiet)
needed=$(readelf -d "$extract$libdir/security/pam_polyns.so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
assert_contains "$needed" "libstdc++.so.6" "pam_polyns.so's NEEDED names libstdc++.so.6 (no static copy)"
scripts=$(rpm -qp --scripts "$rpm_file")
assert_eq "$scripts" "" "no scriptlets (no tmpfiles --create, no edits of PAM files)"
pkg_step "done"
