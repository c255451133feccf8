#!/bin/bash
# mkinitramfs.sh OUT.cpio.gz PAM_POLYNS_SO POLYNS_CLI VM_SESSION
# The VM's whole root file system: busybox, dash (busybox-static's sh would
# run its own SELinux-unaware applets whatever PATH says), the SELinux-aware
# coreutils and policy tools, Debian's PAM modules (pam_namespace.so for the
# comparison, pam_selinux.so), the built pam_polyns.so and polyns, and the
# compiled refpolicy trees /etc/selinux/{mls,default}. Everything comes from
# the host's installed packages; no disk image (SELinux labels rootfs and
# tmpfs files in memory).
set -euo pipefail
out=$1 module=$2 cli=$3 session=$4
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d "${TMPDIR:-/tmp}/polyns-vm-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"   # the VM's /: users must get through it
libdir=/lib/x86_64-linux-gnu
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib64,etc/pam.d,etc/security/namespace.d,proc,sys,dev,run,tmp,var/tmp,root,home,srv,w}
mkdir -p "$root$libdir/security"
ln -s ../lib "$root/usr/lib"

copy_with_libs() {   # each file (symlinks resolved) and every library ldd names
    local f
    for f in "$@"; do
        mkdir -p "$(dirname "$root$f")"; cp -L "$f" "$root$f"
        copy_libs "$f"
    done
}
copy_libs() {   # only the libraries ldd names for each file
    local f lib
    for f in "$@"; do
        { ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true; } | while read -r lib; do
            [ -e "$root$lib" ] || { mkdir -p "$(dirname "$root$lib")"; cp -L "$lib" "$root$lib"; }
        done
    done
}

cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
tools="/usr/bin/dash /usr/bin/id /usr/bin/ls /usr/bin/stat /usr/bin/mkdir /usr/bin/chcon /usr/bin/runcon
       /usr/sbin/load_policy /usr/sbin/setfiles /usr/sbin/getenforce /usr/sbin/setenforce"
copy_with_libs $tools
for t in $tools; do rm -f "$root/bin/$(basename "$t")"; done
ln -sf setfiles "$root/usr/sbin/restorecon"
ln -sf ../usr/bin/dash "$root/bin/sh"
for m in pam_namespace pam_selinux pam_permit pam_deny; do copy_with_libs "$libdir/security/$m.so"; done
# dlopen()ed by pam_polyns.so, so ldd does not name them
copy_with_libs "$libdir/libmount.so.1" "$libdir/libselinux.so.1"
copy_libs "$module" "$cli" "$session"
cp -L "$module" "$root$libdir/security/pam_polyns.so"
cp -L "$cli" "$root/usr/local/bin/polyns"
cp -L "$session" "$root/usr/local/bin/polyns-vm-session"

mkdir -p "$root/etc/selinux"
cp -a /etc/selinux/mls /etc/selinux/default "$root/etc/selinux/"
cp /etc/selinux/semanage.conf "$root/etc/selinux/" 2>/dev/null || true

cat > "$root/etc/passwd" <<P
root:x:0:0:root:/root:/bin/sh
alice:x:1001:1001:alice:/home/alice:/bin/sh
bob:x:1002:1002:bob:/home/bob:/bin/sh
carol:x:1003:1003:carol:/home/carol:/bin/sh
dave:x:1004:1004:dave:/home/dave:/bin/sh
P
printf 'root:x:0:\nalice:x:1001:\nbob:x:1002:\ncarol:x:1003:\ndave:x:1004:\n' > "$root/etc/group"
printf 'passwd: files\ngroup: files\n' > "$root/etc/nsswitch.conf"
# dave's long category list makes a context name over 80 characters
long=c0,c2,c4,c6,c8,c10,c12,c14,c16,c18,c20,c22,c24,c26,c28
printf 'alice:staff_u:s0\nbob:staff_u:s2\ncarol:staff_u:s0-s3\ndave:staff_u:s0:%s\n' $long > "$root/etc/seusers.mls"
printf 'alice:staff_u:s0\nbob:staff_u:s0:c1.c3\ncarol:staff_u:s0-s0:c0.c5\ndave:staff_u:s0:%s\n' $long > "$root/etc/seusers.default"

# PAM services: each case once per module. polyns mirrors the polydir's owner
# and mode (instance_mode=mirror) as pam_namespace does, so they compare.
pam() { printf '%s\n' "$@" > "$root/etc/pam.d/$service"; }
for module in namespace polyns; do
    mod="pam_$module.so debug"; [ $module = polyns ] && mod="$mod instance_mode=mirror"
    sel="session required pam_selinux.so open env_params"
    service=polytest-$module;       pam "$sel" "session required $mod"
    service=polytest-hash-$module;  pam "$sel" "session required $mod gen_hash"
    service=polytest-cur-$module;   pam "session required $mod use_current_context"
    service=polytest-def-$module;   pam "session required $mod use_default_context"
    service=polytest-nosel-$module; pam "session required $mod"
done
service=seed-polyns; pam "session required pam_selinux.so open env_params" "session required pam_polyns.so debug"
# enforcing: no env_params (pam_selinux's selinux_check_access() then asserts
# in libselinux 3.4's AVC, which local_login_t cannot start)
service=polytest-enf-polyns; pam "session required pam_selinux.so open" "session required pam_polyns.so debug"
service=polytest-enf-namespace; pam "session required pam_selinux.so open" "session required pam_namespace.so debug ignore_instance_parent_mode"
service=other; pam "session required pam_deny.so"
# the default init script: records the domain it runs in
printf '#!/bin/sh\necho "$1 $(cat /proc/self/attr/current)" >> /run/init.log\nexit 0\n' > "$root/etc/security/namespace.init"
chmod 0755 "$root/etc/security/namespace.init"

cp "$here/guest/init" "$here/guest/cases.sh" "$here/guest/enforce.sh" "$root/"
chmod 0755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
