#!/bin/bash
# Issue 12, item 1 (DESIGN invariant 9): removing a tmpdir instance never
# removes more than its owner could remove herself. alice renames into her
# instance a directory she may rename but not empty, and root's cleanup must
# leave what she could not have removed:
#   A. her world-writable sticky drop box (/var/tmp/drop, hers, 1777) in which
#      bob keeps a 0700 directory with a file;
#   B. a setgid group-writable project directory (/var/tmp/team/proj, root:team
#      2775; alice and bob are in team) holding bob's private subtree (0700)
#      and bob's group-writable file, which she may remove (her supplementary
#      groups count: the removal acts with all of her credentials).
# Both are on /var/tmp's mount, where the template is (rename(2) moves
# within one mount only): she renames them into her instance by its template
# path, /var/tmp/tmpl/XXXXXX, reachable through the 0755 template the seed
# asks for, from inside her session (they then show in her /tmp) and from
# outside it, and closes; and C. in the rollback of a
# failed open (the init script fails after she moved the drop box in).
# What stays: bob's files, untouched, inside the instance left in the template,
# and one LOG_WARNING line naming them and why.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
add_group team 2100 alice,bob
use_module
make_template /var/tmp/tmpl
write_conf <<'EOF'
/tmp /var/tmp/tmpl/ tmpdir
EOF
work=$POLYNS_TEST_ROOT/owner-cleanup
mkdir -p "$work" && chmod 0755 "$work"
# "alice CMD...": CMD as alice with all her groups, usable in sh -c strings.
printf '#!/bin/sh\nexec setpriv --reuid=alice --regid=alice --init-groups -- "$@"\n' >"$work/alice"
chmod 0755 "$work/alice"
# "rename FROM TO": rename(2), never mv's copy-and-delete fallback.
printf '#!/usr/bin/python3\nimport os, sys\nos.rename(sys.argv[1], sys.argv[2])\n' >"$work/rename"
chmod 0755 "$work/rename"
export PATH="$work:$PATH"

make_drop_box() {
    rm -rf /var/tmp/drop
    install -d -o alice -g alice -m 1777 /var/tmp/drop
    as_user bob install -d -m 0700 /var/tmp/drop/bobdir
    as_user bob sh -c 'echo bob-private >/var/tmp/drop/bobdir/secret'
}
make_project() {
    rm -rf /var/tmp/team
    install -d -o root -g team -m 2775 /var/tmp/team /var/tmp/team/proj
    as_user bob install -d -m 0700 /var/tmp/team/proj/bobpriv
    as_user bob sh -c 'echo bob-private >/var/tmp/team/proj/bobpriv/secret; echo shared >/var/tmp/team/proj/shared.txt'
    chmod 0664 /var/tmp/team/proj/shared.txt
}
clean_template() { rm -rf /var/tmp/tmpl/*; }

# check CASE SUBPATH: bob's secret is intact below the instance left in the
# template (SUBPATH relative to it), alice's own files are gone, one warning.
check_kept() {
    local case=$1 subpath=$2
    local left
    left=$(find /var/tmp/tmpl -path "*/$subpath/secret" -type f)
    [[ -n $left ]] || fail "$case: bob's $subpath/secret was removed by root at alice's logout"
    assert_eq "$(cat "$left")" bob-private "$case: bob's file is intact"
    # (2700 below the setgid project directory)
    assert_contains "$(stat -c '%U %a' "$(dirname "$left")")" "bob " "$case: bob's directory is intact"
    assert_contains "$(stat -c '%a' "$(dirname "$left")")" "700" "$case: bob's directory keeps its mode"
    [[ -z $(find /var/tmp/tmpl -name 'alice-*') ]] || fail "$case: alice's own files were not removed"
    syslog_settle
    local warnings
    warnings=$(polyns_log warning | grep -F "left in place" || true)
    assert_eq "$(printf '%s\n' "$warnings" | grep -c .)" 1 "$case: one LOG_WARNING line about what was left"
    assert_contains "$warnings" "$subpath (EACCES" "$case: the warning names bob's directory and why"
}

