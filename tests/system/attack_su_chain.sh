#!/bin/bash
# Issue 6, catalogue entry 16: su chains. alice's session (driver), then
# real `su bob` (unmnt_remnt in su's stack: alice's instances are undone in
# su's new namespace before bob's are mounted), then `su alice` from there,
# 100 rounds; and one chain alice → bob → alice → ... 20 deep. At every
# level /tmp and /var/tmp are that user's own instance, exactly one
# polyinstantiation is stacked on each (never the previous user's under or
# over it), the number of mounts is the same in every round (nothing piles
# up), nothing is created in another user's instance, and afterwards no
# mount is left here or on the host and nothing changed outside the two
# users' instances.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
print_versions util-linux
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
source "$(dirname "$0")/lib/asan_preload.sh"
source "$(dirname "$0")/lib/su_stack.sh"
require_module
add_standard_users
make_template /tmp/user_tmpl
make_template /var/tmp/user_tmpl
write_conf <<'EOF'
/tmp     /tmp/user_tmpl/     user root
/var/tmp /var/tmp/user_tmpl/ user root
EOF
write_login_service
# bob's `su alice` needs no password here (pam_permit): this throwaway
# world has no passwords, and the chain is about sessions, not auth.
write_su_services pam_permit.so su su-l

# The instances exist before the chain (first sessions create them).
pam_session polyns-login alice -- true
pam_session polyns-login bob -- true
declare -A tmp_ino vartmp_ino
for u in alice bob; do
    tmp_ino[$u]=$(stat -c %i /tmp/user_tmpl/$u)
    vartmp_ino[$u]=$(stat -c %i /var/tmp/user_tmpl/$u)
done

# probe LABEL: "LABEL user tmp-inode vartmp-inode mounts-on-/tmp
# mounts-on-/var/tmp all-mounts" for the calling context.
probe=$POLYNS_TEST_ROOT/probe.sh
cat >"$probe" <<'EOF'
#!/bin/sh
echo "$1 $(id -un) $(stat -c %i /tmp) $(stat -c %i /var/tmp) $(grep -c ' /tmp ' /proc/self/mountinfo) $(grep -c ' /var/tmp ' /proc/self/mountinfo) $(wc -l </proc/self/mountinfo)"
EOF
chmod 0755 "$probe"

# check OUTPUT: every probe line shows its user's own instances, one
# polyinstantiation on each polydir (2 mounts: the harness's tmpfs + one),
# and the same mount count at each level across rounds.
check() {
    local what=$1 out=$2
    printf '%s\n' "$out" | awk -v at="$((${tmp_ino[alice]}))" -v av="$((${vartmp_ino[alice]}))" \
        -v bt="$((${tmp_ino[bob]}))" -v bv="$((${vartmp_ino[bob]}))" -v what="$what" '
        NF != 7 { next }
        {
            n++
            want_t = $2 == "bob" ? bt : at; want_v = $2 == "bob" ? bv : av  # root: inside alice session
            if ($3 != want_t || $4 != want_v) { print what ": " $1 " as " $2 " sees the wrong /tmp or /var/tmp: " $0; bad = 1 }
            if ($5 != 2 || $6 != 2) { print what ": " $1 " has stacked mounts: " $0; bad = 1 }
            if (!($1 in total)) total[$1] = $7
            else if (total[$1] != $7) { print what ": " $1 " mount count changed: " total[$1] " -> " $7; bad = 1 }
        }
        END { print what ": " n " probes"; exit bad }'
}

before=$(tree_snapshot)
mounts=$(mount_table)
host_before=$(host_mount_points)
syslog_clear

# ------------------------------------------------ 100 rounds, depth 2
# The sanitizer run (every process of the chain then loads ASan's runtime,
# ~4x slower) looks for memory errors, not for piling up: 20 rounds there.
rounds=${POLYNS_TEST_PRELOAD:+20}
rounds=${rounds:-100}
start=$SECONDS
# The chains run through asan_preload_exec: in the sanitizer run, bob's and
# alice's setuid su get ASan's runtime from /etc/ld.so.preload (in a nested
# namespace only; lib/asan_preload.sh); otherwise it is pam_session.
out=$(asan_preload_exec "$POLYNS_PAM_SESSION" polyns-login alice -- bash -c "
    for round in \$(seq $rounds); do
        su alice -c '$probe su-alice'
        su bob -c '$probe su-bob; echo x >/tmp/bob-was-here; su alice -c \"$probe su-bob-su-alice; echo x >/tmp/alice-was-here\"'
        $probe back-in-alice
    done" 2>&1) || fail "16. the chain failed: $(tail -5 <<<"$out")"
echo "$rounds rounds (alice → su bob → su alice) in $((SECONDS - start))s"
check "16. rounds" "$out" || fail "16. a level saw the wrong instance or stacked mounts"
assert_eq "$(grep -c '^su-bob-su-alice alice' <<<"$out")" "$rounds" "16. su alice ran in every round"
pass "16. $rounds rounds: each /tmp and /var/tmp right, mount counts stable, nothing stacked"

# ----------------------------------------------------- one chain 20 deep
chain_script=$POLYNS_TEST_ROOT/attack-su-chain.sh  # attack-*: not in the snapshots
cat >"$chain_script" <<EOF
#!/bin/sh
# chain.sh DEPTH: probe, then su to the other user and go one deeper.
$probe depth-\$1
[ "\$1" -lt 20 ] || exit 0
next=\$(if [ \$((\$1 % 2)) = 0 ]; then echo bob; else echo alice; fi)
exec su "\$next" -c "$chain_script \$((\$1 + 1))"
EOF
chmod 0755 "$chain_script"
out=$(asan_preload_exec "$POLYNS_PAM_SESSION" polyns-login alice -- "$chain_script" 0 2>&1) || fail "16. the deep chain failed: $out"
check "16. deep chain" "$out" || fail "16. a level of the deep chain saw the wrong instance or stacked mounts"
assert_eq "$(grep -c '^depth-' <<<"$out")" 21 "16. all 21 levels ran"
# Every level has a namespace of its own with one polyinstantiation: the
# total mount count does not grow with depth.
assert_eq "$(awk '{print $7}' <<<"$out" | sort -u | wc -l)" 1 "16. the mount count is the same at every depth"
pass "16. a 20-deep alternating su chain: no stacking"

# ------------------------------------------------------- afterwards
assert_eq "$(mount_table)" "$mounts" "16. no mount left in the harness namespace"
assert_eq "$(host_mount_points)" "$host_before" "16. the host's mount table is unchanged"
assert_eq "$(ls /tmp/user_tmpl/alice) $(ls /tmp/user_tmpl/bob)" "alice-was-here bob-was-here" \
    "16. each user's files landed in their own instance only"
changes=$(tree_changes "$before" | grep -Ev '^\+ /tmp/user_tmpl/(alice/alice|bob/bob)-was-here ' || true)
assert_eq "$changes" "" "16. nothing else created, chowned, chmodded or deleted"
syslog_settle
assert_eq "$(polyns_log err)" "" "16. no LOG_ERR line"
