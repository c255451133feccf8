#!/bin/bash
# Parity with Linux-PAM: every namespace.conf of tests/system/parity/ is run
# through the distribution's pam_namespace.so (Linux-PAM 1.5.2 on Debian 12;
# the package version is printed, lib/reference.sh)
# and through pam_polyns.so with instance_mode=mirror, for several users, each
# module in a fresh world (new tmpfs over /tmp, /var/tmp, /home and /root).
# Inside every session parity/probe.sh reports which polydirs are mounted from
# which instance directory (resolved exactly from the mount's device and root
# field), the instance's owner:group:mode and mount flags; the runner also
# records whether the session opened and what namespace.init was called with.
# polyns must agree with the reference's results as recorded in
# parity/expected/NAME.txt (what pam_namespace.so did, with its package
# version; PARITY_RECORD=1 rewrites them from the module installed now),
# apart from differences a corpus file declares with `#@ known-difference:`
# (each one listed in COMPATIBILITY.md); a file that declares a difference
# must show it. The reference installed today runs too and is compared with
# the record: a change is reported (REFERENCE lines, lib/reference.sh), never
# a failure, so a distribution update cannot turn the test red; init
# arguments it passes beyond polyns's four are recorded. Then the migration: pam_namespace.so's sessions first, then
# pam_polyns.so's in the same world, which must reuse the instances and mount
# exactly what pam_namespace.so mounted.
# PARITY_DEBUG=1 prints every run's results and syslog.
#
# Usage: parity.sh [CORPUS_FILE_NAME_PATTERN]   (default: all of parity/*.conf)
# Corpus directives (comment lines starting with "#@"):
#   #@ users: NAME...        sessions to open, in order (default: alice bob);
#                            users: root alice bob carol first.last x-y a_b,
#                            toor (uid 0), alice2 (uid 1001, like alice) and
#                            LONG80 LONG81 LONG100 (names that long)
#   #@ args: ARG...          module arguments given to both modules
#   #@ mkdir: MODE OWNER:GROUP PATH   made before the sessions, in each fresh
#                            world; $USER/$HOME in PATH or OWNER: once per user
#   #@ init: log             install namespace.init (and namespace.d/other.init)
#                            that log their arguments; compared too
#   #@ normalize: tmpdir PREFIX   instances PREFIX + 6 random characters are
#                            shown as PREFIXXXXXXX (PREFIX: the expanded tmpdir prefix)
#   #@ file: namespace.d/N.conf   following lines go to that drop-in
#   #@ su: USER              inside each session open a nested one for USER with
#                            unmnt_remnt added (what su/runuser do) and probe there
#   #@ known-difference: TEXT     a mismatch is expected (see COMPATIBILITY.md)
#   #@ known-bug: TEXT       a mismatch that is a polyns bug, reported and not yet
#                            fixed: shown as KNOWN-BUG, does not fail the test
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/reference.sh"
require_module
require_pam_session

PARITY_DIR=$POLYNS_SOURCE_DIR/tests/system/parity
WORK=$POLYNS_TEST_ROOT/parity
mkdir -p "$WORK"
reference_start "$WORK"
SERVICE=parity-test
pattern=${1:-*}

