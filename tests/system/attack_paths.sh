#!/bin/bash
# Issue 6, attacks with hostile file-system objects where the module expects
# its own directories (catalogue entries 1, 2, 3, 6, 19, 20): instances that
# are symlinks, files, FIFOs, sockets or someone else's; templates that are
# 1777, group-writable, user-owned, symlinks, missing, or recreated by a user
# after tmpfiles aged them out; polydirs replaced by symlinks; FIFOs where a
# directory or script is expected. Every one fails closed (lib/attack.sh's
# expect_refused: exit 2, one LOG_ERR line, no mount, no change anywhere).
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
require_module
add_standard_users
use_module
make_template /var/tmp/inst
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF
# bob has a real instance: alice's attacks aim at it too.
ATTACK_USER=bob expect_opened "bob's own session" /tmp
echo secret >/var/tmp/inst/bob/file && chown bob:bob /var/tmp/inst/bob/file
inst=/var/tmp/inst/alice

# ----------------------------------------------- 1. instance is a symlink
# Planted by whoever could (the template is root's, so: a former admin, a
# restored backup, Linux-PAM's own bugs): to /etc, to bob's instance, dangling.
for target in /etc /var/tmp/inst/bob bob /nonexistent/alice; do
    ln -s "$target" "$inst"
    expect_refused "1. instance is a symlink to $target" -- "$inst" symlink
    rm "$inst"
done

# --------------------------------- 2. instance is not alice's directory
touch "$inst"
expect_refused "2. instance is a regular file" -- "$inst" "not a directory"
rm "$inst"
mkfifo "$inst"
expect_refused "2. instance is a FIFO" -- "$inst" "not a directory"
rm "$inst"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$inst"
expect_refused "2. instance is a socket" -- "$inst" "not a directory"
rm "$inst"
install -d -o bob -g bob -m 0700 "$inst"
expect_refused "2. instance owned by bob" -- "$inst" "1002:1002"
rm -rf "$inst"
install -d -o alice -g alice -m 0777 "$inst"
expect_refused "2. instance with mode 0777" -- "$inst" "0777"
rm -rf "$inst"
install -d -o alice -g polyteam -m 0700 "$inst"
expect_refused "2. instance with a foreign group" -- "$inst" "1001:2000"
rm -rf "$inst"
install -d -o alice -g alice -m 2700 "$inst"
expect_refused "2. instance with a setgid bit" -- "$inst" "2700"
rm -rf "$inst"

# ------------------------------------------------- 3. template is unsafe
make_template /var/tmp/inst 1777
expect_refused "3. template 1777" -- /var/tmp/inst "chmod 0755"
make_template /var/tmp/inst 0775
expect_refused "3. template group-writable" -- /var/tmp/inst "writable by group or other"
make_template /var/tmp/inst 0755
chown bob /var/tmp/inst
expect_refused "3. template owned by a user" -- /var/tmp/inst "owned by uid 1002"
chown root /var/tmp/inst
mv /var/tmp/inst /var/tmp/real-inst
ln -s /var/tmp/real-inst /var/tmp/inst
expect_refused "3. template is a symlink (to a good template)" -- /var/tmp/inst symlink
rm /var/tmp/inst
# A missing template is created root:root 0000 (as pam_namespace.so does);
# one whose parent is missing too is not (only the last component is made).
write_conf <<<'/tmp /var/tmp/no-parent/inst/ user'
expect_refused "3. template and its parent missing" -- /var/tmp/no-parent "mkdir -p -m 0755 /var/tmp/no-parent"
[[ ! -e /var/tmp/no-parent ]] || fail "3. a missing template parent was created"
write_conf <<<'/tmp /var/tmp/inst/ user'
mv /var/tmp/real-inst /var/tmp/inst
# ignore_instance_parent_mode: the admin accepts a 1777 template (Linux-PAM's
# option). Whatever bob plants there is still refused by the instance checks.
make_template /var/tmp/inst 1777
use_module ignore_instance_parent_mode
as_user bob mkdir -m 0700 "$inst"
expect_refused "3. 1777 template (ignore_instance_parent_mode), bob's dir as alice's instance" -- "$inst" "1002:1002"
rm -rf "$inst"
as_user bob ln -s /etc "$inst"
expect_refused "3. 1777 template (ignore_instance_parent_mode), bob's symlink as alice's instance" -- "$inst" symlink
rm "$inst"
expect_opened "3. 1777 template (ignore_instance_parent_mode), nothing planted" /tmp
assert_only_instance_created "3. ignore_instance_parent_mode" "$ATTACK_CHANGES" "$inst" alice alice 700
rm -rf "$inst"
use_module
make_template /var/tmp/inst 0755
# A symlink higher up: the template's parent.
mkdir -p /run/polyns-test/real-parent/inst && chmod 0755 /run/polyns-test/real-parent/inst
ln -s /run/polyns-test/real-parent /run/polyns-test/linked-parent
# (A root-owned link in root-only directories is followed, CHASE_SAFE:
# ostree_home.sh. One a user owns is not.)
chown -h bob:bob /run/polyns-test/linked-parent
write_conf <<'EOF'
/tmp /run/polyns-test/linked-parent/inst/ user
EOF
expect_refused "3. a component above the template is a symlink bob owns" -- /run/polyns-test/linked-parent/inst symlink "owned by uid 1002"
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF

