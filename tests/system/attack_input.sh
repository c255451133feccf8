#!/bin/bash
# Issue 6, hostile input (catalogue entries 8, 9 and 21): namespace.conf from the
# fuzzer's corpus and hand-made nasties (NUL bytes, 1 MiB lines, 100,000
# lines, deep quoting, '..', relative paths, polydir / or /proc or /etc,
# instances in another user's home); user names with spaces, '..', '/',
# very long ones (LDAP), uids above 2^31. No crash, a clear diagnostic, no
# mount on a directory the admin did not name, and instances only ever inside
# their template. And tampered configuration: namespace.conf, namespace.d,
# drop-ins and init scripts that a user owns, can write, or can swap (a
# user-writable directory above them, a symlink): refused.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
require_module
add_standard_users
# The corpora name templates right below the host's root file system
# (/tmp-inst, /var/x-inst, /srv-inst ...), and a missing template is created
# (as by pam_namespace.so): in every harness world that file system is
# read-only, so such a session fails with EROFS instead of writing to the host.
# (Everything the test writes is on the harness's tmpfs and overlay mounts.)
use_module
make_template /var/tmp/inst
make_template /tmp/user_tmpl

# try_config CASE: alice's session with the namespace.conf now in place. It
# may open or fail, but: no crash (exit 0 or 2 within 20 s), a failure has one
# LOG_ERR line, every mount it makes is on a polydir written literally in
# the file (or under alice's home for $HOME rules), no mount is left behind,
# nothing changes outside the templates.
try_config() {
    local case=$1 rc=0 out before mounts new mount_point errors conf
    conf=$(tr -d '\0' </etc/security/namespace.conf)
    syslog_clear
    before=$(tree_snapshot)
    mounts=$(mount_table)
    # cat, not awk: /usr/bin/awk is a symlink into /etc/alternatives (polydir /etc).
    out=$(timeout 20 "$POLYNS_PAM_SESSION" "$MODULE_SERVICE" alice -- cat /proc/self/mountinfo 2>&1) || rc=$?
    [[ $rc == 0 || $rc == "$OPEN_FAILED" ]] || fail "9. $case: driver exit $rc (crash or hang?): $out"
    syslog_settle
    errors=$(polyns_log err)
    assert_not_contains "$errors" "internal error" "9. $case: no internal error"
    if [[ $rc == 0 ]]; then
        assert_eq "$errors" "" "9. $case: opened without LOG_ERR"
        new=$(comm -13 <(local_mount_points) <(printf '%s\n' "$out" | awk '{print $5}' | LC_ALL=C sort))
        for mount_point in $new; do
            if [[ $conf == *"$mount_point"* ]] ||
                [[ $mount_point == /home/alice* && ( $conf == *'$HOME'* || $conf == *'%{HOME}'* ) ]]; then
                continue
            fi
            fail "9. $case: mounted on $mount_point, which the file does not name"
        done
        pass "9. $case: opened; mounts only on named polydirs (${new//$'\n'/ })"
    else
        assert_eq "$(count_lines "$errors")" 1 "9. $case: refused with one LOG_ERR line"
    fi
    assert_eq "$(mount_table)" "$mounts" "9. $case: no mount left here"
    local changes
    # Instances (alice's 0700 directories where templates may be), and
    # missing templates the module made (root:root 0000, as pam_namespace.so
    # makes them: Debian's `$HOME $HOME/$USER.inst/`, the seed's templates),
    # and what Debian's namespace.init copies from /etc/skel into that new
    # $HOME instance.
    changes=$(tree_changes "$before" | grep -Ev '^\+ (/var/tmp|/tmp|/home/alice|/home/bob/rootinst|/tmp-inst)/([^ ]+/)?[^/ ]+ alice alice 700 d [0-9]+$' |
        grep -Ev '^\+ [^ ]+ root root 0 d [0-9]+$' |
        grep -Ev '^\+ /home/alice/alice\.inst/[^/ ]+(/[^ ]+)? alice alice [0-7]+ [df] [0-9]+$' || true)
    assert_eq "$changes" "" "9. $case: nothing changed outside the templates"
}

# conf_from FILE: install FILE as namespace.conf (root 0644).
conf_from() { write_conf <"$1"; }

