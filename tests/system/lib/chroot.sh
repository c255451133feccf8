# shellcheck shell=bash
# A chroot made from a plain directory (not a mount point), as build chroots
# and pbuilder's are, with what a PAM session inside needs: /usr bound
# read-only, a copy of what PAM reads from the harness's private /etc, /proc, /dev, and the
# module and the PAM driver copied to /opt/polyns. Source after harness.sh,
# call after harness_enter and after add_user (the copy of /etc is taken then).
#
#   make_plain_chroot DIR        # DIR/etc/pam.d/polyns-login runs the module
#   in_chroot DIR ARGS...        # polyns-pam-session ARGS... inside DIR
make_plain_chroot() {
    local ch=$1 link
    mkdir -p "$ch"/{usr,etc,proc,dev,opt/polyns,tmp,var/tmp,root}
    chmod 1777 "$ch/tmp" "$ch/var/tmp"
    for link in bin lib lib64 sbin; do [[ -L /$link ]] && ln -s "$(readlink "/$link")" "$ch/$link"; done
    mount --bind /usr "$ch/usr"
    mount -o remount,bind,ro "$ch/usr"
    # What libc, NSS and libpam read (not all of /etc: the host's may change meanwhile).
    local f
    for f in passwd group shadow gshadow nsswitch.conf ld.so.cache ld.so.conf ld.so.conf.d login.defs \
        environment pam.d security; do
        [[ -e /etc/$f ]] && cp -a "/etc/$f" "$ch/etc/"
    done
    mount -t proc proc "$ch/proc"
    mount --rbind /dev "$ch/dev"
    install -m 0755 "$POLYNS_PAM_SESSION" "$ch/opt/polyns/polyns-pam-session"
    install -m 0644 "$POLYNS_MODULE" "$ch/opt/polyns/pam_polyns.so"
    rm -f "$ch/etc/security/namespace.d/"*
    cat >"$ch/etc/pam.d/polyns-login" <<EOF2
account  required pam_permit.so
session  required /opt/polyns/pam_polyns.so ${POLYNS_TEST_MODULE_ARGS:-}
EOF2
    mountpoint -q "$ch" && fail "make_plain_chroot: $ch must not be a mount point"
    return 0
}

in_chroot() {
    local ch=$1
    shift
    chroot "$ch" /opt/polyns/polyns-pam-session "$@"
}
