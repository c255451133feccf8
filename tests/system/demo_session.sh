#!/bin/bash
# The README demo's real sessions, and the `demo-session` system test: in a
# throwaway namespace, the seed's A3 templates and A5 config, alice and bob,
# one PAM session each through libpam, and the A7 evidence. Exit status 0 only
# when the evidence is there (each user's own 0700 instance; alice's file
# invisible to bob and to the shared /tmp).
#
# By hand (as root, after building):  POLYNS_BUILD_DIR=build bash tests/system/demo_session.sh
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/demo.sh"
demo_seed_sessions
