#!/usr/bin/env bash
# Runs the built `polyns` on the files in tests/cli/data and conf/ and checks
# what an admin would see: diagnostics, summary line, exit status, JSON.
# Usage: check_cli_test.sh CASE   (one meson test per CASE; see meson.build)
# Needs: POLYNS_CLI (the built polyns), POLYNS_SOURCE_DIR, POLYNS_VERSION.
# No root needed; the one case that needs root-owned files skips (77) without.
set -euo pipefail

: "${POLYNS_CLI:?}" "${POLYNS_SOURCE_DIR:?}" "${POLYNS_VERSION:?}"
data="$POLYNS_SOURCE_DIR/tests/cli/data"
conf="$POLYNS_SOURCE_DIR/conf"

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'ok: %s\n' "$*"; }

scratch=$(mktemp -d)
trap 'rm -rf -- "$scratch"' EXIT

# run_polyns ARGS...: sets $out (stdout), $status; stderr passes through.
run_polyns() {
    printf '+ polyns %s\n' "$*"
    set +e
    out=$("$POLYNS_CLI" "$@")
    status=$?
    set -e
    printf '%s\n' "$out"
    printf '[exit %d]\n' "$status"
}

expect_status() {
    [[ "$status" == "$1" ]] || fail "expected exit status $1, got $status"
}

expect_contains() {
    [[ "$1" == *"$2"* ]] || fail "expected output to contain '$2'"
}

count_matching() {
    local text="$1" needle="$2"
    grep -cF -- "$needle" <<<"$text" || true
}

last_line() { tail -n 1 <<<"$1"; }

# check_clean FILE RULES: no diagnostics at all, only the summary line.
check_clean() {
    local file="$1" rules="$2"
    run_polyns check --skip-trust-check --config "$file"
    expect_status 0
    [[ "$(wc -l <<<"$out")" == 1 ]] || fail "expected only the summary line"
    expect_contains "$out" "$rules rules, 0 warnings, 0 errors in $file"
    run_polyns check --skip-trust-check --strict --config "$file"
    expect_status 0
}

json_check() {
    # $1: python expression over `doc` that must hold
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
ok = eval(sys.argv[1])
if not ok:
    sys.exit("JSON assertion failed: " + sys.argv[1])
' "$1" <<<"$out" || fail "JSON check failed: $1"
}

case_version() {
    run_polyns --version
    expect_status 0
    [[ "$out" == "polyns $POLYNS_VERSION" ]] || fail "unexpected version text"
}

case_usage() {
    run_polyns check --no-such-option
    expect_status 64
    run_polyns
    expect_status 64
    run_polyns check --help
    expect_status 0
    expect_contains "$out" "--strict"
}

# The seed's A5 lines: they load, with one warning per line about the flag.
case_seed_a5() {
    local file="$conf/examples/seed-a5.conf"
    run_polyns check --skip-trust-check --config "$file"
    expect_status 0
    [[ "$(count_matching "$out" ': warning: ')" == 2 ]] || fail "expected exactly 2 warnings"
    [[ "$(count_matching "$out" ': error: ')" == 0 ]] || fail "expected no errors"
    local line
    for line in 1 2; do
        local diag
        diag=$(grep -F -- "$file:$line:" <<<"$out") || fail "no diagnostic for line $line"
        expect_contains "$diag" "level,root"
        expect_contains "$diag" "level root"  # the hint: list users in the 4th field
    done
    expect_contains "$(last_line "$out")" "2 rules, 2 warnings, 0 errors in $file"
}

case_seed_a5_strict() {
    run_polyns check --skip-trust-check --strict --config "$conf/examples/seed-a5.conf"
    expect_status 1
}

case_manpage_examples() {
    check_clean "$data/linux-pam-namespace.conf.5-example.conf" 3
}

case_debian_examples() {
    check_clean "$data/debian-namespace.conf-uncommented.conf" 3
}

case_shipped_example() {
    check_clean "$conf/namespace.conf" 2
}

case_error_file() {
    local file="$data/error-unknown-method.conf"
    run_polyns check --skip-trust-check --config "$file"
    expect_status 2
    local diag
    diag=$(grep -F -- "$file:3:" <<<"$out") || fail "no diagnostic for line 3"
    expect_contains "$diag" ": error: "
    expect_contains "$diag" "frobnicate"
    expect_contains "$(last_line "$out")" "1 rule, 0 warnings, 1 error in $file"
    # --strict does not lower the status of errors
    run_polyns check --skip-trust-check --strict --config "$file"
    expect_status 2
}

case_missing_file() {
    local file="$scratch/does-not-exist.conf"
    run_polyns check --config "$file"
    expect_status 2
    expect_contains "$out" "$file"
}