# ------------------------------------------------ 9. the fuzzer's corpus
for corpus_file in "$POLYNS_SOURCE_DIR"/tests/fuzz/corpus/* "$POLYNS_SOURCE_DIR"/tests/fuzz/corpus_planner/*; do
    [[ -f $corpus_file ]] || continue
    conf_from "$corpus_file"
    try_config "corpus $(basename "$corpus_file")"
    rm -rf /var/tmp/inst/* /tmp/user_tmpl/*
done

# -------------------------------------------------- 9. hand-made nasties
nasty=/run/polyns-test/attack-nasty
printf '/tmp /var/tmp/inst/ user\0 root\n/var/tmp /tmp/user\0_tmpl/ user\n' >"$nasty"
conf_from "$nasty" && try_config "NUL bytes"
assert_one_error_line alice
{ printf '/tmp /var/tmp/inst/ user '; head -c 1048576 /dev/zero | tr '\0' a; printf '\n'; } >"$nasty"
conf_from "$nasty" && try_config "a 1 MiB line"
{ printf '/tmp /var/tmp/inst/ user\n'; for ((i = 0; i < 100000; i++)); do echo "# comment $i"; done; } >"$nasty"
conf_from "$nasty"
start=$(date +%s%N)
try_config "100,000 lines"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[[ $elapsed_ms -lt 10000 ]] || fail "9. 100,000 lines took ${elapsed_ms} ms"
pass "9. 100,000 lines: ${elapsed_ms} ms"
{ printf '/tmp '; for ((i = 0; i < 2000; i++)); do printf '"'; done; printf '/var/tmp/inst/'; for ((i = 0; i < 2000; i++)); do printf '"'; done; printf ' user\n'; } >"$nasty"
conf_from "$nasty" && try_config "deeply quoted fields"
{ printf '"/tmp" "/var/tmp/inst/'; for ((i = 0; i < 5000; i++)); do printf '\\\\'; done; printf '" user\n'; } >"$nasty"
conf_from "$nasty" && try_config "a field of 10,000 escapes"

write_conf <<'EOF'
/tmp/../etc /var/tmp/inst/ user
EOF
try_config "'..' in the polydir"
assert_one_error_line alice "/tmp/../etc"
write_conf <<'EOF'
/tmp /var/tmp/inst/../../../etc/ user
EOF
try_config "'..' in the instance prefix"
assert_one_error_line alice ".."
write_conf <<'EOF'
$HOME/../../etc /var/tmp/inst/ user
EOF
try_config "'..' after \$HOME"
assert_one_error_line alice ".."
write_conf <<'EOF'
tmp var/tmp/inst/ user
EOF
try_config "relative paths"
assert_one_error_line alice
write_conf <<'EOF'
/ /var/tmp/inst/ user
EOF
try_config "polydir /"
assert_one_error_line alice
# Named explicitly by the admin: /etc may be polyinstantiated (the admin
# asked for it), but only exactly there.
printf '/etc /var/tmp/inst/ user\n' | write_conf
try_config "polydir /etc (named explicitly)"
rm -rf /var/tmp/inst/*
# /proc is refused: the module itself works through /proc/self (fd paths for
# mounts and rollback, namespaces, init scripts), and so does every program.
for proc_dir in /proc /proc/sys; do
    printf '%s /var/tmp/inst/ user\n' "$proc_dir" | write_conf
    try_config "polydir $proc_dir"
    assert_one_error_line alice "polydir $proc_dir" "/proc cannot be a polydir"
done
# An instance inside bob's home: bob owns the template there, so refused.
install -d -o bob -g bob -m 0755 /home/bob/inst
write_conf <<'EOF'
/tmp /home/bob/inst/ user
EOF
try_config "instance inside bob's home"
assert_one_error_line alice "/home/bob/inst" "owned by uid 1002"
install -d -o root -g root -m 0755 /home/bob/rootinst
write_conf <<'EOF'
/tmp /home/bob/rootinst/ user
EOF
# Root's template in bob's home: bob can rename it, not change it; it is
# pinned by fd before anything is made in it, so alice's instance lands there.
try_config "root-owned template inside bob's home"
rm -rf /home/bob/rootinst
# Expansions that would point elsewhere when the user has a strange home.
write_conf <<'EOF'
$HOME/tmp $HOME/.inst/ user
EOF
install -d -o alice -g alice -m 0755 /home/alice/tmp
try_config "\$HOME polydir and instance (home owned by alice: refused, template not root's)"

# ------------------------------------------------- 21. user name abuse
# Added straight to the private passwd copy, as an LDAP directory could serve
# them. For each: the session either fails closed, or alice-like instance
# `/var/tmp/inst/<one component>` owned by the user, 0700, and nothing else.
long_name=$(printf 'ldap-user-%0190d' 7)
name_case() { # NAME UID
    local name=$1 uid=$2 rc=0 before mounts out changes errors inst_before
    syslog_clear
    inst_before=$(find /var/tmp/inst -mindepth 1 -printf '%p\n' | LC_ALL=C sort)
    before=$(tree_snapshot)
    mounts=$(mount_table)
    out=$(timeout 20 "$POLYNS_PAM_SESSION" "$MODULE_SERVICE" "$name" -- stat -c '%u %a %i' /tmp 2>&1) || rc=$?
    [[ $rc == 0 || $rc == "$OPEN_FAILED" ]] || fail "21. [$name]: driver exit $rc: $out"
    assert_eq "$(mount_table)" "$mounts" "21. [$name]: no mount left here"
    changes=$(tree_changes "$before")
    syslog_settle
    errors=$(polyns_log err)
    if [[ $name == */* || $name == . || $name == .. ]]; then
        # "alice/" would alias alice's instance, "/etc" user etc's: refused.
        assert_eq "$rc" "$OPEN_FAILED" "21. [$name]: a name with '/' (or . ..) cannot name an instance: refused"
    fi
    if [[ $rc == 0 ]]; then
        assert_eq "$errors" "" "21. [$name]: opened without LOG_ERR"
        local path
        assert_eq "$(count_lines "$changes")" 1 "21. [$name]: one new entry in the watched trees ($changes)"
        # The one new entry must be a direct child of the template.
        path=$(comm -13 <(printf '%s\n' "$inst_before") <(find /var/tmp/inst -mindepth 1 -printf '%p\n' | LC_ALL=C sort))
        assert_eq "$(dirname -- "$path")" /var/tmp/inst "21. [$name]: the instance ($path) is a direct child of the template"
        assert_eq "$(stat -c '%u %a %F' -- "$path")" "$uid 700 directory" "21. [$name]: the instance is the user's, 0700"
        assert_eq "${out%% *}" "$uid" "21. [$name]: /tmp in the session is that instance"
        rm -rf -- "$path"
    else
        assert_eq "$(count_lines "$errors")" 1 "21. [$name]: refused with one LOG_ERR line"
        assert_eq "$changes" "" "21. [$name]: refused, nothing created"
    fi
}
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF
uid=3001
for name in "al ice" "..." ".." "." "a/b" "../../etc" "alice/" "/etc" "x/../../.." "$long_name" "tab	name" \
    '$HOME' '%{UID}' $'esc\e[2Jname'; do
    printf '%s:x:%d:%d::/home/alice:/bin/sh\n' "$name" "$uid" "$uid" >>/etc/passwd
    printf '%s:x:%d:\n' "g$uid" "$uid" >>/etc/group
    name_case "$name" "$uid"
    ((++uid))
