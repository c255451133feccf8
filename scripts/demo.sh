#!/usr/bin/env bash
# The polyns demo: what an administrator sees. Run as root on Debian 12.
#
# Install dependencies, build, `polyns check` on the shipped example and on
# the seed's A5 lines, then real sessions in a throwaway mount namespace (the
# system-test harness): the seed's A3 templates and A5 config, alice and bob
# through libpam, then the seed's A3-A7 procedure typed literally with real
# ssh logins to a private sshd on 127.0.0.1. Each step is a function named
# step_*; main() lists them in order.
# Nothing here writes to the host outside the build tree and a private
# temporary dir: the sessions live in the harness's namespace and vanish with it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/build.sh
run_from_visible_copy "scripts/demo.sh" "$@"

source_dir=$PWD
build_dir=build
polyns_cli="$source_dir/$build_dir/src/cli/polyns"
demo_dir=""

say() { printf '\n== %s\n' "$*"; }

# show_command CMD...: print it like a shell transcript, run it, print its
# exit status; never stops the demo (a non-zero status is part of the show).
show_command() {
    printf '\n# %s\n' "$*"
    local status=0
    "$@" || status=$?
    printf '[exit status %d]\n' "$status"
}

step_install_deps() {
    say "Installing build dependencies (Debian packages)"
    bash scripts/install-deps.sh
}

step_build() {
    say "Building polyns in ./$build_dir"
    setup_build_dir "$build_dir" >/dev/null
    meson compile -C "$build_dir"
}

# Config files are trusted only when root-owned and not group/other-writable,
# as in /etc/security. A private directory holds copies with those properties
# so the demo does not depend on the checkout's umask or owner.
step_prepare_files() {
    demo_dir=$(mktemp -d /tmp/polyns-demo.XXXXXX)
    trap 'rm -rf -- "$demo_dir"' EXIT
    install -m 0644 -- conf/namespace.conf "$demo_dir/namespace.conf"
    install -m 0644 -- conf/examples/seed-a5.conf "$demo_dir/seed-a5.conf"
}

polyns() { "$polyns_cli" "$@"; }

step_check_shipped_example() {
    say "polyns check on the shipped example (conf/namespace.conf)"
    cd "$demo_dir"
    grep -v -e '^#' -e '^$' namespace.conf
    show_command polyns check --config namespace.conf
    cd "$source_dir"
}

step_check_seed_a5() {
    say "polyns check on the seed's A5 lines (\"level:level,root\")"
    cd "$demo_dir"
    cat seed-a5.conf
    show_command polyns check --config seed-a5.conf
    echo
    echo "The lines load (a warning, not an error), but 'level,root' is not a flag:"
    echo "root is NOT excluded. The fix is a 4th field: '/tmp /tmp/user_tmpl/%{UID} level root'."
    show_command polyns check --strict --config seed-a5.conf
    cd "$source_dir"
}

step_check_effective_config() {
    say "polyns check on this host's effective configuration (/etc/security)"
    show_command polyns check
}

step_real_sessions() {
    say "Real PAM sessions for alice and bob (seed A3 + A5, in a throwaway namespace)"
    POLYNS_BUILD_DIR="$source_dir/$build_dir" bash tests/system/demo_session.sh
}

step_seed_procedure_over_ssh() {
    say "The seed's A3-A7 procedure, literally, with real ssh logins (private sshd on 127.0.0.1)"
    POLYNS_BUILD_DIR="$source_dir/$build_dir" bash tests/system/seed_procedure.sh
}

main() {
    step_install_deps
    step_build
    step_prepare_files
    step_check_shipped_example
    step_check_seed_a5
    step_check_effective_config
    step_real_sessions
    step_seed_procedure_over_ssh
    say "Demo finished"
}

main "$@"
