#!/bin/bash
# The benchmark (issue 5), inside a throwaway mount namespace built by the
# system-test harness: adds the users bench00.. to the private passwd copy,
# then runs polyns-bench, which writes both modules' configs, PAM services
# and extra mounts there. Nothing reaches the host.
#
#   tests/bench/run_bench.sh [polyns-bench OPTIONS]     (as root)
#
# POLYNS_BUILD_DIR picks the build (default: ./build-bench if it exists, else
# the harness's default); the JSON goes to $POLYNS_BUILD_DIR/polyns-bench.json
# unless --json FILE is given. Options: see tests/bench/bench_main.cpp.
if [[ -z ${POLYNS_BUILD_DIR:-} && -f $PWD/build-bench/build.ninja ]]; then
    export POLYNS_BUILD_DIR=$PWD/build-bench
fi
source "$(dirname "$0")/../system/lib/harness.sh"
harness_enter "$@"
require_module

bench=${POLYNS_BENCH:-$POLYNS_BUILD_DIR/tests/bench/polyns-bench}
[[ -x $bench ]] || fail "polyns-bench not built: $bench (run: ninja -C $POLYNS_BUILD_DIR tests/bench/polyns-bench)"

# As many users as the storm spreads its sessions over.
users=50
json=
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case ${args[i]} in
    --smoke) users=8 ;;
    --storm-users) users=${args[i + 1]} ;;
    --json) json=${args[i + 1]} ;;
    esac
done
for ((i = 0; i < users; i++)); do
    add_user "$(printf 'bench%02d' "$i")" $((20000 + i))
done
[[ -n $json ]] || args+=(--json "$POLYNS_BUILD_DIR/polyns-bench.json")

"$bench" "${args[@]}"