done
# A name must not forge log lines nor reach a log reader's terminal: a
# newline and ESC in PAM_USER (the application passes what it was given)
# are logged as \xNN, on one line.
syslog_clear
forged=$'nosuch\n<86>Nov 23 16:00:00 host polyns: session for root: all fine'
rc=0
"$POLYNS_PAM_SESSION" "$MODULE_SERVICE" "$forged" -- true 2>/dev/null || rc=$?
assert_eq "$rc" "$OPEN_FAILED" "21. a user name with a newline: refused (no such user)"
syslog_settle
assert_eq "$(syslog_lines 'session for root: all fine' | grep -vc 'nosuch' || true)" 0 "21. the newline did not start a forged line"
assert_contains "$(polyns_log err)" 'nosuch\x0a<86>' "21. the newline is logged as \x0a"
assert_not_contains "$(syslog_lines)" $'\e' "21. no ESC reached the log"

# uids above 2^31 (and the largest valid one, 2^32-2), with both naming forms.
for big in 2147483648 3000000000 4294967294; do
    add_user "big$big" "$big"
    name_case "big$big" "$big"
done
write_conf <<'EOF'
/tmp /var/tmp/inst/%{UID} user
EOF
name_case big4294967294 4294967294
# 4294967295 is (uid_t)-1, "no change" to chown: the instance would stay
# root's. Refused, as is a primary gid of -1.
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF
printf 'minus1:x:4294967295:1006::/home/alice:/bin/sh\ngminus1:x:1007:4294967295::/home/alice:/bin/sh\n' >>/etc/passwd
ATTACK_USER=minus1 expect_refused "21. uid 4294967295 ((uid_t)-1)" -- "(uid_t)-1"
ATTACK_USER=gminus1 expect_refused "21. primary gid 4294967295 ((gid_t)-1)" -- "(uid_t)-1"

# Homes from a directory service are names too: "/", a system directory,
# relative, with "..", through a symlink. $HOME rules must fail closed, never
# make or mount anything there (no create= here: "/" is the host's root).
write_conf <<'EOF2'
$HOME/tmp $HOME/.inst/ user
EOF2
ln -s /etc /home/linked-home
uid=3200
for home in / /etc relative /home/../etc /home/linked-home /home/linked-home/; do
    printf 'home%d:x:%d:%d::%s:/bin/sh\n' "$uid" "$uid" "$uid" "$home" >>/etc/passwd
    ATTACK_USER=home$uid expect_refused "21. home [$home] with a \$HOME rule" -- "home$uid"
    ((++uid))
