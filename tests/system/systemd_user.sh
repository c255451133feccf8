#!/bin/bash
# Issue 13, item 4: the `systemd-user` PAM service. When systemd starts
# `systemd --user` for a user (user@UID.service, PAMName=systemd-user), it
# opens a PAM session through /etc/pam.d/systemd-user, which reaches the
# module through common-session-noninteractive (Debian, where the profile
# puts it) or system-auth (RHEL/Fedora). Decision (README, pam_polyns(8)):
# polyns treats it like any other service: the same rules, so the user's
# services get the same instance directories as her logins for the named
# methods (user, level, context: %{UID}, $USER), in a namespace of their own;
# tmpdir and tmpfs instances are per session, so services get their own
# (sharing one namespace between logins and services is the persist mode of
# issue 16).
# Driven here through the service name `systemd-user` with Debian's file.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
require_module
require_pam_session
require_cli
source "$(dirname "$0")/lib/su_stack.sh"

add_user alice 1001
install -d -o root -g root -m 0755 /tmp/user_tmpl /var/tmp/tmpdir_tmpl
cat >/etc/security/namespace.conf <<'EOF2'
/tmp     /tmp/user_tmpl/%{UID}    user    root
/var/tmp /var/tmp/tmpdir_tmpl/s-  tmpdir  root
EOF2
chmod 0644 /etc/security/namespace.conf
write_common_session
write_pam_service common-account <<'EOF2'
account  required pam_unix.so
EOF2
# Debian 12's /etc/pam.d/systemd-user (systemd 252), pam_systemd.so left out:
# it would ask logind, which the harness does not have.
write_pam_service systemd-user <<'EOF2'
# This file is part of systemd.
# Used by systemd --user instances.
@include common-account
session  required pam_selinux.so close
session  required pam_selinux.so nottys open
session  required pam_loginuid.so
session  required pam_limits.so
@include common-session-noninteractive
EOF2
write_pam_service login-like <<'EOF2'
@include common-session
EOF2
harness_full_syslog_on_failure

view='echo "tmp=$(stat -c %i /tmp) vartmp=$(readlink -f /proc/self/root/var/tmp) vartmp_ino=$(stat -c %i /var/tmp)"'
login=$(pam_session login-like alice -- sh -c "$view") || fail "alice's login failed: $login"
user=$(pam_session systemd-user alice -- sh -c "$view") || fail "the systemd-user session failed: $user"
echo "  login:        $login"
echo "  systemd-user: $user"
get() { sed -n "s/.*\\<$2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }
alice_tmp=$(stat -c %i /tmp/user_tmpl/1001)
assert_eq "$(get "$login" tmp)" "$alice_tmp" "login: /tmp is alice's instance"
assert_eq "$(get "$user" tmp)" "$alice_tmp" "systemd-user: /tmp is the same instance directory as her logins'"
[[ $(get "$user" vartmp_ino) != "$(get "$login" vartmp_ino)" ]] || fail "tmpdir instances are shared between sessions"
pass "systemd-user: a tmpdir instance of its own (per session), removed at close like the login's"
assert_eq "$(find /var/tmp/tmpdir_tmpl -mindepth 1 | wc -l)" 0 "both tmpdir instances are gone after their sessions"
wait_for_syslog "session for alice \\(service systemd-user\\): /tmp -> /tmp/user_tmpl/1001" ||
    fail "no polyns line for the systemd-user session"
pass "the module ran for the systemd-user service"
# What the admin sees beforehand is what it does.
plan=$("$POLYNS_CLI" plan alice --service systemd-user) || fail "polyns plan --service systemd-user failed: $plan"
assert_contains "$plan" "/tmp/user_tmpl/1001" "polyns plan --service systemd-user shows the same instance"
