#!/usr/bin/env python3
"""Issue 12, item 7: every `polyns SUBCOMMAND [--option...]` named in a hint
exists in this version: the subcommand in `polyns --help`, each option in
`polyns SUBCOMMAND --help` (a leading option such as --version in
`polyns --help`).

What counts as a command needs no list of words:
- in the module's and the CLI's strings (every C++ string literal under src/
  and include/: log lines, diagnostics, hints, help), "polyns WORD" always
  names a command. Prose says "pam_polyns.so", "the module", "it". After a
  backquote the command runs to the closing backquote; otherwise its options
  are the option tokens that follow it, up to the first other word or
  punctuation;
- in the docs (README, SECURITY, COMPATIBILITY, man pages, conf/, packaging
  READMEs) a command is marked: `polyns ...` in backquotes, *polyns WORD* in
  a man page's bold, or a line of a ``` code block that starts with polyns
  (after an optional "$ " or "# " prompt). Unmarked prose is not a command.

Usage: hint_commands.py SOURCE_DIR POLYNS_CLI
First a self-check feeds synthetic hints, good and bad, through the same
extraction and requires exactly the bad ones to be reported; then the tree is
checked. Exit 1 on any problem.
"""
import pathlib
import re
import subprocess
import sys
import tempfile

LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
# "polyns WORD" as a word of its own: not custom/polyns, pam_polyns, polyns.conf.
MENTION = re.compile(r'(?:^|(?<=[\s`(\[*]))polyns ((?:--?)?[A-Za-z][\w-]*)')
OPTION = re.compile(r'^(--?[A-Za-z][\w-]*)')
ARGUMENT = re.compile(r'^(\[?[A-Z][A-Z0-9_|.-]*\]?|[0-9][0-9a-z]*|[/.~$%][^\s]*|\.\.\.)$')


def cli_spec(cli):
    """{'': global options, SUB: its options} from the CLI's own --help."""
    def helptext(*args):
        return subprocess.run([cli, *args, '--help'], check=True, capture_output=True, text=True).stdout

    def options(text):
        found = set()
        for line in text.splitlines():
            m = re.match(r'^\s+(-[^\s]+)', line)
            if m:
                found.update(o for o in m.group(1).split(',') if o.startswith('-'))
        return found

    top = helptext()
    subs = re.findall(r'^  ([a-z][a-z-]*)\s', top.split('Subcommands:', 1)[1], re.M) if 'Subcommands:' in top else []
    if not subs:
        sys.exit('FAIL: polyns --help lists no subcommands')
    spec = {'': options(top)}
    for sub in subs:
        spec[sub] = options(helptext(sub))
    return spec


def split_command(text):
    """The first command of a span: up to &&, ||, |, ; or a # comment."""
    return re.split(r'\s(?:&&|\|\||\||;|#)\s', ' ' + text + ' ', maxsplit=1)[0].strip()


def commands_in(span, whole):
    """(sub, [options]) for each polyns command in span. whole: the span is a
    command throughout (backquotes, code); else its options end at the first
    word that is neither an option nor an argument placeholder."""
    out = []
    for m in MENTION.finditer(span):
        sub = m.group(1)
        rest = span[m.end():]
        nxt = MENTION.search(rest)
        if nxt:
            rest = rest[:nxt.start()]
        if whole:
            rest = split_command(rest)
        opts = []
        if sub.startswith('-'):
            opts.append(sub)
            sub = ''
        for token in rest.split():
            if '`' in token and not whole:
                break
            bare = token.strip('[]()')
            o = OPTION.match(bare)
            if o:
                opts.append(o.group(1))
            elif not whole and not ARGUMENT.match(token.rstrip(',;:.)')):
                break
            if not whole and token[-1:] in ',;:.)?':
                break
        out.append((sub, opts))
    return out


def source_spans(root):
    for path in sorted(list(root.glob('src/**/*.[ch]pp')) + list(root.glob('include/**/*.hpp'))):
        for n, line in enumerate(path.read_text(errors='replace').splitlines(), 1):
            stripped = line.lstrip()
            if stripped.startswith('//') or stripped.startswith('*') or stripped.startswith('/*'):
                continue
            for lit in LITERAL.findall(line):
                where = f'{path.relative_to(root)}:{n}'
                for quoted in re.findall(r'`([^`]*)`', lit):
                    if quoted.startswith('polyns '):
                        yield where, quoted, True
                unquoted = re.sub(r'`[^`]*`', '``', lit)
                yield where, unquoted, False


def doc_files(root):
    files = [root / n for n in ('README.md', 'SECURITY.md', 'COMPATIBILITY.md')]
    files += sorted(root.glob('man/*.scd'))
    files += sorted(p for p in root.glob('conf/*') if p.is_file())
    files += sorted(root.glob('packaging/*.md')) + sorted(root.glob('packaging/debian/*README*'))
    return [f for f in files if f.is_file()]


