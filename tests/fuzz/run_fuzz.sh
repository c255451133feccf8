#!/bin/sh
# Runs a libFuzzer binary briefly over the seed corpus without writing into the
# source tree: new inputs go to a scratch directory listed first.
# usage: run_fuzz.sh FUZZER SEED_CORPUS_DIR [libFuzzer flags...]
set -eu
fuzzer=$1
seeds=$2
shift 2
scratch=$(mktemp -d "${TMPDIR:-/tmp}/polyns-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
"$fuzzer" "$@" "$scratch" "$seeds"