# ------------------------------------------------------------------ users
long_name() { # LENGTH: a user name of exactly LENGTH characters
    local name=long
    while ((${#name} < $1)); do name+=x; done
    printf '%s' "${name:0:$1}"
}
LONG80=$(long_name 80)
LONG81=$(long_name 81)
LONG100=$(long_name 100)
add_user alice 1001
add_user bob 1002
add_user carol 1003
add_user "$LONG80" 1080
add_user "$LONG81" 1081
add_user "$LONG100" 1100
add_user first.last 1010
add_user x-y 1011
add_user a_b 1012
# Users sharing a uid with another (user lists compare uids): toor is uid 0,
# alice2 is uid 1001. add_user refuses duplicate uids, so they are written here.
add_alias_user() { # NAME UID GID HOME
    echo "$1:x:$2:$3::$4:/bin/sh" >>/etc/passwd
    echo "$1:*:$(($(date +%s) / 86400)):0:99999:7:::" >>/etc/shadow
}
add_alias_user toor 0 0 /root
add_alias_user alice2 1001 1001 /home/alice2
ALL_USERS=(root alice bob carol "$LONG80" "$LONG81" "$LONG100" first.last x-y a_b toor alice2)

user_name() { # corpus spelling -> user name
    case $1 in
        LONG80) echo "$LONG80" ;; LONG81) echo "$LONG81" ;; LONG100) echo "$LONG100" ;;
        *) echo "$1" ;;
    esac
}
short_name() { # user name -> how the report shows it
    case $1 in
        "$LONG80") echo LONG80 ;; "$LONG81") echo LONG81 ;; "$LONG100") echo LONG100 ;;
        *) echo "$1" ;;
    esac
}

# The Debian namespace.init copies /etc/skel into new homes; the corpus
# installs its own script where it wants one.
rm -f /etc/security/namespace.init /etc/security/namespace.d/*

# ------------------------------------------------------------ corpus files
directive() { # FILE NAME: values of "#@ NAME:" lines, one per line
    sed -n "s/^#@ $2:[[:space:]]*//p" "$1"
}

# Splits FILE into namespace.conf and drop-ins under DIR.
write_config_files() { # FILE DIR
    local file=$1 dir=$2 target=$2/namespace.conf line
    mkdir -p "$dir/namespace.d"
    : >"$target"
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line =~ ^#@\ file:\ *(namespace\.d/[A-Za-z0-9._-]+\.conf)\ *$ ]]; then
            target=$dir/${BASH_REMATCH[1]}
            : >"$target"
            continue
        fi
        printf '%s\n' "$line" >>"$target"
    done <"$file"
}