# ----------------------------- 6. polydir replaced by a symlink before login
# /tmp and /var/tmp are mount points here; a polydir in a world-writable
# directory of /home stands in. bob plants the symlinks. (A root-owned link
# in root-only directories is an admin's and is followed, CHASE_SAFE:
# ostree_home.sh.)
install -d -m 1777 /home/pub
install -d -m 1777 /home/pub/shared
write_conf <<'EOF'
/home/pub/shared /var/tmp/inst/ user
EOF
expect_opened "6. the real polydir works" /home/pub/shared
rm -rf "$inst"
rmdir /home/pub/shared
for target in /etc /root /var/tmp/inst/bob; do
    as_user bob ln -s "$target" /home/pub/shared
    expect_refused "6. polydir is bob's symlink to $target" -- /home/pub/shared symlink
    rm /home/pub/shared
done
# A root-owned link in that world-writable directory is not followed either.
ln -s /etc /home/pub/shared
expect_refused "6. polydir is a root-owned symlink in a world-writable directory" -- /home/pub/shared "writable by group or other"
rm /home/pub/shared
# With create=, a missing polydir under a symlinked parent is not created
# through the link.
as_user bob ln -s /etc /home/pub/linked
write_conf <<'EOF'
/home/pub/linked/shared /var/tmp/inst/ user:create=0755
EOF
expect_refused "6. create= below a symlinked parent" -- /home/pub/linked/shared symlink
rm /home/pub/linked
[[ ! -e /etc/shared ]] || fail "6. a polydir was created in /etc"

# instance_mode=mirror (Linux-PAM's instance owner and mode come from the
# polydir): bob squats the polydir in a world-writable parent; alice's
# instance must not become his.
use_module instance_mode=mirror
write_conf <<'EOF'
/tmp/shared /var/tmp/inst/ user
EOF
as_user bob mkdir -m 0777 /tmp/shared
expect_refused "6. mirror: polydir squatted by bob" -- /tmp/shared "owned by uid 1002"
rm -rf /tmp/shared
install -d -o root -g root -m 1777 /tmp/shared
# The mirrored instance is 1777: through a 0755 template bob could reach it
# and plant files in alice's "private" directory. Linux-PAM's 000 template
# rule is what keeps it private, so it holds here too.
expect_refused "6. mirror: a 1777 instance under a 0755 template" -- /var/tmp/inst "chmod 000"
make_template /var/tmp/inst 0000
expect_opened "6. mirror: root's polydir, template 000" /tmp/shared
assert_only_instance_created "6. mirror" "$ATTACK_CHANGES" "$inst" root root 1777
rc=0
as_user bob touch "$inst/planted" 2>/dev/null || rc=$?
[[ $rc != 0 && ! -e $inst/planted ]] || fail "6. mirror: bob reached alice's instance"
pass "6. mirror: bob cannot reach alice's 1777 instance"
rm -rf "$inst" /tmp/shared
make_template /var/tmp/inst 0755
use_module

