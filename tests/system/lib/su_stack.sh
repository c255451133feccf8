# shellcheck shell=bash
# Scaffolding of the tests that open sessions inside sessions (su, runuser,
# sudo, ssh logins: su_runuser.sh, nested_sessions.sh, rhel_stack.sh,
# chroot_safety.sh, attack_su_chain.sh, systemd_user.sh): the rules with the
# templates /tmp/user_tmpl and /var/tmp/user_tmpl, the PAM services, and the
# probe every nested shell runs. Source after harness.sh and call after
# harness_enter: everything here writes only to the world's /etc and /run.

# The module's session line (POLYNS_TEST_MODULE_ARGS: arguments a test run
# adds to every line, e.g. debug).
MODULE_LINE="$POLYNS_MODULE ${POLYNS_TEST_MODULE_ARGS:-}"

# write_user_tmpl_conf [USER_LIST]: the templates /tmp/user_tmpl and
# /var/tmp/user_tmpl (root:root 0755, as the seed's A3 makes them) and a
# namespace.conf (0644) that polyinstantiates /tmp and /var/tmp in them with
# method user, one instance per uid, USER_LIST (e.g. root) left alone.
write_user_tmpl_conf() {
    install -d -o root -g root -m 0755 /tmp/user_tmpl /var/tmp/user_tmpl
    cat >/etc/security/namespace.conf <<EOF
/tmp     /tmp/user_tmpl/%{UID}     user${1:+ $1}
/var/tmp /var/tmp/user_tmpl/%{UID} user${1:+ $1}
EOF
    chmod 0644 /etc/security/namespace.conf
}

# write_login_service [SERVICE]: SERVICE (polyns-login) opens a session
# through the module, any account accepted: a login, for pam_session.
write_login_service() {
    write_pam_service "${1:-polyns-login}" <<EOF
account  required pam_permit.so
session  required $MODULE_LINE
EOF
}

# write_su_services AUTH SERVICE...: Debian-shaped su /
# su-l / runuser / runuser-l stacks without common-session: root needs no
# password (pam_rootok), everyone else gets the auth module AUTH (pam_deny.so:
# refused; pam_permit.so: stands in for typing the target's password, in the
# throwaway world only), and the session is the module's with unmnt_remnt.
write_su_services() {
    local auth=$1 service
    shift
    for service in "$@"; do
        write_pam_service "$service" <<EOF
auth     sufficient pam_rootok.so
auth     required   $auth
account  required   pam_unix.so
session  required   $MODULE_LINE unmnt_remnt
EOF
    done
}

# write_common_session: common-session and common-session-noninteractive as
# pam-auth-update writes them from conf/pam-configs/polyns (Session-Type:
# Additional goes to both files): pam_unix, then the module.
write_common_session() {
    local file
    for file in common-session common-session-noninteractive; do
        write_pam_service "$file" <<EOF
session  required pam_unix.so
session  required $MODULE_LINE
EOF
    done
}

# ssh_login_su_commands: before sshd_start, where a user's ssh login runs
# su -, sudo -i or sudo runuser -l: $su_l, $sudo_i and $sudo_runuser_l. In
# the sanitizer run her setuid su ignores LD_PRELOAD, so sshd's whole tree
# gets ASan's runtime from a private /etc/ld.so.preload instead
# (asan-bin/sshd, lib/asan_preload.sh), and the login commands keep
# ASAN_OPTIONS. $runuser_bin is the real runuser (the sanitizer run puts a
# wrapper first in PATH).
ssh_login_su_commands() {
    runuser_bin=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v runuser)
    su_l="su -" sudo_i="sudo -i" sudo_runuser_l="sudo $runuser_bin -l"
    if [[ -n ${POLYNS_TEST_PRELOAD:-} ]]; then
        export POLYNS_ASAN_PRELOAD_SSHD=1
        su_l="su -w ASAN_OPTIONS -"
        sudo_i="sudo --preserve-env=ASAN_OPTIONS -i"
        sudo_runuser_l="sudo --preserve-env=ASAN_OPTIONS $runuser_bin -w ASAN_OPTIONS -l"
    fi
}

# $probe LABEL [leak]: prints "LABEL tmp=INODE vartmp=INODE user=NAME
# tmp_mounts=N" (N: mounts stacked on /tmp) for the calling context; with
# "leak", also "LEAK-LABEL" if alice's /tmp/alice-file is visible. A file, so
# that every shell (bash, dash, login shells, ssh's) can run it. write_probe
# creates it.
probe=${POLYNS_TEST_ROOT:?source su_stack.sh after harness_enter}/probe.sh
write_probe() {
    cat >"$probe" <<'EOF'
#!/bin/sh
echo "$1 tmp=$(stat -c %i /tmp) vartmp=$(stat -c %i /var/tmp) user=$(id -un) tmp_mounts=$(grep -c " /tmp " /proc/self/mountinfo)"
if [ "${2:-}" = leak ] && [ -e /tmp/alice-file ]; then echo "LEAK-$1"; fi
EOF
    chmod 0755 "$probe"
}

# field LABEL KEY: KEY's value on the probe line LABEL in $out.
field() {
    sed -n "s/^$1 .*\\<$2=\\([^ ]*\\).*/\\1/p" <<<"$out"
}
