#!/bin/bash
# The seed's procedure, literally (issue 4, part 3): seed 002's A3 commands
# (root-owned 0755 templates), its A5 namespace.conf lines exactly as printed
# (`level:level,root` and all), its A6 session line (in sshd's stack, which on
# Debian stands in for system-auth/password-auth) and its A7 verification
# through real ssh logins of two non-root users. Prints the transcript an
# admin would see; lib/seed_procedure.sh has the steps and the checks.
#
# By hand (as root, after building; prints the transcript, exit 0 = all
# expectations of A4/A7 met):
#   POLYNS_BUILD_DIR=build bash tests/system/seed_procedure.sh
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/sshd.sh"
source "$(dirname "$0")/lib/seed_procedure.sh"
harness_enter "$@"
print_versions openssh-server openssh-client libpam-modules
require_module

add_user alice 1001
add_user bob 1002

seed_a3_templates
seed_a5_namespace_conf
# shellcheck disable=SC2086 # extra module arguments are words
seed_a6_pam_stack "$POLYNS_MODULE" ${POLYNS_TEST_MODULE_ARGS:-}
sshd_authorize alice bob
sshd_start
harness_on_exit '[[ $status == 0 ]] || { echo "--- sshd log:"; cat "$SSHD_LOG"; echo "--- syslog:"; syslog_lines; } >&2'

seed_a7_verify alice bob
seed_module_log alice bob