# ----------------------------------------- 19. FIFOs never block an open
# expect_refused bounds each session by 20 s: a hang fails the test.
install -d -m 1777 /home/shared
write_conf <<'EOF'
/home/shared /var/tmp/inst/ user
EOF
rmdir /home/shared
mkfifo /home/shared
expect_refused "19. polydir is a FIFO" -- /home/shared
rm /home/shared && install -d -m 1777 /home/shared
mkfifo "$inst"
expect_refused "19. instance is a FIFO" -- "$inst"
rm "$inst"
mv /var/tmp/inst /var/tmp/real-inst
mkfifo -m 0755 /var/tmp/inst
expect_refused "19. template is a FIFO" -- /var/tmp/inst
rm /var/tmp/inst && mv /var/tmp/real-inst /var/tmp/inst
# A serial line's device node (open waits for carrier without O_NONBLOCK) as
# instance and as polydir: O_DIRECTORY/O_PATH opens never reach the driver.
mknod -m 0600 "$inst" c 4 64
expect_refused "19. instance is a tty device node" -- "$inst"
rm "$inst"
rmdir /home/shared && mknod -m 0600 /home/shared c 4 64
expect_refused "19. polydir is a tty device node" -- /home/shared
rm /home/shared && install -d -m 1777 /home/shared
# namespace.conf and a drop-in as FIFOs: read with O_NONBLOCK, refused.
mv /etc/security/namespace.conf /etc/security/namespace.conf.real
mkfifo -m 0644 /etc/security/namespace.conf
expect_refused "19. namespace.conf is a FIFO" -- namespace.conf "not a regular file"
rm /etc/security/namespace.conf
mv /etc/security/namespace.conf.real /etc/security/namespace.conf
mkdir -p /etc/security/namespace.d
mkfifo -m 0644 /etc/security/namespace.d/fifo.conf
expect_refused "19. a drop-in is a FIFO" -- fifo.conf "not a regular file"
rm /etc/security/namespace.d/fifo.conf
mkfifo -m 0755 /etc/security/fifo.init
write_conf <<'EOF'
/home/shared /var/tmp/inst/ user:iscript=/etc/security/fifo.init
EOF
# The script is checked after the instance is made: a complete instance may stay.
complete_instance='^\+ /var/tmp/inst/alice alice alice 700 d [0-9]+$'
ATTACK_ALLOWED_CHANGES=$complete_instance expect_refused "19. init script is a FIFO" -- /etc/security/fifo.init "not a regular file"
rm /etc/security/fifo.init
mv /etc/security/namespace.init /etc/security/namespace.init.orig
mkfifo -m 0755 /etc/security/namespace.init
write_conf <<'EOF'
/home/shared /var/tmp/inst/ user
EOF
rm -rf "$inst"
ATTACK_ALLOWED_CHANGES=$complete_instance expect_refused "19. the default namespace.init is a FIFO" -- /etc/security/namespace.init
rm /etc/security/namespace.init
mv /etc/security/namespace.init.orig /etc/security/namespace.init
rm -rf "$inst"

# ------------- 20. template aged out by tmpfiles, recreated by an attacker
# The seed's layout: /var/tmp's instances under /tmp/user_tmpl (root 0755),
# in a world-writable /tmp. tmpfiles removes it; bob gets there first.
make_template /tmp/user_tmpl
write_conf <<'EOF'
/var/tmp /tmp/user_tmpl/ user
EOF
expect_opened "20. the admin's template works" /var/tmp
assert_only_instance_created "20. first session" "$ATTACK_CHANGES" /tmp/user_tmpl/alice alice alice 700
rm -rf /tmp/user_tmpl  # systemd-tmpfiles --clean, ageing
# Missing: the module recreates it (root:root 0000, only the last component,
# mkdirat on the pinned /tmp and checked to be the one it made), after which
# bob cannot take the name any more (sticky /tmp).
expect_opened "20. template aged out (missing): recreated by the module" /var/tmp
assert_eq "$(stat -c '%U:%G %a' /tmp/user_tmpl)" "root:root 0" "20. the recreated template is root:root 0000"
as_user bob mv /tmp/user_tmpl /tmp/bobs 2>/dev/null && fail "20. bob could move the recreated template away"
as_user bob rmdir /tmp/user_tmpl 2>/dev/null && fail "20. bob could remove the recreated template"
pass "20. bob cannot take the recreated template's name"
# bob gets there first (after the next ageing): refused, not adopted.
rm -rf /tmp/user_tmpl
as_user bob mkdir -m 0755 /tmp/user_tmpl
expect_refused "20. template recreated by bob (0755)" -- /tmp/user_tmpl "owned by uid 1002"
as_user bob chmod 0777 /tmp/user_tmpl
expect_refused "20. template recreated by bob (0777)" -- /tmp/user_tmpl "owned by uid 1002"
as_user bob install -d -m 0700 /tmp/user_tmpl/alice
as_user bob chmod 0755 /tmp/user_tmpl
expect_refused "20. bob's template with a planted instance" -- /tmp/user_tmpl "owned by uid 1002"
rm -rf /tmp/user_tmpl
as_user bob ln -s /var/tmp/inst /tmp/user_tmpl
expect_refused "20. template recreated by bob as a symlink to a good template" -- /tmp/user_tmpl symlink
rm /tmp/user_tmpl
