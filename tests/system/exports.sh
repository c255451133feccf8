#!/bin/bash
# pam_polyns.so exports exactly the PAM session entry points: nothing of the
# static libraries linked into it (engine, sys, config, C++ inline code) can
# interpose on, or be interposed by, other modules in the same process.
set -euo pipefail
module=${POLYNS_MODULE:?POLYNS_MODULE not set}
[[ -f $module ]] || { echo "FAIL: $module not built" >&2; exit 1; }
exported=$(nm -D --defined-only "$module" | awk '{ print $3 }' | sort | tr '\n' ' ')
expected="pam_sm_close_session pam_sm_open_session "
if [[ $exported != "$expected" ]]; then
    echo "FAIL: exported symbols: [$exported], expected [$expected]" >&2
    exit 1
fi
echo "PASS: only pam_sm_open_session and pam_sm_close_session are exported"
# Every symbol the module needs is resolved at load time (-z defs at link time
# already guarantees this; dlopen with RTLD_NOW proves it on this system).
# (Sanitizer run: ASan's runtime must come first in python3 too.)
LD_PRELOAD=${POLYNS_TEST_PRELOAD:-} python3 - "$module" <<'PY'
import ctypes, sys
ctypes.CDLL(sys.argv[1], mode=2)  # RTLD_NOW
print("PASS: dlopen(RTLD_NOW) resolves every symbol")
PY
