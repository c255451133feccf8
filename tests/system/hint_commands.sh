#!/bin/bash
# Issue 12, item 7: every fix hint names a command that exists in this
# version, with options that exist. hint_commands.py extracts every
# `polyns SUBCOMMAND [--option...]` from the module's and the CLI's strings
# (any "polyns WORD" in a string literal is a command: prose says pam_polyns.so)
# and from the docs (marked: backquotes, man-page bold, code blocks), and checks
# each against `polyns --help` and `polyns SUBCOMMAND --help`. A self-check runs
# first: synthetic bad hints must be reported, good ones not. No root.
set -euo pipefail
src=${POLYNS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cli=${POLYNS_CLI:-$src/build/src/cli/polyns}
[[ -x $cli ]] || { echo "FAIL: $cli is not built"; exit 1; }
exec python3 "$(dirname "$0")/hint_commands.py" "$src" "$cli"