# ---------------------------------------------- A/B from inside the session
for what in drop proj; do
    clean_template
    make_drop_box
    make_project
    syslog_clear
    if [[ $what == drop ]]; then src=/var/tmp/drop sub=drop/bobdir; else src=/var/tmp/team/proj sub=proj/bobpriv; fi
    rc=0
    session alice sh -c "alice touch /tmp/alice-file && inst=\$(ls -d /var/tmp/tmpl/*) &&
        alice rename $src \$inst/$what && test -d /tmp/$sub" || rc=$?
    echo "inside, $what: close exit $rc"
    [[ $rc == 0 || $rc == 3 ]] || fail "inside $what: session failed to open or run ($rc)"
    check_kept "1.inside-$what" "$sub"
    if [[ $what == proj ]]; then
        [[ -z $(find /var/tmp/tmpl -name shared.txt) ]] ||
            fail "1.inside-proj: bob's group-writable file (which alice may remove through group team) was kept"
        pass "1.inside-proj: what alice could remove through her supplementary group went"
    fi
done

# --------------------------------------------- A/B from outside the session
for what in drop proj; do
    clean_template
    make_drop_box
    make_project
    syslog_clear
    rm -f "$work/ready" "$work/moved"
    if [[ $what == drop ]]; then src=/var/tmp/drop sub=drop/bobdir; else src=/var/tmp/team/proj sub=proj/bobpriv; fi
    session alice sh -c "alice touch /tmp/alice-file && touch $work/ready &&
        i=0; while [ ! -e $work/moved ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i+1)); done" &
    spid=$!
    for _ in $(seq 200); do [[ -e $work/ready ]] && break; sleep 0.05; done
    [[ -e $work/ready ]] || fail "outside $what: the session did not open"
    instance=$(find /var/tmp/tmpl -mindepth 1 -maxdepth 1 -type d)
    # From here, outside the session: alice reaches her instance by its template path.
    as_user alice "$work/rename" "$src" "$instance/$what"
    touch "$work/moved"
    rc=0
    wait "$spid" || rc=$?
    echo "outside, $what: close exit $rc"
    check_kept "1.outside-$what" "$sub"
done

# ------------------------------ C. the rollback of a new tmpdir instance
clean_template
make_drop_box
syslog_clear
rm -f "$work/ready" "$work/moved"
cat >/etc/security/namespace.init <<EOF
#!/bin/sh
touch $work/ready
i=0; while [ ! -e $work/moved ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i+1)); done
exit 1
EOF
chmod 0755 /etc/security/namespace.init
session alice true &
spid=$!
for _ in $(seq 200); do [[ -e $work/ready ]] && break; sleep 0.05; done
[[ -e $work/ready ]] || fail "rollback: the init script did not start"
instance=$(find /var/tmp/tmpl -mindepth 1 -maxdepth 1 -type d)
as_user alice touch "$instance/alice-file"
as_user alice "$work/rename" /var/tmp/drop "$instance/drop"
touch "$work/moved"
rc=0
wait "$spid" || rc=$?
assert_eq "$rc" 2 "1.rollback: the open failed (init script exit 1)"
check_kept "1.rollback" drop/bobdir
rm -f /etc/security/namespace.init

# -------------- and without anything of anyone else's, everything still goes
clean_template
syslog_clear
session alice sh -c 'alice mkdir -p /tmp/a/b && alice touch /tmp/a/b/f && alice chmod 0500 /tmp/a/b /tmp/a'
assert_eq "$(find /var/tmp/tmpl -mindepth 1 | wc -l)" 0 \
    "1.own: alice's own tree (with her 0500 directories) is removed entirely"
syslog_settle
assert_eq "$(polyns_log warning)" "" "1.own: no warning"
pass "attack-owner-cleanup"
