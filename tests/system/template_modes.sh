#!/bin/bash
# Issue 12, item 6: the seed's 0755 template lets any user stat another's
# instance (existence, nlink, size, mtime: SECURITY.md). 0711 and 0000
# templates work equally well, for named (user) and tmpdir instances: the
# session opens, alice writes in her /tmp and /var/tmp, the tmpdir instance
# is removed at close (its removal, with alice's rights, is handed the
# instance's fd: she need not traverse the template). What bob sees: with
# 0711 he cannot list the template but can still stat an instance by its
# name; with 0000 he cannot even do that.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
use_module
write_conf <<'EOF2'
/tmp     /tmp/user_tmpl/%{UID}     user
/var/tmp /var/tmp/tmp_tmpl/        tmpdir
EOF2
for mode in 0711 0000; do
    rm -rf /tmp/user_tmpl /var/tmp/tmp_tmpl
    make_template /tmp/user_tmpl "$mode"
    make_template /var/tmp/tmp_tmpl "$mode"
    session alice sh -c 'setpriv --reuid=alice --regid=alice --init-groups sh -c \
        "mkdir -p /tmp/d /var/tmp/d/e && echo a >/tmp/d/f && echo b >/var/tmp/d/e/f && chmod 0500 /var/tmp/d/e"' ||
        fail "6.$mode: alice's session failed"
    assert_eq "$(cat /tmp/user_tmpl/1001/d/f)" a "6.$mode: alice's named instance holds her file"
    assert_eq "$(ls -A /var/tmp/tmp_tmpl)" "" "6.$mode: her tmpdir instance was removed at close"
    if as_user bob ls /tmp/user_tmpl >/dev/null 2>&1; then fail "6.$mode: bob can list the template"; fi
    pass "6.$mode: bob cannot list the template"
    if [[ $mode == 0000 ]]; then
        if as_user bob stat /tmp/user_tmpl/1001 >/dev/null 2>&1; then fail "6.0000: bob can stat alice's instance"; fi
        pass "6.0000: bob cannot stat alice's instance"
    else
        as_user bob stat /tmp/user_tmpl/1001 >/dev/null 2>&1 && pass "6.0711: (bob can still stat an instance he can name)"
    fi
done
# `polyns check` says the trade-off once, as a notice naming every template
# it applies to: not a warning (--strict passes), absent for 0000 templates.
for mode in 0755 0711 0000; do
    rm -rf /tmp/user_tmpl /var/tmp/tmp_tmpl
    make_template /tmp/user_tmpl "$mode"
    make_template /var/tmp/tmp_tmpl "$mode"
    out=$("$POLYNS_CLI" check 2>&1) || fail "6.check $mode: polyns check failed: $out"
    notices=$(grep -c 'notice:' <<<"$out" || true)
    "$POLYNS_CLI" check --strict >/dev/null 2>&1 || fail "6.check $mode: --strict fails on the notice"
    json=$("$POLYNS_CLI" check --json)
    paths=$(python3 -c 'import json, sys; print(" ".join(p for n in json.load(sys.stdin)["notices"] for p in n["paths"]))' <<<"$json")
    if [[ $mode == 0000 ]]; then
        assert_eq "$notices" 0 "6.check 0000: no notice"
        assert_eq "$paths" "" "6.check 0000: no notice in --json"
    else
        assert_eq "$notices" 1 "6.check $mode: one notice"
        assert_contains "$out" "notice: under the templates /tmp/user_tmpl ($mode), /var/tmp/tmp_tmpl ($mode) any user can stat" \
            "6.check $mode: it names both templates and their mode"
        assert_contains "$out" "0 warnings, 0 errors" "6.check $mode: not counted as a warning"
        assert_eq "$paths" "/tmp/user_tmpl /var/tmp/tmp_tmpl" "6.check $mode: --json lists them under notices"
    fi
done
pass "template-modes"
