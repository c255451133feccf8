#!/bin/bash
# Issue 13, item 6: a session opened inside a chroot whose / is not a mount
# point (a build chroot made from a plain directory, the seed-000 world of
# pbuilder), with Linux-PAM's own documented namespace.conf example whose
# templates do not exist yet (`/tmp /tmp-inst/ level root,adm`).
#
#  1. the session opens: the mount containing the chroot's / is made slave
#     (the harness makes it shared first, so a session mount that flowed out
#     would show in the harness's table while the session runs: it does not);
#  2. the missing templates /tmp-inst and /var/tmp/tmp-inst are created
#     root:root mode 0000 (as pam_namespace.so does), and alice's instances
#     are mounted from them; a second session reuses them;
#  3. after the session nothing of it is mounted anywhere;
#  4. a missing template whose parent is missing too is not created (only
#     the last component is), and a template a user made in a directory she
#     can write is refused (the owner check), not adopted.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
require_module
require_pam_session
source "$(dirname "$0")/lib/chroot.sh"

add_user alice 1001
add_user bob 1002

# The chroot: a plain directory on the harness's /home tmpfs (lib/chroot.sh).
ch=/home/buildroot
mkdir -p "$ch/home/alice" "$ch/home/bob"
make_plain_chroot "$ch"
chown alice:alice "$ch/home/alice"
chown bob:bob "$ch/home/bob"
cat >"$ch/etc/security/namespace.conf" <<'EOF'
# namespace.conf(5)'s example lines
/tmp     /tmp-inst/          level  root,adm
/var/tmp /var/tmp/tmp-inst/  level  root,adm
EOF
chmod 0644 "$ch/etc/security/namespace.conf"
harness_on_exit '[[ $status == 0 ]] || { echo "--- syslog:"; syslog_lines; } >&2'

# The mount the chroot lives on is shared with the harness's namespace: a
# session mount made in a peer would show up here.
mount --make-shared /home
pass "the chroot's / is a plain directory on a shared mount"


# 1 + 2: a session inside the chroot, checked from outside while it runs.
rm -f "$ch/ready" "$ch/done"
in_chroot "$ch" polyns-login alice -- sh -c '
    echo "tmp=$(stat -c %i /tmp) vartmp=$(stat -c %i /var/tmp)" >/session-view
    touch /ready
    i=0; while [ ! -e /done ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done' &
session_pid=$!
for _ in $(seq 600); do [[ -e $ch/ready ]] && break; sleep 0.05; done
[[ -e $ch/ready ]] || { wait "$session_pid" || true; fail "the session inside the chroot did not open"; }
leaked=$(grep -E " $ch/(var/)?tmp " /proc/self/mountinfo || true)
touch "$ch/done"
wait "$session_pid" || fail "the session inside the chroot failed (status $?)"
[[ -z $leaked ]] || fail "session mounts flowed out of the chroot's namespace: $leaked"
pass "no session mount reached the harness's namespace (the mount containing the chroot's / was made slave)"
assert_eq "$(stat -c '%U:%G %a' "$ch/tmp-inst")" "root:root 0" "missing template /tmp-inst created root:root 0000"
assert_eq "$(stat -c '%U:%G %a' "$ch/var/tmp/tmp-inst")" "root:root 0" "missing template /var/tmp/tmp-inst created root:root 0000"
assert_eq "$(stat -c '%U:%G %a' "$ch/tmp-inst/alice")" "alice:alice 700" "alice's instance in the new template"
assert_eq "$(cat "$ch/session-view")" \
    "tmp=$(stat -c %i "$ch/tmp-inst/alice") vartmp=$(stat -c %i "$ch/var/tmp/tmp-inst/alice")" \
    "alice's session in the chroot has her instances on /tmp and /var/tmp"
wait_for_syslog "created missing template /tmp-inst" || fail "the log does not say the template was created"
pass "the log says the template was created"
[[ -z $(grep -E " $ch/(var/)?tmp " /proc/self/mountinfo) ]] || fail "a session mount is left after the session"
pass "nothing of the session is mounted after it"

# A second session (bob) reuses the templates.
out=$(in_chroot "$ch" polyns-login bob -- stat -c %i /tmp 2>&1) || fail "bob's session in the chroot failed: $out"
assert_eq "$out" "$(stat -c %i "$ch/tmp-inst/bob")" "bob's session uses the template made for alice's"
assert_eq "$(stat -c '%U:%G %a' "$ch/tmp-inst")" "root:root 0" "the template is unchanged"

# 4. Only the last component is created; a user's look-alike is refused.
cat >"$ch/etc/security/namespace.conf" <<'EOF'
/tmp  /no/such/parent/tmp-inst/  user
EOF
syslog_clear
status=0
in_chroot "$ch" polyns-login alice -- true 2>/dev/null || status=$?
assert_eq "$status" 2 "a template whose parent is missing too: the session fails"
[[ ! -e $ch/no ]] || fail "the missing parent was created"
wait_for_syslog "mkdir -p -m 0755 /no/such/parent" || fail "the log does not name the parent to create"
pass "the log names the parent to create"
install -d -o alice -g alice -m 0755 "$ch/home/alice/tmpl-parent"
install -d -o alice -g alice -m 0700 "$ch/home/alice/tmpl-parent/tmp-inst"
cat >"$ch/etc/security/namespace.conf" <<'EOF'
/tmp  /home/alice/tmpl-parent/tmp-inst/  user  root
EOF
status=0
in_chroot "$ch" polyns-login bob -- true 2>/dev/null || status=$?
assert_eq "$status" 2 "a template alice made where she can write: bob's session fails closed"
[[ ! -e $ch/home/alice/tmpl-parent/tmp-inst/bob ]] || fail "bob's instance was created in alice's directory"
wait_for_syslog "owned by uid 1001, not root" || fail "the log does not name the template's owner"
pass "the log names the template's owner"
