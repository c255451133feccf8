#!/bin/bash
# get_kernel.sh: prints the path of an uncompressed Debian kernel (vmlinux,
# PVH-bootable: qemu -kernel skips ~10 s of in-guest XZ decompression under
# TCG). The linux-image .deb is fetched with `apt-get download`, never
# installed (installing it runs update-initramfs and upgrades systemd pieces
# on the test host), and cached under $POLYNS_VM_CACHE (default
# /var/cache/polyns/kernel), keyed on the package name and version, so a
# fresh clone (a wiped build dir) does not download it again.
set -euo pipefail
cache=${POLYNS_VM_CACHE:-/var/cache/polyns/kernel}
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
version=
[ -n "$pkg" ] && version=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -1)
if [ -z "$pkg" ] || [ -z "$version" ]; then
    # No package lists (apt-get update never ran): a cached kernel still serves.
    found=$(ls -1d "$cache"/linux-image-*/vmlinux 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$found" ] || { echo "get_kernel: cannot resolve linux-image-amd64 (run apt-get update) and nothing is cached in $cache" >&2; exit 1; }
    echo "$found"; exit 0
fi
dir="$cache/$pkg-$version"
if [ -s "$dir/vmlinux" ]; then echo "$dir/vmlinux"; exit 0; fi

work=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"   # apt-get download drops privileges to _apt
(cd "$work" && apt-get download "$pkg=$version" >/dev/null 2>"$work/apt.err") ||
    { cat "$work/apt.err" >&2; echo "get_kernel: apt-get download $pkg=$version failed" >&2; exit 1; }
mkdir "$work/x"
dpkg-deb --fsys-tarfile "$work"/*.deb | tar -x -C "$work/x" --wildcards './boot/vmlinuz-*'
vmlinuz=$(ls "$work"/x/boot/vmlinuz-* | head -1)
# CONFIG_KERNEL_XZ: the payload is the first XZ stream in the bzImage.
offset=$(grep -abo $'\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1)
[ -n "$offset" ] || { echo "get_kernel: no XZ payload in $vmlinuz" >&2; exit 1; }
tail -c +$((offset + 1)) "$vmlinuz" | xz -dc > "$work/vmlinux" 2>/dev/null || true  # trailing data after the stream is expected
head -c 4 "$work/vmlinux" | grep -q $'\x7fELF' || { echo "get_kernel: extracting vmlinux from $vmlinuz failed" >&2; exit 1; }
mkdir -p "$dir.new"
mv "$work/vmlinux" "$dir.new/vmlinux"
rm -rf "$dir"; mv "$dir.new" "$dir"
# Older versions are dropped: the cache holds the current kernel only.
for old in "$cache"/linux-image-*; do [ "$old" = "$dir" ] || rm -rf "$old"; done
echo "$dir/vmlinux"
