#!/usr/bin/env bash
# The bash completion (conf/bash-completion/polyns) knows every subcommand and
# every option `polyns SUB --help` lists, and completes them through
# bash-completion's own machinery when it is installed.
set -euo pipefail
: "${POLYNS_CLI:?}" "${POLYNS_SOURCE_DIR:?}"
comp="$POLYNS_SOURCE_DIR/conf/bash-completion/polyns"
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

subs=$("$POLYNS_CLI" --help | awk '/^Subcommands:/{on=1; next} on && !NF {exit} on {print $1}')
[[ -n $subs ]] || fail "no subcommands in polyns --help"
for sub in $subs; do
    grep -q "^    $sub) opts=" "$comp" || fail "completion lacks subcommand $sub"
    line=$(grep "^    $sub) opts=" "$comp")
    for opt in $("$POLYNS_CLI" "$sub" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        [[ $line == *"$opt"* ]] || fail "completion of $sub lacks $opt"
    done
done

bc=/usr/share/bash-completion/bash_completion
if [[ -r $bc ]]; then
    complete_words() { # WORDS...: what the completion offers for the last word
        bash -c 'source "$1"; source "$2"; shift 2; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
                 COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; _polyns polyns "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}";
                 printf "%s\n" "${COMPREPLY[@]}"' _ "$bc" "$comp" "$@"
    }
    [[ $(complete_words polyns s | sort | tr '\n' ' ') == "setup status " ]] || fail "polyns s<TAB>: $(complete_words polyns s)"
    [[ $(complete_words polyns gc --o) == "--older-than" ]] || fail "polyns gc --o<TAB>"
    [[ $(complete_words polyns audit --profile a | sort | tr '\n' ' ') == "all anssi " ]] || fail "--profile a<TAB>"
    [[ $(complete_words polyns plan roo) == "root" ]] || fail "plan roo<TAB> gives no user"
    echo "ok: completion works through bash-completion"
else
    echo "bash-completion not installed: only the word lists were checked"
fi
echo "ok: the completion knows every subcommand and option"