case_json() {
    run_polyns check --skip-trust-check --json --config "$conf/examples/seed-a5.conf"
    expect_status 0
    json_check 'len(doc["rules"]) == 2 and len(doc["diagnostics"]) == 2'
    json_check 'all(d["severity"] == "warning" and "level,root" in d["message"] + d["text"] for d in doc["diagnostics"])'
    json_check '[d["location"]["line"] for d in doc["diagnostics"]] == [1, 2]'
    json_check '[r["polydir"] for r in doc["rules"]] == ["/tmp", "/var/tmp"]'
    json_check 'all(r["method"] == "level" for r in doc["rules"])'
    json_check 'doc["summary"]["warnings"] == 2 and doc["summary"]["errors"] == 0 and doc["exit_status"] == 0'

    run_polyns check --skip-trust-check --json --config "$data/linux-pam-namespace.conf.5-example.conf"
    expect_status 0
    json_check 'doc["diagnostics"] == [] and len(doc["rules"]) == 3'
    json_check 'doc["rules"][0]["users"] == [{"kind": "name", "name": "root"}, {"kind": "name", "name": "adm"}]'
    json_check 'doc["rules"][2]["polydir"] == "$HOME" and doc["rules"][2]["method"] == "context"'

    run_polyns check --skip-trust-check --json --strict --config "$conf/examples/seed-a5.conf"
    expect_status 1
    json_check 'doc["exit_status"] == 1'

    run_polyns check --skip-trust-check --json --config "$data/error-unknown-method.conf"
    expect_status 2
    json_check 'doc["summary"]["errors"] == 1 and doc["exit_status"] == 2'
}

# Bytes that are not UTF-8 still give a diagnostic and valid JSON.
case_json_binary_input() {
    local file="$scratch/binary.conf"
    printf '/tmp /tmp/inst/ \xff\xfe\x01method\n' >"$file"
    run_polyns check --skip-trust-check --json --config "$file"
    expect_status 2
    json_check 'doc["summary"]["errors"] >= 1'
}

# A world-writable config file is refused, naming the file (and the fix).
case_world_writable() {
    local file="$scratch/namespace.conf"
    cp -- "$conf/namespace.conf" "$file"
    chmod 0666 -- "$file"
    run_polyns check --config "$file"
    expect_status 2
    local diag
    diag=$(grep -F -- "$file" <<<"$out" | grep -F ': error: ') || fail "no error naming $file"
    # Not root (a package build runs the unit suite as a plain user): the
    # file is also not root's, and that is the reason the loader names first.
    if ((EUID == 0)); then
        expect_contains "$diag" "writable"
    else
        expect_contains "$diag" "cannot trust"
    fi
    # the summary says the file was refused, not that there was none (issue 14)
    local summary
    summary=$(tail -n 1 <<<"$out")
    expect_contains "$summary" "refused: $file"
    [[ $summary != *"no namespace.conf"* ]] || fail "summary claims there is no file: $summary"
    # the same file passes with the trust check skipped
    run_polyns check --skip-trust-check --config "$file"
    expect_status 0
}

# A root-owned 0644 file passes the trust check.
case_trusted_file() {
    if ((EUID != 0)); then
        echo "SKIP: needs root to own the file"
        exit 77
    fi
    local dir="$scratch/etc"
    install -d -m 0755 -o root -g root -- "$dir"
    install -m 0644 -o root -g root -- "$conf/namespace.conf" "$dir/namespace.conf"
    run_polyns check --strict --config "$dir/namespace.conf"
    expect_status 0
}

# persist (issue 16): the combinations it refuses are errors only when the
# module arguments ask for persist.
case_persist_combinations() {
    local file="$scratch/persist.conf"
    printf '/tmp /tmp/user_tmpl/ user root\n/var/tmp /var/tmp/t/ tmpdir root\n' >"$file"
    run_polyns check --skip-trust-check --config "$file" --module-args "unmnt_remnt"
    expect_status 0
    run_polyns check --skip-trust-check --config "$file" --module-args "persist unmnt_remnt unmount_on_close"
    expect_status 2
    expect_contains "$out" "$file:2:"
    expect_contains "$out" "method tmpdir gives each session its own instance"
    expect_contains "$out" "persist refused with unmnt_remnt"
    expect_contains "$out" "unmount_on_close is not applied per session"
    [[ "$(count_matching "$out" ': error: ')" == 2 ]] || fail "expected 2 errors"
    [[ "$(count_matching "$out" ': warning: ')" == 1 ]] || fail "expected 1 warning"
    printf '/tmp /tmp/user_tmpl/ user root\n' >"$file"
    run_polyns check --skip-trust-check --strict --config "$file" --module-args "persist_clean debug"
    expect_status 0
}

# An unknown subcommand is named as such (not "A subcommand is required").
case_unknown_subcommand() {
    set +e
    out=$("$POLYNS_CLI" frobnicate 2>&1)
    status=$?
    set -e
    printf '%s\n[exit %d]\n' "$out" "$status"
    expect_status 64
    expect_contains "$out" "unknown subcommand 'frobnicate'"
    [[ $out != *"A subcommand is required"* ]] || fail "CLI11's words leaked: $out"
}

name="${1:?usage: $0 CASE}"
if ! declare -F "case_$name" >/dev/null; then
    fail "unknown case $name"
fi
"case_$name"
pass "$name"
