#!/usr/bin/env bash
# Black-box tests of `polyns plan`: instance paths, skip reasons, module
# arguments from a PAM service, config errors, JSON. Uses the user root (present
# on every host) and private config / pam.d files in a scratch directory; reads
# nothing else of the host's PAM setup and writes nothing outside the scratch dir.
# Usage: plan_cli_test.sh CASE   (one meson test per CASE; see meson.build)
set -euo pipefail

: "${POLYNS_CLI:?}"

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'ok: %s\n' "$*"; }

scratch=$(mktemp -d)
trap 'rm -rf -- "$scratch"' EXIT
conf="$scratch/namespace.conf"
pamd="$scratch/pam.d"
mkdir -p "$pamd"

run_plan() {
    printf '+ polyns plan %s\n' "$*"
    set +e
    # These cases are about the configuration's meaning: the host's own
    # templates and mounts (tests/system/admin_*.sh look at those) are left out.
    out=$("$POLYNS_CLI" plan --config-only "$@")
    status=$?
    set -e
    printf '%s\n' "$out"
    printf '[exit %d]\n' "$status"
}

expect_status() { [[ "$status" == "$1" ]] || fail "expected exit status $1, got $status"; }
expect_contains() { [[ "$out" == *"$1"* ]] || fail "expected output to contain '$1'"; }
expect_not_contains() { [[ "$out" != *"$1"* ]] || fail "expected output not to contain '$1'"; }

json_check() {
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
ok = eval(sys.argv[1])
sys.exit(0 if ok else 1)' "$1" <<<"$out" || fail "JSON check failed: $1"
}

seed_a5() {
    cat >"$conf" <<'CONF'
/tmp     /tmp/user_tmpl/%{UID}     level:level,root
/var/tmp /var/tmp/user_tmpl/%{UID} level:level,root
CONF
    run_plan root --config "$conf" --skip-trust-check
    expect_status 0
    expect_contains "warning: unknown flag 'level,root'"
    expect_contains "instance       /tmp/user_tmpl/0"
    expect_contains "template       /tmp/user_tmpl"
    expect_contains "instance       /var/tmp/user_tmpl/0"
    expect_contains "owner, mode    root(0):0 mode 0700"
    expect_contains "method level for /tmp uses the user method"
    expect_contains "init script    /etc/security/namespace.init (if it exists)"
    # diagnostics come first, as `polyns check` prints them
    [[ "$(head -n 1 <<<"$out")" == *"warning: unknown flag"* ]] || fail "diagnostics not first"
    pass "seed A5 lines give root /tmp/user_tmpl/0 and /var/tmp/user_tmpl/0, 0700"
}

skip_reasons() {
    cat >"$conf" <<'CONF'
/tmp       /tmp/inst/          user     root,adm
/var/tmp   /var/tmp/inst/      user     ~alice,bob
/srv/x     /srv/inst/          user     @root
/srv/y     /srv/yinst/         user     0-99
/srv/z     /srv/zinst/         tmpfs:mntopts=size=1M,nosuid
CONF
    run_plan root --config "$conf" --skip-trust-check
    expect_status 0
    expect_contains "/tmp  (${conf}:1): root is excluded by the user list"
    expect_contains "/var/tmp  (${conf}:2): root is not in the ~ list"
    expect_contains "/srv/x  (${conf}:3): root is excluded by the user list (entry '@root')"
    expect_contains "/srv/y  (${conf}:4): root is excluded by the user list (entry '0-99')"
    expect_contains "/srv/z  (${conf}:5)"
    expect_contains "tmpfs options  size=1M"
    expect_contains "mount flags    nosuid"
    pass "excluded, ~ list, @group and uid range skips are explained"
}

config_error() {
    cat >"$conf" <<'CONF'
/tmp     /tmp/inst/   user
/srv/x   /srv/inst/   nosuchmethod
CONF
    run_plan root --config "$conf" --skip-trust-check
    expect_status 2
    expect_contains "error: unknown method 'nosuchmethod'"
    expect_contains "(rule not parsed)  (${conf}:2): config error on this line"
    expect_contains "the module would refuse this session"
    expect_contains "instance       /tmp/inst/root"

    printf 'session required pam_polyns.so ignore_config_error\n' >"$pamd/lenient"
    run_plan root --config "$conf" --skip-trust-check --service lenient --pam-dir "$pamd"
    expect_status 0
    expect_contains "module arguments: ignore_config_error ($pamd/lenient:1)"
    expect_not_contains "the module would refuse"
    pass "config errors: skipped line shown, refused without ignore_config_error"
}