done
rm /home/linked-home

# ------------------------------------------------- 8. config tampering
write_conf <<'EOF2'
/tmp /var/tmp/inst/ user
EOF2
rm -rf /var/tmp/inst/*
conf=/etc/security/namespace.conf
chown alice "$conf"
expect_refused "8. namespace.conf owned by alice" -- namespace.conf "owned by uid 1001"
chown root "$conf"
for mode in 0664 0646; do
    chmod "$mode" "$conf"
    expect_refused "8. namespace.conf mode $mode" -- namespace.conf "writable by group or other"
done
chmod 0644 "$conf"
mv "$conf" "$conf.real"
printf '/tmp /home/alice/ user\n' >/home/alice/evil.conf
chown alice:alice /home/alice/evil.conf
ln -s /home/alice/evil.conf "$conf"
expect_refused "8. namespace.conf a symlink to alice's file" -- namespace.conf "owned by uid 1001"
rm "$conf"
mv "$conf.real" "$conf"
dropins=/etc/security/namespace.d
mkdir -p "$dropins"
chown alice "$dropins"
expect_refused "8. namespace.d owned by alice" -- namespace.d "owned by uid 1001"
chown root "$dropins"
chmod 0777 "$dropins"
expect_refused "8. namespace.d mode 0777" -- namespace.d "writable by group or other"
chmod 0755 "$dropins"
printf '/var/tmp /home/alice/ user\n' >"$dropins/alice.conf"
chown alice "$dropins/alice.conf"
expect_refused "8. a drop-in owned by alice" -- alice.conf "owned by uid 1001"
chown root "$dropins/alice.conf" && chmod 0666 "$dropins/alice.conf"
expect_refused "8. a world-writable drop-in" -- alice.conf "writable by group or other"
rm "$dropins/alice.conf"
# iscript=: the script must be root's, not writable by others, and so must
# every directory above it (else its owner swaps the script).
printf '#!/bin/sh\nexit 0\n' >"$dropins/alice.init"
chown alice "$dropins/alice.init" && chmod 0755 "$dropins/alice.init"
write_conf <<'EOF2'
/tmp /var/tmp/inst/ user:iscript=alice.init
EOF2
complete_instance='^\+ /var/tmp/inst/alice alice alice 700 d [0-9]+$'
ATTACK_ALLOWED_CHANGES=$complete_instance expect_refused "8. iscript owned by alice" -- alice.init "owned by uid 1001"
rm -rf /var/tmp/inst/alice
chown root "$dropins/alice.init" && chmod 0757 "$dropins/alice.init"
ATTACK_ALLOWED_CHANGES=$complete_instance expect_refused "8. iscript world-writable" -- alice.init "writable by group or other"
rm -rf /var/tmp/inst/alice "$dropins/alice.init"
install -d -o alice -g alice -m 0755 /home/alice/bin
install -o root -g root -m 0755 /dev/null /home/alice/bin/setup.init
printf '#!/bin/sh\nexit 0\n' >/home/alice/bin/setup.init
write_conf <<'EOF2'
/tmp /var/tmp/inst/ user:iscript=/home/alice/bin/setup.init
EOF2
ATTACK_ALLOWED_CHANGES=$complete_instance expect_refused "8. root's iscript in alice's directory" -- \
    /home/alice/bin/setup.init "its directory /home/alice" "is owned by uid 1001"
rm -rf /var/tmp/inst/alice
install -d -o root -g root -m 0777 /run/polyns-test/open-dir
install -o root -g root -m 0755 /home/alice/bin/setup.init /run/polyns-test/open-dir/setup.init
write_conf <<'EOF2'
/tmp /var/tmp/inst/ user:iscript=/run/polyns-test/open-dir/setup.init
EOF2
ATTACK_ALLOWED_CHANGES=$complete_instance expect_refused "8. root's iscript in a world-writable directory" -- \
    /run/polyns-test/open-dir/setup.init "writable by group or other"
rm -rf /var/tmp/inst/alice
ln -s /home/alice/bin/setup.init "$dropins/linked.init"
write_conf <<'EOF2'
/tmp /var/tmp/inst/ user:iscript=linked.init
EOF2
ATTACK_ALLOWED_CHANGES=$complete_instance expect_refused "8. iscript a symlink" -- linked.init symlink
rm -rf /var/tmp/inst/alice "$dropins/linked.init"