def doc_spans(root):
    for path in doc_files(root):
        in_code = False
        for n, line in enumerate(path.read_text(errors='replace').splitlines(), 1):
            where = f'{path.relative_to(root)}:{n}'
            if line.lstrip().startswith('```'):
                in_code = not in_code
                continue
            if in_code:
                m = re.match(r'^\s*(?:[$#] )?(polyns .*)$', line)
                if m:
                    yield where, m.group(1), True
                continue
            for quoted in re.findall(r'`([^`]*)`', line):
                if quoted.startswith('polyns '):
                    yield where, quoted, True
            if path.suffix == '.scd' and line.startswith('*polyns '):
                # A synopsis line: the whole line is the command (*--opt* _ARG_).
                yield where, line.replace('*', '').replace('_', ''), True
            elif path.suffix == '.scd':
                for bold in re.findall(r'\*(polyns [^*]*)\*', line):
                    yield where, bold, True


def problems_in(root, spec):
    problems, checked = [], 0
    for where, span, whole in list(source_spans(root)) + list(doc_spans(root)):
        for sub, opts in commands_in(span, whole):
            checked += 1
            if sub and sub not in spec:
                problems.append(f"{where}: 'polyns {sub}' is not a subcommand polyns --help lists")
                continue
            for o in opts:
                if o not in spec[sub] and not (sub and o in spec['']):
                    problems.append(f"{where}: 'polyns {sub + ' ' if sub else ''}{o}': "
                                    f"polyns {sub + ' ' if sub else ''}--help lists no {o}")
    return problems, checked


SELF_CHECK_SOURCE = r'''
log.warning("missing template (polyns frobnicate will do this)");           // bad 1
e.hint = "polyns reads it as octal";                                         // bad 2: prose is no excuse
e.hint = "fix: `polyns check --no-such-flag` and retry";                     // bad 3
e.hint = "run polyns gc --dry-run --bogus, or remove it by hand";            // bad 4
e.hint = "run polyns setup --enable-pam, or add `session required pam_polyns.so`";
e.hint = "(polyns gc?) and polyns status: and custom/polyns and pam_polyns.so";
e.hint = "`polyns plan USER --service SERVICE --json`";
'''
SELF_CHECK_README = '''
Run `polyns nosuch` first.                 <- bad 5
```
# polyns setup --enable-pam --nope        <- bad 6
polyns check --strict && polyns audit --profile anssi
```
`polyns --versionx`                       <- bad 7
polyns does many things; `polyns plan alice --service sshd --json` and `polyns --version`.
'''
SELF_CHECK_MAN = '''
*polyns bogus* [*--json*]                   <- bad 8
*polyns gc* [*--dry-run*] [*--older-than* _DAYS_] [*--nope*]     <- bad 9
Run *polyns audit* first.
'''
SELF_CHECK_BAD = {
    "src/x.cpp:2: 'polyns frobnicate' is not a subcommand polyns --help lists",
    "src/x.cpp:3: 'polyns reads' is not a subcommand polyns --help lists",
    "src/x.cpp:4: 'polyns check --no-such-flag': polyns check --help lists no --no-such-flag",
    "src/x.cpp:5: 'polyns gc --bogus': polyns gc --help lists no --bogus",
    "README.md:2: 'polyns nosuch' is not a subcommand polyns --help lists",
    "README.md:4: 'polyns setup --nope': polyns setup --help lists no --nope",
    "README.md:7: 'polyns --versionx': polyns --help lists no --versionx",
    "man/x.8.scd:2: 'polyns bogus' is not a subcommand polyns --help lists",
    "man/x.8.scd:3: 'polyns gc --nope': polyns gc --help lists no --nope",
}


def self_check(spec):
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / 'src').mkdir()
        (root / 'man').mkdir()
        (root / 'src/x.cpp').write_text(SELF_CHECK_SOURCE)
        (root / 'README.md').write_text(SELF_CHECK_README)
        (root / 'man/x.8.scd').write_text(SELF_CHECK_MAN)
        found, checked = problems_in(root, spec)
    missed = SELF_CHECK_BAD - set(found)
    wrong = set(found) - SELF_CHECK_BAD
    for p in sorted(missed):
        print(f'FAIL: self-check: a bad hint was not reported: {p}')
    for p in sorted(wrong):
        print(f'FAIL: self-check: a good hint was reported: {p}')
    if missed or wrong:
        sys.exit(1)
    print(f'PASS: self-check: the {len(SELF_CHECK_BAD)} bad synthetic hints are reported, '
          f'the {checked - len(SELF_CHECK_BAD)} good ones are not')


def main():
    root, cli = pathlib.Path(sys.argv[1]), sys.argv[2]
    spec = cli_spec(cli)
    print('polyns --help lists: ' + ' '.join(s for s in spec if s))
    self_check(spec)
    problems, checked = problems_in(root, spec)
    for p in problems:
        print('FAIL: ' + p)
    print(f'{checked} command mentions checked')
    if checked == 0:
        sys.exit('FAIL: found no command mentions at all (extraction broken?)')
    if problems:
        sys.exit(1)
    print('PASS: every command named in hints and docs exists, with its options')


if __name__ == '__main__':
    main()