service() {
    cat >"$conf" <<'CONF'
/tmp     /tmp/inst/   user
CONF
    printf 'session optional pam_systemd.so\n' >"$pamd/common-session"
    printf 'session required pam_unix.so\nsession [success=ok default=bad] /usr/lib/security/pam_polyns.so gen_hash mount_private init_timeout=0 nosuchoption\n' >"$pamd/polyns-session"
    printf '# login\nauth required pam_unix.so\n@include common-session\n-session include polyns-session\n' >"$pamd/login"
    run_plan root --config "$conf" --skip-trust-check --service login --pam-dir "$pamd"
    expect_status 0
    expect_contains "module arguments: gen_hash mount_private ($pamd/polyns-session:2)"
    expect_contains "unknown module argument ignored: nosuchoption"
    expect_contains "invalid module argument, default kept: init_timeout=0"
    # gen_hash: md5("root") as Linux-PAM names it
    expect_contains "instance       /tmp/inst/63a9f0ea7bb98050796b649e85481845"
    expect_contains "mount_private: / is made private"

    run_plan root --config "$conf" --skip-trust-check --service common-session --pam-dir "$pamd"
    expect_status 2
    expect_contains "no session line loads pam_polyns.so"
    run_plan root --config "$conf" --skip-trust-check --service absent --pam-dir "$pamd"
    expect_status 2
    expect_contains "cannot read PAM service file $pamd/absent"
    pass "--service reads the module line through @include and include"
}

json() {
    cat >"$conf" <<'CONF'
/tmp       /tmp/user_tmpl/%{UID}   user:iscript=tmp.init
/var/tmp   /var/tmp/inst/          tmpdir:noinit
/srv/x     /srv/inst/              user     root
CONF
    run_plan root --config "$conf" --skip-trust-check --json
    expect_status 0
    json_check 'doc["identity"]["uid"] == 0 and doc["exit_status"] == 0'
    json_check 'doc["steps"][0]["instance"] == "/tmp/user_tmpl/0" and doc["steps"][0]["template"] == "/tmp/user_tmpl"'
    json_check 'doc["steps"][0]["owner"] == {"uid": 0, "gid": 0, "mode": "0700"}'
    json_check 'doc["steps"][0]["init_script"].endswith("/namespace.d/tmp.init") and not doc["steps"][0]["init_script_if_exists"]'
    json_check 'doc["steps"][1]["instance_kind"] == "unique" and doc["steps"][1]["template"] == "/var/tmp/inst" and doc["steps"][1]["init_script"] is None'
    json_check 'doc["skipped"][0]["polydir"] == "/srv/x" and doc["skipped"][0]["reason"] == "root is excluded by the user list"'
    json_check 'doc["namespace_changes"] is True and doc["error"] is None'
    pass "--json carries steps, owners, init scripts and skips"
}

plan_error() {
    cat >"$conf" <<'CONF'
/tmp     /tmp/inst/   user
/tmp/x   /other/      user
CONF
    run_plan root --config "$conf" --skip-trust-check
    expect_status 2
    expect_contains "error: cannot polyinstantiate /tmp/x"
    expect_contains "rule at ${conf}:2"
    run_plan root --config "$conf" --skip-trust-check --json
    expect_status 2
    json_check 'doc["error"].startswith("cannot polyinstantiate /tmp/x") and doc["exit_status"] == 2'
    pass "an impossible layout fails with the rule's line"
}

unknown_user() {
    printf '/tmp /tmp/inst/ user\n' >"$conf"
    run_plan polyns-no-such-user-xyz --config "$conf" --skip-trust-check
    expect_status 2
    expect_contains "cannot look up user polyns-no-such-user-xyz"
    pass "unknown user: exit 2"
}

empty_plan() {
    : >"$conf"
    run_plan root --config "$conf" --skip-trust-check
    expect_status 0
    expect_contains "no polydir is polyinstantiated for root: the session keeps the host's namespace"
    pass "empty configuration: nothing to do"
}

case "${1:-}" in
    seed_a5|skip_reasons|config_error|service|json|plan_error|unknown_user|empty_plan) "$1" ;;
    *) fail "unknown case '${1:-}'" ;;
esac
