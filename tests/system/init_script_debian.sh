#!/bin/bash
# Issue 12, item 2: the init script gets what Linux-PAM gives it, and a way to
# the instance that the user cannot redirect.
#   1. Debian's own, unmodified /etc/security/namespace.init (libpam-modules;
#      the harness's private copy of /etc/security, never the host's file)
#      acts only when $5 (polydir path safe) is 1: with a polyinstantiated
#      $HOME, a new instance gets /etc/skel, as with pam_namespace.
#   2. $5 and $6 mean what Linux-PAM's check_safe_path says (every segment but
#      the last root's and not group/other-writable, sticky excepted), judged
#      after the mount: with the template under the polydir
#      (/tmp/user_tmpl/%{UID}) $2 resolves inside alice's own instance, where
#      she planted a symlink to /etc/shadow before her login: $6 is 0, and
#      fd 5 (POLYNS_INSTANCE_FD) is the real instance all the same.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
use_module

# ------------------------------------------------ 1. Debian's namespace.init
script=/etc/security/namespace.init
version=$(dpkg-query -W -f='${Version}' libpam-modules 2>/dev/null || true)
packaged=$(dpkg-query -W -f='${Conffiles}\n' libpam-modules 2>/dev/null | awk '$1 == "/etc/security/namespace.init" {print $2}')
[[ -n $packaged && -f $script ]] || fail "libpam-modules' namespace.init is not installed here"
[[ $(md5sum <"$script" | cut -d' ' -f1) == "$packaged" ]] ||
    fail "$script is not libpam-modules' unmodified file (md5 differs from the package's)"
echo "Debian's namespace.init from libpam-modules $version (md5 $packaged), unmodified"
grep -q '"\$5" = 1' "$script" || echo "note: this version's script does not look at \$5"
make_template /home/inst
write_conf <<'EOF'
$HOME /home/inst/ user
EOF
rm -rf /home/alice/* /home/alice/.[!.]*
out=$(session alice sh -c 'ls -A /home/alice; stat -c "%U %n" /home/alice/.profile')
skel=$(ls -A /etc/skel)
for f in $skel; do
    assert_contains "$out" "$f" "2.skel: the new \$HOME instance got /etc/skel's $f from Debian's script"
done
assert_contains "$out" "alice /home/alice/.profile" "2.skel: ... owned by alice"

# ------------------------------- 2. $5/$6 and the fd to the real instance
report=/run/polyns-test/init-args
cat >"$script" <<EOF
#!/bin/sh
{
    echo "argc=\$# 5=\$5 6=\$6 fd=\$POLYNS_INSTANCE_FD"
    echo "fd-inode=\$(stat -L -c %i /proc/self/fd/\$POLYNS_INSTANCE_FD)"
    echo "path-is=\$(stat -L -c %F:%i "\$2" 2>&1)"
} >$report
EOF
chmod 0755 "$script"
make_template /tmp/user_tmpl
write_conf <<'EOF'
/tmp /tmp/user_tmpl/%{UID} user
EOF
session alice true  # makes her instance
# From outside, alice plants /tmp/user_tmpl/1001 inside her own instance:
# after the mount on /tmp that is where the path in $2 leads.
as_user alice mkdir /tmp/user_tmpl/1001/user_tmpl
as_user alice ln -s /etc/shadow /tmp/user_tmpl/1001/user_tmpl/1001
real_inode=$(stat -c %i /tmp/user_tmpl/1001)
session alice true
out=$(cat "$report")
echo "$out"
assert_contains "$out" "argc=6 5=1 6=0 fd=5" "2.args: six arguments; \$5=1 (/tmp's parents are root's), \$6=0 (after the mount /tmp is alice's)"
assert_contains "$out" "fd-inode=$real_inode" "2.fd: fd 5 is the real instance"
assert_not_contains "$out" "path-is=directory:$real_inode" "2.fd: (the path in \$2 is not: alice redirected it)"

# $6 is 1 where the instance's parents are root's.
make_template /var/tmp/inst
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF
session alice true
assert_contains "$(cat "$report")" "argc=6 5=1 6=1 fd=5" "2.args: \$6=1 for a template outside the polydir"
pass "init-script-debian"