# Splits LINE into the array `fields` as namespace.conf does (blanks separate,
# double quotes group); nothing is expanded.
split_fields() { # LINE
    local line=$1 field="" in_field=0 quoted=0 c i
    fields=()
    for ((i = 0; i < ${#line}; i++)); do
        c=${line:i:1}
        if [[ $c == '"' ]]; then
            quoted=$((1 - quoted))
            in_field=1
        elif [[ $quoted == 0 && ( $c == ' ' || $c == $'\t' ) ]]; then
            ((in_field)) && fields+=("$field")
            field=""
            in_field=0
        else
            field+=$c
            in_field=1
        fi
    done
    ((in_field)) && fields+=("$field")
    return 0
}

# Refuses a corpus whose paths could reach outside the fresh tmpfs mounts.
check_paths_confined() { # DIR
    local f fields polydir prefix method
    for f in "$1"/namespace.conf "$1"/namespace.d/*.conf; do
        [[ -f $f ]] || continue
        while IFS= read -r line; do
            line=${line%%#*}
            [[ $line =~ [^[:space:]] ]] || continue
            split_fields "$line"
            polydir=${fields[0]}
            prefix=${fields[1]:-}
            method=${fields[2]:-}
            for p in "$polydir" "$prefix"; do
                [[ $p == "$prefix" && $method == tmpfs* ]] && continue
                case $p in
                    /tmp | /tmp/* | /var/tmp | /var/tmp/* | /home/* | /root/* | '$HOME' | '$HOME/'*) ;;
                    *) fail "$f: path [$p] is outside /tmp, /var/tmp, /home and \$HOME" ;;
                esac
            done
        done <"$f"
    done
}

expand_for_user() { # TEXT USER
    local text=$1 user=$2 home
    home=$(getent passwd "$user" | cut -d: -f6)
    text=${text//'$HOME'/$home}
    text=${text//'$USER'/$user}
    printf '%s' "$text"
}

make_dirs() { # CORPUS_FILE USERS...
    local file=$1 spec mode owner path user
    shift
    while IFS= read -r spec; do
        [[ -n $spec ]] || continue
        read -r mode owner path <<<"$spec"
        path=${path#\"}
        path=${path%\"}
        if [[ $path == *'$'* || $owner == *'$'* ]]; then
            for user in "$@"; do
                make_one_dir "$mode" "$(expand_for_user "$owner" "$user")" \
                    "$(expand_for_user "$path" "$user")"
            done
        else
            make_one_dir "$mode" "$owner" "$path"
        fi
    done < <(directive "$file" mkdir)
}

make_one_dir() { # MODE OWNER:GROUP PATH
    case $3 in
        /tmp/* | /var/tmp/* | /home/* | /root/*) ;;
        *) fail "mkdir directive outside the fresh tmpfs mounts: $3" ;;
    esac
    mkdir -p -- "$3"
    chown -- "$2" "$3"
    chmod -- "$1" "$3"
}

install_init_scripts() {
    local script
    for script in /etc/security/namespace.init /etc/security/namespace.d/other.init; do
        cat >"$script" <<EOF
#!/bin/sh
echo "$(basename "$script") \$*" >> $WORK/init.log
EOF
        chown root:root "$script"
        chmod 0755 "$script"
    done
}

# ------------------------------------------------------------ fresh world
fresh_world() {
    local d user home
    mount -t tmpfs -o mode=1777 parity /tmp
    mount -t tmpfs -o mode=1777 parity /var/tmp
    mount -t tmpfs -o mode=0755 parity /home
    mount -t tmpfs -o mode=0700 parity /root
    for user in "${ALL_USERS[@]}"; do
        home=$(getent passwd "$user" | cut -d: -f6)
        [[ $home == /root ]] && continue
        install -d -o "$(id -u "$user")" -g "$(id -g "$user")" -m 0755 "$home"
    done
}

drop_world() {
    local d
    for d in /root /home /var/tmp /tmp; do umount -l "$d"; done
}

# ------------------------------------------------------------ one module run
# run_module CORPUS_FILE LABEL [WORLD] → $WORK/result.LABEL (one block per session)
# LABEL linux-pam* runs pam_namespace.so, anything else pam_polyns.so.
# WORLD: fresh (default: a new world, dropped after), open (a new world, kept
# for the next run), continue (the kept world, dropped after).
run_module() {
    local file=$1 label=$2 world=${3:-fresh} module args=() user i=0 status out
    read -ra args <<<"$(directive "$file" args | tr '\n' ' ')"
    if [[ $label == linux-pam* ]]; then
        module=$LINUX_PAM_MODULE
    else
        module=$POLYNS_MODULE
        args=(instance_mode=mirror "${args[@]}")
    fi
    printf 'session required %s %s\n' "$module" "${args[*]}" | write_pam_service "$SERVICE"
    printf 'session required %s %s unmnt_remnt\n' "$module" "${args[*]}" | write_pam_service "$SERVICE-su"
    local su_user probe_cmd
    su_user=$(directive "$file" su)

    local confdir=$WORK/conf
    rm -rf "$confdir"
    write_config_files "$file" "$confdir"
    check_paths_confined "$confdir"
    cp "$confdir/namespace.conf" /etc/security/namespace.conf
    rm -f /etc/security/namespace.d/*.conf /etc/security/namespace.init /etc/security/namespace.d/other.init
    cp "$confdir"/namespace.d/*.conf /etc/security/namespace.d/ 2>/dev/null || true
    chmod 0644 /etc/security/namespace.conf /etc/security/namespace.d/*.conf 2>/dev/null || true
    [[ $(directive "$file" init) == log ]] && install_init_scripts

    local users=()
    read -ra users <<<"$(directive "$file" users | tr '\n' ' ')"
    ((${#users[@]})) || users=(alice bob)
    local names=()
    for user in "${users[@]}"; do names+=("$(user_name "$user")"); done

    if [[ $world != continue ]]; then
        fresh_world
        make_dirs "$file" "${names[@]}"
    fi
    cat /proc/self/mountinfo >"$WORK/outer.mountinfo"
    : >"$WORK/init.log"
    : >"$WORK/result.$label"
    syslog_clear
    for user in "${names[@]}"; do
        i=$((i + 1))
        status=0
        probe_cmd=(bash "$PARITY_DIR/probe.sh" "$WORK/outer.mountinfo")
        if [[ -n $su_user ]]; then
            # su/runuser inside the session: a nested session with unmnt_remnt.
            probe_cmd=("$POLYNS_PAM_SESSION" "$SERVICE-su" "$(user_name "$su_user")" -- "${probe_cmd[@]}")
        fi
        out=$(pam_session "$SERVICE" "$user" -- "${probe_cmd[@]}" 2>"$WORK/stderr.$label.$i") || status=$?
        {
            echo "session $i $(short_name "$user")"
            if ((status == 2)); then
                echo "  open failed"
            elif ((status != 0)); then
                echo "  error $status: $(tr '\n' ' ' <"$WORK/stderr.$label.$i")"
            else
                normalize "$file" <<<"$out" | { grep -v -e $'\tprotect\t' -e '^$' || true; } | sed 's/^/  /' | sort
            fi
            if [[ -s $WORK/init.log ]]; then
                normalize "$file" <"$WORK/init.log" | sed 's/^/  init: /'
                : >"$WORK/init.log"
            fi
        } >>"$WORK/result.$label"
    done
    cp "$POLYNS_SYSLOG_FILE" "$WORK/syslog.$label"
    if [[ -n ${PARITY_DEBUG:-} ]]; then cat "$WORK/result.$label" "$WORK/syslog.$label"; fi
    [[ $world == open ]] || drop_world
}

# Replaces what is random (tmpdir names) and what is too long to read.
normalize() { # CORPUS_FILE < lines
    local sedargs=(-E) prefix
    while read -r prefix; do
        [[ -n $prefix ]] || continue
        sedargs+=(-e "s#${prefix}[A-Za-z0-9]{6}#${prefix}XXXXXX#g")
    done < <(directive "$1" normalize | sed -n 's/^tmpdir[[:space:]]\{1,\}//p')
    sedargs+=(-e "s#$LONG100#LONG100#g" -e "s#$LONG81#LONG81#g" -e "s#$LONG80#LONG80#g")
    sed "${sedargs[@]}"
}

# Linux-PAM 1.7 and Debian's 1.5.2-6+deb12u3 call namespace.init with two
# more arguments ($5 polydir path safe, $6 instance path safe) than 1.5.2
# did. The init lines are compared on as many arguments as polyns passed;
# what the reference passed beyond them is recorded.
# (Arguments are counted as words: the first four may hold blanks, the same
# in both modules' lines; the extra ones are flags, 0 or 1.)
init_words() { # RESULT_FILE: words in the first init line, or nothing
    awk '$1 == "init:" { print NF; exit }' "$1"
}
init_args_drop_last() { # K < result lines: init lines without their last K words
    sed -E "/^  init: /s/( [^ ]*){$1}\$//"
}

# ------------------------------------------------------------ main loop
mismatches=0
known=0
migration_mismatches=0
known_migration=0
known_bugs=0
fresh_matches=0
table=()
shopt -s nullglob
corpus=("$PARITY_DIR"/$pattern.conf)
((${#corpus[@]})) || fail "no corpus file matches $pattern"
for file in "${corpus[@]}"; do
    name=$(basename "$file" .conf)
    run_module "$file" linux-pam
    run_module "$file" polyns
    # Migration: pam_polyns.so takes over the instances pam_namespace.so made.
    run_module "$file" linux-pam-first open
    run_module "$file" polyns-after continue
    expected_diff=$(directive "$file" known-difference)
    known_bug=$(directive "$file" known-bug)
    # polyns is compared with what the reference did when its results were
    # recorded (parity/expected/), not with whatever version runs today: a
    # reference that changed is reported, polyns is held to the record.
    recorded=$PARITY_DIR/expected/$name.txt
    if [[ -n ${PARITY_RECORD:-} ]]; then
        { echo "# $name: pam_namespace.so's sessions, recorded from $REFERENCE_VERSION by PARITY_RECORD=1 parity.sh"
          cat "$WORK/result.linux-pam"; } >"$recorded"
    fi
    [[ -f $recorded ]] || fail "no recorded reference result $recorded (PARITY_RECORD=1 parity.sh $name writes it)"
    grep -v '^# ' "$recorded" >"$WORK/result.recorded"
    recorded_from=$(sed -n '1s/.*recorded from \(.*\) by .*/\1/p' "$recorded")
    if cmp -s "$WORK/result.linux-pam" "$WORK/result.recorded"; then
        reference_now=as-recorded
    else
        reference_now=changed
        echo "---- $name: the reference's sessions differ from the record ($recorded_from)"
        diff -u --label "recorded ($recorded_from)" --label "reference now ($REFERENCE_VERSION)" \
            "$WORK/result.recorded" "$WORK/result.linux-pam" || true
    fi
    reference_seen "$name: the reference's sessions against parity/expected/$name.txt" "$reference_now" \
        "as-recorded|recorded from $recorded_from"
    px_words=$(init_words "$WORK/result.polyns")
    lp_words=$(init_words "$WORK/result.recorded")
    if [[ -n $px_words && -n $lp_words ]] && ((lp_words > px_words)); then
        reference_seen "$name: extra arguments of namespace.init beyond polyns's ($(awk '$1 == "init:" { sub(/^ +/, ""); print; exit }' "$WORK/result.recorded"))" \
            "$((lp_words - px_words))" '2|Linux-PAM 1.7, Debian 1.5.2-6+deb12u3: $5 polydir safe, $6 instance safe'
        init_args_drop_last "$((lp_words - px_words))" <"$WORK/result.recorded" >"$WORK/result.recorded.cut"
        mv "$WORK/result.recorded.cut" "$WORK/result.recorded"
    fi
    # Compare session by session, so the table says which user differs.
    nsessions=$(grep -c '^session ' "$WORK/result.recorded")
    file_differs=0
    for ((s = 1; s <= nsessions; s++)); do
        lp=$(awk -v s="$s" '/^session /{n++} n==s' "$WORK/result.recorded")
        pp=$(awk -v s="$s" '/^session /{n++} n==s' "$WORK/result.polyns")
        # After pam_namespace.so's sessions (today's reference, which made
        # the instances) compare the mounts only (the init scripts' "new
        # instance" argument differs).
        lp_now=$(awk -v s="$s" '/^session /{n++} n==s' "$WORK/result.linux-pam" | grep -v '^  init: ')
        mp=$(awk -v s="$s" '/^session /{n++} n==s' "$WORK/result.polyns-after" | grep -v '^  init: ')
        if [[ $mp == "$lp_now" ]]; then
            migration=match
        elif [[ -n $expected_diff ]]; then
            migration=known-difference
            known_migration=$((known_migration + 1))
        elif [[ -n $known_bug ]]; then
            migration=KNOWN-BUG
            known_bugs=$((known_bugs + 1))
            known_migration=$((known_migration + 1))
        elif [[ $reference_now == changed ]]; then
            # Instances made by a reference that changed: recorded above.
            migration=ref-changed
            known_migration=$((known_migration + 1))
            echo "---- $name, session $s: pam_polyns.so after today's pam_namespace.so differs (the reference changed)"
            diff -u --label linux-pam --label polyns-after <(echo "$lp_now") <(echo "$mp") || true
        else
            migration=MISMATCH
            migration_mismatches=$((migration_mismatches + 1))
            echo "---- $name, session $s: pam_polyns.so after pam_namespace.so differs"
            diff -u --label linux-pam --label polyns-after <(echo "$lp_now") <(echo "$mp") || true
            echo "  syslog (polyns after linux-pam):"; sed 's/^/    /' "$WORK/syslog.polyns-after"
        fi
        who=$(head -1 <<<"$lp" | cut -d' ' -f3)
        summary=$(tail -n +2 <<<"$lp" | awk -F'\t' '
            { sub(/^ +/, "", $1) }
            NF < 2 { out = out (out == "" ? "" : "; ") $1; next }
            { out = out (out == "" ? "" : "; ") $1 "<-" ($2 == "bind" ? $3 : $2) }
            END { print out }')
        [[ -n $summary ]] || summary="(no mounts)"
        if [[ $lp == "$pp" ]]; then
            verdict=match
            fresh_matches=$((fresh_matches + 1))
        elif [[ -n $expected_diff ]]; then
            verdict=known-difference
            known=$((known + 1))
            file_differs=1
        elif [[ -n $known_bug ]]; then
            verdict=KNOWN-BUG
            known_bugs=$((known_bugs + 1))
            file_differs=1
        else
            verdict=MISMATCH
            mismatches=$((mismatches + 1))
        fi
        table+=("$(printf '%-30s %-3s %-8s %-16s %-16s %s' "$name" "$s" "$who" "$verdict" "$migration" "$summary")")
        if [[ $verdict != match ]]; then
            echo "---- $name, session $s ($who): $verdict ${expected_diff:+($expected_diff)}${known_bug:+($known_bug)}"
            diff -u --label "linux-pam (recorded)" --label polyns <(echo "$lp") <(echo "$pp") || true
            if [[ $verdict == MISMATCH ]]; then
                echo "  syslog (linux-pam):"; sed 's/^/    /' "$WORK/syslog.linux-pam"
                echo "  syslog (polyns):"; sed 's/^/    /' "$WORK/syslog.polyns"
            fi
        fi
    done
    if [[ -n $known_bug ]] && ((file_differs == 0)); then
        echo "NOTE: $name: the known bug is no longer seen; remove its #@ known-bug line"
    fi
    if [[ -n $expected_diff ]] && ((file_differs == 0)); then
        # Against the record only polyns can have changed.
        echo "---- $name declares a known difference, but polyns behaved as the recorded reference"
        table+=("$(printf '%-30s %-3s %-8s %s' "$name" - - "DECLARED DIFFERENCE NOT SEEN")")
        mismatches=$((mismatches + 1))
    fi
done

echo
echo "Parity results: corpus file, session, user, fresh (each module alone), migration"
echo "(pam_polyns.so after pam_namespace.so in the same world), Linux-PAM's mounts:"
printf '%s\n' "${table[@]}"
echo
reference_summary
echo "${#table[@]} sessions from ${#corpus[@]} corpus files: $fresh_matches match, $known known differences, $mismatches mismatches"
echo "migration: $((${#table[@]} - migration_mismatches - known_migration)) match, $known_migration known differences or bugs, $migration_mismatches mismatches"
((known_bugs == 0)) || echo "KNOWN BUGS: $known_bugs comparisons differ because of reported polyns bugs (see the KNOWN-BUG rows)"
((mismatches == 0)) || fail "$mismatches sessions differ between pam_namespace.so and pam_polyns.so instance_mode=mirror"
((migration_mismatches == 0)) ||
    fail "$migration_mismatches sessions differ when pam_polyns.so takes over pam_namespace.so's instances"
pass "pam_polyns.so instance_mode=mirror matches pam_namespace.so on ${#corpus[@]} corpus files"
