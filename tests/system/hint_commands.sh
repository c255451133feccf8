#!/bin/bash
# Issue 12, item 7: every fix hint names a command that exists in this
# version. The `polyns WORD` commands named in the module's and the CLI's
# strings (log lines, diagnostics, hints: every string literal in src/) and in
# the docs (README, SECURITY, COMPATIBILITY, man pages, conf/) are extracted
# and each WORD must be a subcommand that `polyns --help` lists. Prose ("polyns
# does not ...") is told apart by a short list of the verbs it uses; a docs
# line that says a command is planned names no command to run. No root.
set -euo pipefail
src=${POLYNS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cli=${POLYNS_CLI:-$src/build/src/cli/polyns}
[[ -x $cli ]] || { echo "FAIL: $cli is not built"; exit 1; }
help=$("$cli" --help)
commands=$(printf '%s\n' "$help" | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
[[ -n $commands ]] || { echo "FAIL: no subcommands in polyns --help"; exit 1; }
echo "polyns --help lists: $(echo $commands)"
prose='does|do|is|are|reads|applies|gives|costs|never|session|sessions|extension|developers|module|itself|and|or|as|in|on|to|the|a|its|polyns'

named=$(python3 - "$src" <<'PY'
import pathlib, re, sys
src = pathlib.Path(sys.argv[1])
literal = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
# "polyns WORD" as a command: at the start, after a space, a backtick or a
# parenthesis (not custom/polyns, a profile's name).
mention = re.compile(r'(?:^|[\s`(])polyns ([a-z][a-z-]*)')
for path in sorted(src.glob('src/**/*.[ch]pp')):
    for n, line in enumerate(path.read_text().splitlines(), 1):
        code = line.split('//', 1)[0] if not line.lstrip().startswith('"') else line
        for lit in literal.findall(code):
            for word in mention.findall(lit):
                print(f"{path.relative_to(src)}:{n}\t{word}")
docs = [src / n for n in ('README.md', 'SECURITY.md', 'COMPATIBILITY.md')]
docs += sorted(src.glob('man/*.scd')) + sorted(p for p in src.glob('conf/*') if p.is_file())
for path in docs:
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if 'planned' in line:
            continue
        for word in re.findall(r'`polyns ([a-z][a-z-]*)', line) + re.findall(r'\*polyns ([a-z][a-z-]*)\*', line):
            print(f"{path.relative_to(src)}:{n}\t{word}")
PY
)
bad=0
checked=0
while IFS=$'\t' read -r where word; do
    [[ -n $word ]] || continue
    [[ $word =~ ^($prose)$ ]] && continue
    checked=$((checked + 1))
    if ! grep -qx "$word" <<<"$commands"; then
        echo "FAIL: $where names 'polyns $word', which polyns --help does not list"
        bad=1
    fi
done <<<"$named"
echo "$checked command mentions checked"
((checked > 0)) || { echo "FAIL: found no command mentions at all (extraction broken?)"; exit 1; }
[[ $bad == 0 ]] || exit 1
echo "PASS: every command named in hints and docs exists"
