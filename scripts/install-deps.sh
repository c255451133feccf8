#!/usr/bin/env bash
# Installs every Debian 12 package that building polyns, running its tests and
# running the demo need. Idempotent: when everything is installed it only
# checks and exits, so the test and demo scripts can call it every time.
#
# Deliberately NOT installed: libpam-tmpdir (its postinst edits the host's PAM
# configuration; polyns' tests work on private copies of /etc/pam.d instead).
set -euo pipefail

packages=(
    # build
    meson ninja-build pkg-config g++
    libpam0g-dev libmount-dev libselinux1-dev libmd-dev
    libcli11-dev nlohmann-json3-dev libfmt-dev
    scdoc
    # unit tests and fuzzing (libFuzzer's runtime is only a Recommends of clang)
    catch2 clang libclang-rt-14-dev python3
    # system tests and the demo: real libpam, pam_namespace.so for comparison,
    # login paths (sshd, su, runuser), a static shell for chroots, mount tools
    libpam-modules pamtester openssh-server openssh-client busybox-static
    util-linux dpkg-dev valgrind iproute2 procps
    # a hung FUSE daemon (tests/system/hung_fuse.c, issue 6 entry 19)
    libfuse3-dev
    # tests/bench/plain_path.sh traces the plain login path (skips without)
    strace
    # the SELinux VM (tests/vm): qemu, the compiled refpolicy trees (mls and
    # default = MCS) and the SELinux-aware tools put into its initramfs; the
    # kernel is fetched by tests/vm/get_kernel.sh (apt-get download), never
    # installed
    qemu-system-x86 selinux-policy-mls selinux-policy-default policycoreutils
    selinux-utils cpio xz-utils
    # POSIX ACLs: libacl for the template reachability check, setfacl and
    # getfattr (attr) for its tests and the instance records' (issue 12)
    libacl1-dev acl attr
    # a PAM application with GLib threads like gdm-session-worker
    # (tests/system/threaded_session.cpp); sudo -i in nested sessions
    libglib2.0-dev sudo
    # polyns's bash completion: its install directory and its test (issue 14)
    bash-completion
    # the package tests (tests/packaging): clean chroots from Debian's
    # archive, lintian, rpmbuild and its contents, the Ansible role
    mmdebstrap debian-archive-keyring lintian rpm ansible
)

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

if ((EUID != 0)); then
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run as root (or install them with apt-get) and retry" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"

# Installing openssh-server must not start a host sshd: containers without an
# init system run /etc/init.d scripts directly through invoke-rc.d unless a
# policy-rc.d forbids it. Add one for the duration of the install if the host
# has none, and remove exactly that file afterwards.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# temporary, added by polyns scripts/install-deps.sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    added_policy=1
fi
remove_policy() {
    if ((added_policy)); then
        rm -f "$policy"
    fi
}
trap remove_policy EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done"
