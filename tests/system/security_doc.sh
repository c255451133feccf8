#!/bin/bash
# SECURITY.md may name no test that does not exist: every test script and
# source file it names is in the tree, every quoted engine test case starts a
# TEST_CASE, every *-legacy test is registered, and every DESIGN.md invariant
# number has a row. No root, no namespace: it only reads the source tree.
set -euo pipefail
src=${POLYNS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
doc=$src/SECURITY.md
[[ -f $doc ]] || { echo "FAIL: $doc is missing"; exit 1; }
bad=0
fail() { echo "FAIL: $*"; bad=1; }

# Script and source names: attack_x.sh, engine/x.cpp, tests/unit/x.cpp ...
while read -r name; do
    case $name in
    engine/*) path=$src/tests/system/$name ;;
    tests/*) path=$src/$name ;;
    *.sh) path=$src/tests/system/$name ;;
    *) continue ;;
    esac
    [[ -f $path ]] || fail "SECURITY.md names $name, which does not exist ($path)"
done < <(grep -oE '`[A-Za-z0-9_./*-]+\.(sh|cpp)`' "$doc" | tr -d '`' | grep -v '\*' | sort -u)

# Engine test cases quoted after an engine/*.cpp name ("text" or "text ...",
# several separated by commas): each starts a TEST_CASE in that file.
while IFS=$'\t' read -r file quoted; do
    prefix=${quoted%...}
    prefix=${prefix% }
    grep -qF "TEST_CASE(\"$prefix" "$src/tests/system/$file" ||
        fail "SECURITY.md quotes \"$quoted\" from $file: no such TEST_CASE"
done < <(python3 - "$doc" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for m in re.finditer(r'`(engine/[a-z_]+\.cpp)`((?:,? *"[^"]+")+)', text):
    for q in re.findall(r'"([^"]+)"', m.group(2)):
        print(f"{m.group(1)}\t{q}")
PY
)

# *-legacy tests named in the table are registered in a meson.build.
for t in $(grep -oE '`[a-z-]+-legacy`' "$doc" | tr -d '`' | sort -u); do
    base=${t%-legacy}
    base=${base#module-}
    base=${base#attack-}
    grep -rqE "'${base//-/_}'|'$base'" "$src/tests/system/meson.build" ||
        fail "SECURITY.md names test $t: not registered in tests/system/meson.build"
done

# Every DESIGN.md invariant has a row.
design=$src/../shared/DESIGN.md
if [[ -f $design ]]; then
    count=$(sed -n '/^## Security invariants/,/^## /p' "$design" | grep -cE '^[0-9]+\. ')
    for n in $(seq "$count"); do
        grep -qE "^\| $n \|" "$doc" || fail "invariant $n of DESIGN.md has no row in SECURITY.md"
    done
fi
[[ $bad == 0 ]] || exit 1
echo "PASS: SECURITY.md names only tests that exist"
