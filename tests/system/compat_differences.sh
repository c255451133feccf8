#!/bin/bash
# One check per deliberate difference between pam_polyns.so and Linux-PAM
# 1.5.2's pam_namespace.so listed in COMPATIBILITY.md. Each check runs the
# situation through both modules where that makes sense (Debian's
# pam_namespace.so and our build, in a fresh world of new tmpfs over /tmp,
# /var/tmp, /home and /root). It asserts polyns's documented outcome and
# records what the reference did (lp_eq, lp_contains: lib/reference.sh), so
# a distribution update that fixes a bug of pam_namespace.so shows up as a
# "REFERENCE NEW" line and in the summary, never as a failure; config-language
# differences also assert what `polyns check` says.
#
# Usage: compat_differences.sh [CHECK_NAME...]   (default: every check)
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/reference.sh"
require_module
require_cli
require_pam_session

PROBE=$POLYNS_SOURCE_DIR/tests/system/parity/probe.sh
WORK=$POLYNS_TEST_ROOT/compat
mkdir -p "$WORK"
reference_start "$WORK"

add_group devs 2100
add_user alice 1001
add_user bob 1002
add_user carol 1003 devs
rm -f /etc/security/namespace.init /etc/security/namespace.d/*

# ------------------------------------------------------------------ helpers
# lp ARGS / px ARGS: the PAM services compat-lp (pam_namespace.so) and
# compat-px (pam_polyns.so) with these module arguments.
lp() { printf 'session required %s %s\n' "$LINUX_PAM_MODULE" "$*" | write_pam_service compat-lp; }
px() { printf 'session required %s %s\n' "$POLYNS_MODULE" "$*" | write_pam_service compat-px; }

# What the reference does, recorded (lib/reference.sh): lp_eq ACTUAL DOCUMENTED
# MSG [VALUE|SINCE...] and lp_contains / lp_not_contains HAYSTACK NEEDLE MSG
# read like assert_eq and friends, but never fail. DOCUMENTED is what
# COMPATIBILITY.md says Debian's 1.5.2 does (deb12u2, and still deb12u3 unless
# an extra VALUE|SINCE says otherwise).
LP_DOC=$REFERENCE_DOC
lp_eq() { reference_seen "$3" "$1" "$2|$LP_DOC" "${@:4}"; }
lp_contains() { reference_seen "$3" "$(yes_if_contains "$1" "$2")" "yes|$LP_DOC"; }
lp_not_contains() { reference_seen "$3" "$(yes_unless_contains "$1" "$2")" "yes|$LP_DOC"; }

fresh_world() {
    mount -t tmpfs -o mode=1777 compat /tmp
    mount -t tmpfs -o mode=1777 compat /var/tmp
    mount -t tmpfs -o mode=0755 compat /home
    mount -t tmpfs -o mode=0700 compat /root
    local user
    for user in alice bob carol; do install -d -o "$user" -g "$user" -m 0755 "/home/$user"; done
    rm -f /etc/security/namespace.init /etc/security/namespace.d/* /etc/security/alt.conf
    chmod 0644 /etc/security/namespace.conf 2>/dev/null || true
    chown root:root /etc/security/namespace.conf 2>/dev/null || true
}

drop_world() {
    local d
    for d in /root /home /var/tmp /tmp; do umount -l "$d"; done
}

dir() { # MODE OWNER:GROUP PATH
    mkdir -p -- "$3"
    chown -- "$2" "$3"
    chmod -- "$1" "$3"
}

# mounts SERVICE USER [DRIVER_OPTIONS...]: the probe's lines for a session
# (polydir, kind, instance, owner:group:mode, flags, tmpfs options) in mount
# order, without pam_namespace.so's protective self-binds; "open failed" if it
# did not open.
mounts() {
    local service=$1 user=$2 status=0 out
    shift 2
    cat /proc/self/mountinfo >"$WORK/outer.mountinfo"
    out=$(pam_session "$@" "$service" "$user" -- bash "$PROBE" "$WORK/outer.mountinfo" \
        2>"$WORK/stderr") || status=$?
    if ((status == OPEN_FAILED)); then
        echo "open failed"
    elif ((status != 0)) && [[ $service == compat-lp* ]]; then
        echo "exit status $status"
    elif ((status != 0)); then
        cat "$WORK/stderr" >&2
        fail "session of $user through $service: exit status $status"
    else
        printf '%s\n' "$out" | awk -F'\t' '$2 != "protect" && NF > 1'
    fi
}

# from SERVICE USER POLYDIR [DRIVER_OPTIONS...]: where POLYDIR is mounted from
# in USER's session: the instance path, "tmpfs", "not polyinstantiated" or
# "open failed".
from() {
    local service=$1 user=$2 polydir=$3 out
    shift 3
    out=$(mounts "$service" "$user" "$@")
    if [[ $out == "open failed" || $out == "exit status "* ]]; then
        echo "$out"
        return
    fi
    out=$(awk -F'\t' -v p="$polydir" '$1 == p { r = ($2 == "bind" ? $3 : $2) } END { print r }' <<<"$out")
    echo "${out:-not polyinstantiated}"
}

# field SERVICE USER POLYDIR N: field N of the probe's line for POLYDIR
# (4 = owner:group:mode, 5 = mount flags).
field() {
    local out
    out=$(mounts "$1" "$2")
    [[ $out != "open failed" && $out != "exit status "* ]] || { echo "$out"; return; }
    awk -F'\t' -v p="$3" -v n="$4" '$1 == p { r = $n } END { print r }' <<<"$out"
}

check_output() { # CONFIG_TEXT: what `polyns check` says about it (any exit status)
    printf '%s\n' "$1" >"$WORK/check.conf"
    chmod 0644 "$WORK/check.conf"
    "$POLYNS_CLI" check --config "$WORK/check.conf" 2>&1 || true
}

module_log() { # the module lines the syslog sink got since the last syslog_clear
    syslog_settle
    syslog_lines | grep -v polyns-test-settle || true
}

# ------------------------------------------------------------------ checks
# Every check_NAME below is one row of COMPATIBILITY.md; NAME is the test name
# given there.

check_flags-exact-match() {
    write_conf <<<'/var/tmp/area /var/tmp/inst/ user:createXYZ'
    dir 000 root:root /var/tmp/inst
    lp
    lp_eq "$(from compat-lp alice /var/tmp/area)" /var/tmp/inst/alice \
        "pam_namespace.so reads createXYZ as create: the polydir is created and polyinstantiated"
    rm -rf /var/tmp/area /var/tmp/inst/alice
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /var/tmp/area)" "open failed" \
        "polyns ignores the unknown flag createXYZ: the polydir is missing, the session fails"
    assert_contains "$(check_output '/var/tmp/area /var/tmp/inst/ user:createXYZ')" \
        "flags are matched exactly: did you mean \`create\`?" "polyns check explains it"
}

check_unknown-flag-warning() {
    write_conf <<<'/tmp /tmp/inst/ user:bogus'
    dir 000 root:root /tmp/inst
    lp
    syslog_clear
    lp_eq "$(from compat-lp alice /tmp)" /tmp/inst/alice "pam_namespace.so: session opens"
    lp_not_contains "$(module_log)" bogus "pam_namespace.so ignores the unknown flag silently"
    px instance_mode=mirror
    syslog_clear
    assert_eq "$(from compat-px alice /tmp)" /tmp/inst/alice "polyns: session opens too"
    assert_contains "$(module_log)" "unknown flag 'bogus'" "polyns logs a warning naming the flag"
    assert_contains "$(check_output '/tmp /tmp/inst/ user:bogus')" "warning: unknown flag 'bogus'" \
        "polyns check reports it as a warning with a hint"
}

check_percent-expansions() {
    write_conf <<<'/tmp /tmp/user_tmpl/%{UID} user'
    dir 000 root:root /tmp/user_tmpl
    lp
    lp_eq "$(from compat-lp alice /tmp)" "/tmp/user_tmpl/%{UID}alice" \
        "pam_namespace.so: %{UID} is literal text, the user name is appended"
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /tmp)" /tmp/user_tmpl/1001 \
        "polyns: %{UID} is the uid and names the instance (the seed's A5 line)"

    write_conf <<<'%{HOME}/work %{HOME}/.inst/%{USER} user'
    dir 0755 alice:alice /home/alice/work
    dir 000 root:root /home/alice/.inst
    lp_eq "$(from compat-lp alice /home/alice/work)" "open failed" \
        "pam_namespace.so: %{HOME} is not expanded, the polydir is not absolute, the session fails"
    assert_eq "$(from compat-px alice /home/alice/work)" /home/alice/.inst/alice \
        "polyns: %{HOME} and %{USER} are expanded"
}

check_explicit-instance-form() {
    write_conf <<<'/tmp /tmp/inst/$USER user'
    dir 000 root:root /tmp/inst
    lp
    lp_eq "$(from compat-lp alice /tmp)" /tmp/inst/alicealice \
        "pam_namespace.so appends the user name to the prefix /tmp/inst/alice"
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /tmp)" /tmp/inst/alice \
        "polyns: a prefix whose last component holds \$USER names the instance itself"
}

check_unknown-percent-variable() {
    write_conf <<<'/tmp /tmp/inst/%{FOO}/ user'
    dir 000 root:root /tmp/inst
    lp
    lp_eq "$(from compat-lp alice /tmp)" "/tmp/inst/%{FOO}/alice" \
        "pam_namespace.so: %{FOO} is a directory name like any other"
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /tmp)" "open failed" "polyns: an unknown %{...} fails the session"
    assert_contains "$(check_output '/tmp /tmp/inst/%{FOO}/ user')" "error: unknown expansion '%{FOO}'" \
        "polyns check names the unknown expansion"
}

check_create-mode-octal() {
    write_conf <<<'/var/tmp/area /var/tmp/inst/ user:create=700'
    dir 000 root:root /var/tmp/inst
    lp
    from compat-lp alice /var/tmp/area >/dev/null
    lp_eq "$(stat -c %a /var/tmp/area 2>/dev/null || echo missing)" 1274 \
        "pam_namespace.so reads create=700 as decimal (01274)"
    rm -rf /var/tmp/area /var/tmp/inst/alice
    px instance_mode=mirror
    from compat-px alice /var/tmp/area >/dev/null
    assert_eq "$(stat -c %a /var/tmp/area)" 700 "polyns reads create=700 as octal"
    assert_contains "$(check_output '/var/tmp/area /var/tmp/inst/ user:create=700')" \
        "has no leading 0" "polyns check warns about the missing leading 0"
}

check_fifth-field-error() {
    write_conf <<<'/tmp /tmp/inst/ user root, alice'
    dir 000 root:root /tmp/inst
    lp
    lp_eq "$(from compat-lp alice /tmp)" /tmp/inst/alice \
        "pam_namespace.so ignores the 5th field: alice, meant to be excluded, is polyinstantiated"
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /tmp)" "open failed" "polyns refuses the line: the session fails"
    assert_contains "$(check_output '/tmp /tmp/inst/ user root, alice')" "unexpected 5th field 'alice'" \
        "polyns check shows the 5th field"
}

check_user-list-strict() {
    dir 000 root:root /tmp/inst
    lp
    px instance_mode=mirror
    write_conf <<<'/tmp /tmp/inst/ user root,,alice'
    lp_eq "$(from compat-lp alice /tmp)" "not polyinstantiated" \
        "pam_namespace.so skips the empty entry (alice excluded)"
    assert_eq "$(from compat-px alice /tmp)" "open failed" "polyns refuses an empty entry"
    assert_contains "$(check_output '/tmp /tmp/inst/ user root,,alice')" "empty entry in user list" \
        "polyns check names the empty entry"
    write_conf <<<'/tmp /tmp/inst/ user ~'
    lp_eq "$(from compat-lp alice /tmp)" "not polyinstantiated" \
        "pam_namespace.so: '~' alone applies the line to nobody"
    assert_eq "$(from compat-px alice /tmp)" "open failed" "polyns refuses '~' without users"
    assert_contains "$(check_output '/tmp /tmp/inst/ user ~')" "'~' without users" \
        "polyns check explains '~' alone"
}

check_group-and-uid-selectors() {
    write_conf <<'EOF'
/tmp      /tmp/inst/      user  @devs,1002
/var/tmp  /var/tmp/inst/  user  ~1001-1002
EOF
    dir 000 root:root /tmp/inst
    dir 000 root:root /var/tmp/inst
    lp
    px instance_mode=mirror
    local user
    for user in alice bob carol; do
        lp_eq "$(from compat-lp "$user" /tmp)" "/tmp/inst/$user" \
            "pam_namespace.so: @devs and 1002 are unknown user names, $user's /tmp is polyinstantiated"
        lp_eq "$(from compat-lp "$user" /var/tmp)" "not polyinstantiated" \
            "pam_namespace.so: ~1001-1002 lists no known user, $user's /var/tmp is left alone"
    done
    assert_eq "$(from compat-px alice /tmp)" /tmp/inst/alice "polyns: alice is neither in devs nor uid 1002"
    assert_eq "$(from compat-px bob /tmp)" "not polyinstantiated" "polyns: uid 1002 (bob) is excluded"
    assert_eq "$(from compat-px carol /tmp)" "not polyinstantiated" "polyns: carol is in @devs, excluded"
    assert_eq "$(from compat-px alice /var/tmp)" /var/tmp/inst/alice "polyns: uid 1001 is in ~1001-1002"
    assert_eq "$(from compat-px bob /var/tmp)" /var/tmp/inst/bob "polyns: uid 1002 is in ~1001-1002"
    assert_eq "$(from compat-px carol /var/tmp)" "not polyinstantiated" "polyns: uid 1003 is not"
}

check_create-names-resolved-per-user() {
    write_conf <<<'/var/tmp/area /var/tmp/inst/ user:create=0700,nosuchuser alice'
    dir 000 root:root /var/tmp/inst
    lp
    px instance_mode=mirror
    lp_eq "$(from compat-lp alice /var/tmp/area)" "open failed" \
        "pam_namespace.so: the unknown create= owner fails every session, alice's too (she is excluded)"
    assert_eq "$(from compat-px alice /var/tmp/area)" "not polyinstantiated" \
        "polyns: alice is excluded from the line, its create= owner is never looked up"
    assert_eq "$(from compat-px bob /var/tmp/area)" "open failed" "polyns: bob's session needs it and fails"
}

check_repeated-slashes() {
    write_conf <<<'/tmp /tmp/inst// user'
    dir 000 root:root /tmp/inst
    lp
    reference_seen "pam_namespace.so with the instance prefix /tmp/inst//" "$(from compat-lp alice /tmp)" \
        "open failed|cannot open the instance parent /tmp/inst/: Debian 1.5.2-6+deb12u2" \
        "/tmp/inst/alice|normalised as polyns does: Debian 1.5.2-6+deb12u3"
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /tmp)" /tmp/inst/alice "polyns normalises the path to /tmp/inst/alice"
}

check_config-trust() {
    write_conf <<<'/tmp /tmp/inst/ user'
    dir 000 root:root /tmp/inst
    lp
    px instance_mode=mirror
    chmod 0664 /etc/security/namespace.conf
    lp_eq "$(from compat-lp alice /tmp)" /tmp/inst/alice \
        "pam_namespace.so reads a group-writable namespace.conf"
    syslog_clear
    assert_eq "$(from compat-px alice /tmp)" "open failed" "polyns refuses a group-writable namespace.conf"
    assert_contains "$(module_log)" /etc/security/namespace.conf "polyns's log names the file"
    chmod 0644 /etc/security/namespace.conf
    chown alice /etc/security/namespace.conf
    lp_eq "$(from compat-lp bob /tmp)" /tmp/inst/bob "pam_namespace.so reads a namespace.conf owned by alice"
    assert_eq "$(from compat-px bob /tmp)" "open failed" "polyns refuses a namespace.conf not owned by root"
    chown root /etc/security/namespace.conf
}

check_unknown-module-option() {
    write_conf <<<'/tmp /tmp/inst/ user'
    dir 000 root:root /tmp/inst
    lp bogus_option
    syslog_clear
    lp_eq "$(from compat-lp alice /tmp)" /tmp/inst/alice "pam_namespace.so: session opens"
    lp_not_contains "$(module_log)" bogus_option "pam_namespace.so ignores unknown options silently"
    px instance_mode=mirror bogus_option
    syslog_clear
    assert_eq "$(from compat-px alice /tmp)" /tmp/inst/alice "polyns: session opens"
    assert_contains "$(module_log)" bogus_option "polyns logs the unknown option"
}

check_polyns-only-options() {
    write_conf <<<'/tmp /tmp/inst/ user'
    printf '/var/tmp /var/tmp/inst/ user\n' >/etc/security/alt.conf
    chmod 0644 /etc/security/alt.conf
    dir 000 root:root /tmp/inst
    dir 000 root:root /var/tmp/inst
    local options="conf=/etc/security/alt.conf instance_mode=mirror init_timeout=5"
    lp "$options"
    lp_eq "$(from compat-lp alice /tmp)" /tmp/inst/alice "pam_namespace.so ignores conf=: namespace.conf is used"
    lp_eq "$(from compat-lp alice /var/tmp)" "not polyinstantiated" "pam_namespace.so does not read alt.conf"
    px "$options"
    assert_eq "$(from compat-px alice /var/tmp)" /var/tmp/inst/alice "polyns reads exactly the conf= file"
    assert_eq "$(from compat-px alice /tmp)" "not polyinstantiated" "polyns does not read namespace.conf with conf="
}

check_default-instance-private() {
    write_conf <<<'/tmp /tmp/inst/ user'
    dir 000 root:root /tmp/inst
    lp
    lp_eq "$(field compat-lp alice /tmp 4)" root:root:1777 \
        "pam_namespace.so: the instance mirrors /tmp (root:root 1777)"
    rm -rf /tmp/inst/alice
    px
    assert_eq "$(field compat-px alice /tmp 4)" alice:alice:700 \
        "polyns by default: the user's, primary group, 0700 (the seed's A4)"
    rm -rf /tmp/inst/alice
    px instance_mode=mirror
    assert_eq "$(field compat-px alice /tmp 4)" root:root:1777 "polyns instance_mode=mirror: as Linux-PAM"
}

check_template-0755-accepted() {
    write_conf <<<'/tmp /tmp/user_tmpl/ user'
    dir 0755 root:root /tmp/user_tmpl
    lp
    lp_eq "$(from compat-lp alice /tmp)" "open failed" \
        "pam_namespace.so refuses a 0755 instance parent without ignore_instance_parent_mode"
    px
    assert_eq "$(from compat-px alice /tmp)" /tmp/user_tmpl/alice "polyns accepts a root-owned 0755 template"
}

check_ignore-parent-mode-checks-owner() {
    write_conf <<<'/tmp /var/tmp/inst/ user'
    dir 0755 alice:alice /var/tmp/inst
    lp ignore_instance_parent_mode
    lp_eq "$(from compat-lp bob /tmp)" /var/tmp/inst/bob \
        "pam_namespace.so with ignore_instance_parent_mode accepts a template owned by alice"
    rm -rf /var/tmp/inst/bob
    px instance_mode=mirror ignore_instance_parent_mode
    syslog_clear
    assert_eq "$(from compat-px bob /tmp)" "open failed" "polyns still requires a root-owned template"
    assert_contains "$(module_log)" "not root" "polyns's log says the template is not root's"
}

check_existing-instance-checked() {
    write_conf <<<'/tmp /tmp/inst/ user'
    dir 000 root:root /tmp/inst
    dir 0700 bob:bob /tmp/inst/alice
    lp
    lp_eq "$(field compat-lp alice /tmp 4)" bob:bob:700 \
        "pam_namespace.so mounts an existing instance whoever owns it (alice gets bob's directory)"
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /tmp)" "open failed" \
        "polyns refuses an existing instance with another owner or mode"
    px
    assert_eq "$(from compat-px alice /tmp)" "open failed" "in the default instance mode too"
}

check_missing-template-created() {
    write_conf <<<'/tmp /var/tmp/ns/tmp-inst/ user'
    dir 0755 root:root /var/tmp/ns
    lp
    lp_eq "$(from compat-lp alice /tmp)" /var/tmp/ns/tmp-inst/alice \
        "pam_namespace.so creates the missing instance parent"
    lp_eq "$(stat -c %U:%a /var/tmp/ns/tmp-inst 2>/dev/null || echo missing)" root:0 \
        "pam_namespace.so creates it with mode 000"
    rm -rf /var/tmp/ns/tmp-inst
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /tmp)" /var/tmp/ns/tmp-inst/alice "polyns creates it too"
    assert_eq "$(stat -c %U:%G:%a /var/tmp/ns/tmp-inst)" root:root:0 "root:root, mode 000"
    # Only the last component, as pam_namespace.so: a missing parent fails.
    write_conf <<<'/tmp /var/tmp/nothing/tmp-inst/ user'
    syslog_clear
    assert_eq "$(from compat-px alice /tmp)" "open failed" "polyns does not create a missing template parent"
    assert_contains "$(module_log)" "mkdir -p -m 0755 /var/tmp/nothing" "its log says what to create"
}

check_paths-pinned-before-mount() {
    write_conf <<'EOF'
/tmp      /tmp/inst/a-  user
/var/tmp  /tmp/inst/b-  user
EOF
    dir 000 root:root /tmp/inst
    lp
    lp_eq "$(from compat-lp alice /var/tmp)" /tmp/inst/a-alice/inst/b-alice \
        "pam_namespace.so resolves the second template inside alice's new /tmp (and creates it there)"
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /var/tmp)" /tmp/inst/b-alice \
        "polyns pins every template before the first mount"
}

check_overlapping-polydirs() {
    write_conf <<'EOF'
/var/tmp      /var/tmp/inst/  user
/var/tmp/sub  /home/sub-inst/ user:create
EOF
    dir 000 root:root /var/tmp/inst
    dir 000 root:root /home/sub-inst
    lp
    px instance_mode=mirror
    lp_eq "$(from compat-lp alice /var/tmp/sub)" /home/sub-inst/alice \
        "pam_namespace.so creates /var/tmp/sub inside alice's /var/tmp instance and mounts on it"
    syslog_clear
    assert_eq "$(from compat-px alice /var/tmp/sub)" "open failed" "polyns refuses a polydir inside a polydir"
    assert_contains "$(module_log)" "lies inside polydir /var/tmp" "its log says which"

    write_conf <<'EOF'
/tmp  /var/tmp/inst/a-  user
/tmp  /var/tmp/inst/b-  user
EOF
    lp_eq "$(from compat-lp alice /tmp)" /var/tmp/inst/b-alice \
        "pam_namespace.so mounts both lines' instances on /tmp, the last one on top"
    assert_eq "$(from compat-px alice /tmp)" /var/tmp/inst/a-alice \
        "polyns: the first rule for a polydir wins, later ones are skipped (polyns plan says so)"
    assert_contains "$("$POLYNS_CLI" plan alice)" "polydir already planned by" "polyns plan shows the skipped rule"
}

check_polydir-is-template-refused() {
    write_conf <<<'/tmp /tmp/ user'
    lp ignore_instance_parent_mode
    px instance_mode=mirror ignore_instance_parent_mode
    lp_eq "$(from compat-lp alice /tmp)" /tmp/alice \
        "pam_namespace.so keeps instances directly in the polydir (/tmp/alice, visible to all)"
    syslog_clear
    assert_eq "$(from compat-px alice /tmp)" "open failed" "polyns refuses a polydir that is its own template"
    assert_contains "$(module_log)" "its own instance parent" "its log says why"
}

check_no-protect-mounts() {
    write_conf <<<'$HOME $HOME/$USER.inst/inst- user'
    dir 000 root:root /home/alice/alice.inst
    lp
    px instance_mode=mirror
    local lp_all px_all
    cat /proc/self/mountinfo >"$WORK/outer.mountinfo"
    lp_all=$(pam_session compat-lp alice -- bash "$PROBE" "$WORK/outer.mountinfo") || lp_all="exit status $?"
    lp_contains "$lp_all" $'/home/alice/alice.inst\tprotect' \
        "pam_namespace.so bind-mounts the instance parent below alice's home over itself"
    px_all=$(pam_session compat-px alice -- bash "$PROBE" "$WORK/outer.mountinfo")
    assert_not_contains "$px_all" protect "polyns adds no mount besides the instance (it holds fds instead)"
    assert_eq "$(from compat-px alice /home/alice)" /home/alice/alice.inst/inst-alice "polyns: same instance"
}

check_tmpdir-removed-at-close() {
    write_conf <<<'/tmp /var/tmp/tmpdirs/ tmpdir'
    dir 000 root:root /var/tmp/tmpdirs
    lp
    from compat-lp alice /tmp >/dev/null
    lp_eq "$(find /var/tmp/tmpdirs -mindepth 1 -maxdepth 1 | wc -l)" 1 \
        "pam_namespace.so leaves the tmpdir instance behind at close (without unmount_on_close)"
    rm -rf /var/tmp/tmpdirs/*
    px instance_mode=mirror
    from compat-px alice /tmp >/dev/null
    assert_eq "$(find /var/tmp/tmpdirs -mindepth 1 -maxdepth 1 | wc -l)" 0 \
        "polyns removes the tmpdir instance at close"
}

check_tmpfs-defaults() {
    write_conf <<'EOF'
/tmp      tmpfs  tmpfs
/var/tmp  tmpfs  tmpfs:mntopts=size=1M
EOF
    lp
    local lp_out px_out
    lp_out=$(mounts compat-lp alice)
    lp_eq "$(awk -F'\t' '$1 == "/tmp" { print $5 " " $6 }' <<<"$lp_out")" "- -" \
        "pam_namespace.so mounts a tmpfs without mntopts with no flags and the kernel's half of RAM"
    lp_eq "$(awk -F'\t' '$1 == "/var/tmp" { print $5 " " $6 }' <<<"$lp_out")" "- size=1024k" \
        "pam_namespace.so: mntopts=size=1M gives that size and nothing else"
    px instance_mode=mirror
    px_out=$(mounts compat-px alice)
    assert_eq "$(awk -F'\t' '$1 == "/tmp" { print $5 }' <<<"$px_out")" "nosuid,nodev" "polyns: nosuid,nodev by default"
    assert_contains "$(awk -F'\t' '$1 == "/tmp" { print $6 }' <<<"$px_out")" "nr_inodes=409600" \
        "polyns: nr_inodes=400k by default"
    assert_not_contains "$(awk -F'\t' '$1 == "/tmp" { print $6 }' <<<"$px_out")" "-" "polyns: a size by default"
    assert_eq "$(awk -F'\t' '$1 == "/var/tmp" { print $5 " " $6 }' <<<"$px_out")" "nosuid,nodev size=1024k,nr_inodes=409600" \
        "polyns: the rule's size, the default inode limit and flags"
    assert_contains "$(check_output '/tmp tmpfs tmpfs')" "warning: tmpfs without size=" "polyns check warns"
}

check_init-script-environment() {
    write_conf <<<'/tmp /tmp/inst/ user'
    dir 000 root:root /tmp/inst
    cat >/etc/security/namespace.init <<EOF
#!/bin/sh
stdout=\$(readlink /proc/\$\$/fd/1)
{
  echo "environ=[\$(tr '\\0' ' ' < /proc/\$\$/environ)]"
  echo "stdout=\$stdout"
  echo "pgid-is-own=\$( [ "\$(cut -d' ' -f5 /proc/\$\$/stat)" = "\$\$" ] && echo yes || echo no)"
} > $WORK/init.env
EOF
    chmod 0755 /etc/security/namespace.init
    lp
    from compat-lp alice /tmp >/dev/null
    local env_lp env_px
    env_lp=$(cat "$WORK/init.env" 2>/dev/null || echo "the init script did not run")
    lp_contains "$env_lp" "environ=[]" "pam_namespace.so runs the init script with an empty environment"
    lp_not_contains "$env_lp" "stdout=/dev/null" "pam_namespace.so passes the caller's stdout on"
    lp_contains "$env_lp" "pgid-is-own=no" "pam_namespace.so keeps it in the caller's process group"
    rm -rf /tmp/inst/alice "$WORK/init.env"
    px instance_mode=mirror
    from compat-px alice /tmp >/dev/null
    env_px=$(cat "$WORK/init.env")
    assert_contains "$env_px" "environ=[PATH=/usr/sbin:/usr/bin:/sbin:/bin" \
        "polyns gives it a fixed minimal environment"
    assert_contains "$env_px" "stdout=/dev/null" "polyns puts fds 0-2 on /dev/null"
    assert_contains "$env_px" "pgid-is-own=yes" "polyns runs it in its own process group"
}

check_init-script-timeout() {
    write_conf <<<'/tmp /tmp/inst/ user'
    dir 000 root:root /tmp/inst
    printf '#!/bin/sh\nsleep 4\n' >/etc/security/namespace.init
    chmod 0755 /etc/security/namespace.init
    local start elapsed
    lp init_timeout=1
    start=$(date +%s)
    lp_eq "$(from compat-lp alice /tmp)" /tmp/inst/alice "pam_namespace.so waits for the script"
    elapsed=$(($(date +%s) - start))
    lp_eq "$( ((elapsed >= 4)) && echo yes || echo no)" yes \
        "pam_namespace.so returns only after the 4 s script ended (took ${elapsed}s)"
    rm -rf /tmp/inst/alice
    px instance_mode=mirror init_timeout=1
    start=$(date +%s)
    assert_eq "$(from compat-px alice /tmp)" "open failed" "polyns fails the session when the script times out"
    elapsed=$(($(date +%s) - start))
    ((elapsed < 4)) || fail "polyns took ${elapsed}s: the timeout did not stop the script"
    pass "polyns gave up after ${elapsed}s (init_timeout=1)"
}

check_shared-subtree-no-leak() {
    # A shared subtree while / is private: pam_namespace.so only makes the
    # session a slave when / itself is shared (or with mount_private). Twice:
    # below root-owned directories only (/run/polyns-test), and below /var/tmp,
    # where pam_namespace.so since Debian's -6+deb12u3 (CVE-2025-6020 fix)
    # bind-mounts the path over itself first ("protect" mounts) and the
    # session's mounts land on those.
    local base documented
    for base in /run/polyns-test/shared /var/tmp/shared; do
        mkdir -p "$base"
        mount -t tmpfs -o mode=0755 shared "$base"
        mount --make-shared "$base"
        dir 0755 root:root "$base/poly"
        dir 000 root:root "$base/inst"
        write_conf <<<"$base/poly $base/inst/ user"
        lp
        from compat-lp alice "$base/poly" >/dev/null
        if [[ $base == /var/tmp/* ]]; then
            documented=("yes|Debian 1.5.2-6+deb12u2" "no|Debian 1.5.2-6+deb12u3: no leak below a world-writable directory")
        else
            documented=("yes|$LP_DOC")
        fi
        reference_seen "pam_namespace.so: the session's mount on $base/poly propagated back into the opener's namespace" \
            "$(yes_if_contains "$(mount_table)" "$base/poly")" "${documented[@]}"
        while umount "$base/poly" 2>/dev/null; do :; done
        px instance_mode=mirror
        assert_eq "$(from compat-px alice "$base/poly")" "$base/inst/alice" "polyns: session opens ($base)"
        assert_not_contains "$(mount_table)" "$base/poly" \
            "polyns: nothing flows back (the session's tree is a slave; $base)"
        rm -rf "$base/inst/alice"
        umount -l "$base"
    done
}

check_unmnt-remnt-by-mount-table() {
    # runuser/su started by root inside alice's session: PAM_RUSER is not set,
    # so pam_namespace.so takes the invoking user from getuid(): root.
    write_conf <<'EOF'
/tmp      /tmp/inst/      user  root
/var/tmp  /var/tmp/inst/  user
EOF
    dir 000 root:root /tmp/inst
    dir 000 root:root /var/tmp/inst
    lp
    printf 'session required %s unmnt_remnt\n' "$LINUX_PAM_MODULE" | write_pam_service compat-lp-su
    px instance_mode=mirror
    printf 'session required %s instance_mode=mirror unmnt_remnt\n' "$POLYNS_MODULE" | write_pam_service compat-px-su
    local nested out
    cat /proc/self/mountinfo >"$WORK/outer.mountinfo"
    nested=("$POLYNS_PAM_SESSION" compat-lp-su root -- bash "$PROBE" "$WORK/outer.mountinfo")
    out=$(pam_session compat-lp alice -- "${nested[@]}") || out="exit status $?"
    lp_contains $'\n'"$out" $'\n/tmp\tbind\t/tmp/inst/alice' \
        "pam_namespace.so: root (excluded) keeps alice's /tmp, since the invoking user root is excluded too"
    nested=("$POLYNS_PAM_SESSION" compat-px-su root -- bash "$PROBE" "$WORK/outer.mountinfo")
    out=$(pam_session compat-px alice -- "${nested[@]}")
    assert_not_contains $'\n'"$out" $'\n/tmp\t' "polyns: root sees the real /tmp (alice's instance was detached)"
    assert_contains "$out" $'/var/tmp\tbind\t/var/tmp/inst/root' "both: root's own /var/tmp instance"
}

check_nested-session-detaches-outer() {
    # su - bob / runuser -l bob started by root inside alice's session, with
    # the module line an admin has everywhere (no unmnt_remnt).
    write_conf <<<'/tmp /tmp/inst/ user root'
    dir 000 root:root /tmp/inst
    lp
    px instance_mode=mirror
    local out
    out=$(pam_session compat-lp alice -- "$POLYNS_PAM_SESSION" compat-lp bob -- \
        bash -c 'grep " /tmp " /proc/self/mountinfo | tail -1 | cut -d" " -f4' 2>&1) || true
    echo "  (pam_namespace.so, nested without unmnt_remnt: bob's /tmp is mounted from [${out##*$'\n'}]$(
        [[ -e /tmp/inst/alice/inst ]] && echo ", and it created /tmp/inst inside alice's instance"))"
    rm -rf /tmp/inst/alice /tmp/inst/bob
    out=$(pam_session compat-px alice -- "$POLYNS_PAM_SESSION" compat-px bob -- bash -c "
        stat -c %i /tmp; grep -c ' /tmp ' /proc/self/mountinfo") || fail "polyns: nested session failed: $out"
    assert_eq "${out%%$'\n'*}" "$(stat -c %i /tmp/inst/bob)" \
        "polyns: bob's nested session has /tmp/inst/bob, found where the host has it"
    assert_eq "${out##*$'\n'}" "$(($(grep -c ' /tmp ' /proc/self/mountinfo) + 1))" \
        "polyns: alice's instance was detached first, not stacked under bob's"
    [[ ! -e /tmp/inst/alice/inst ]] || fail "polyns created something inside alice's instance"
}

check_multithreaded-caller-served() {
    write_conf <<<'/tmp /tmp/inst/ user'
    dir 000 root:root /tmp/inst
    lp
    lp_eq "$(from compat-lp alice /tmp --threads)" /tmp/inst/alice \
        "pam_namespace.so unshares in a multithreaded caller (only that thread moves)"
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /tmp --threads)" /tmp/inst/alice "polyns serves it the same way"
}

check_symlinks-followed-when-root-only() {
    write_conf <<<'/home/link /home/inst/ user'
    dir 0755 root:root /home/real
    ln -s real /home/link
    dir 000 root:root /home/inst
    lp
    lp_eq "$(from compat-lp alice /home/real)" /home/inst/alice \
        "pam_namespace.so follows a root-owned symlink in a root-owned directory"
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /home/real)" /home/inst/alice \
        "polyns too (root's link, every directory on the way root's and not group/other-writable)"
    # A link alice owns, in her home: pam_namespace.so follows it too.
    write_conf <<<'$HOME/link /home/inst/ user'
    dir 0755 alice:alice /home/alice/real
    ln -s real /home/alice/link
    chown -h alice:alice /home/alice/link
    lp
    echo "  (pam_namespace.so with alice's \$HOME/link -> real: $(from compat-lp alice /home/alice/real))"
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /home/alice/real)" "open failed" "polyns refuses a symlink a user owns or could have planted"
}

check_user-fuse-not-entered() {
    # alice's FUSE mount on her $HOME/tmp (fusermount3 with allow_other:
    # user_id=1001), served by tests/system/hung_fuse.cpp.
    local fuse=${POLYNS_HUNG_FUSE:-$POLYNS_BUILD_DIR/tests/system/polyns-hung-fuse} pid status
    [[ -c /dev/fuse ]] || mknod -m 0666 /dev/fuse c 10 229
    write_conf <<<'$HOME/tmp /home/inst/ user'
    dir 000 root:root /home/inst
    dir 0700 alice:alice /home/alice/tmp
    rm -f "$WORK/fuse-ready"
    "$fuse" --mount-uid 1001 --mount-gid 1001 --owner 1001:1001 --mode 0700 --answer \
        --ready "$WORK/fuse-ready" /home/alice/tmp </dev/null >/dev/null 2>&1 &
    pid=$!
    until [[ -e $WORK/fuse-ready ]]; do kill -0 "$pid" || fail "the FUSE daemon died"; sleep 0.01; done
    lp
    lp_eq "$(from compat-lp alice /home/alice/tmp)" /home/inst/alice \
        "pam_namespace.so walks into alice's FUSE mount and mounts over it"
    px instance_mode=mirror
    assert_eq "$(from compat-px alice /home/alice/tmp)" "open failed" "polyns does not enter a user's FUSE mount"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    umount -l /home/alice/tmp
    # The same daemon stopped answering: pam_namespace.so's login hangs.
    rm -f "$WORK/fuse-ready"
    "$fuse" --mount-uid 1001 --mount-gid 1001 --ready "$WORK/fuse-ready" /home/alice/tmp </dev/null >/dev/null 2>&1 &
    pid=$!
    until [[ -e $WORK/fuse-ready ]]; do kill -0 "$pid" || fail "the FUSE daemon died"; sleep 0.01; done
    status=$(timeout -s KILL 3 "$POLYNS_PAM_SESSION" compat-lp alice -- true >/dev/null 2>&1 || echo $?)
    lp_eq "$status" 137 "pam_namespace.so's session hangs on alice's hung FUSE mount (killed after 3 s)"
    status=0
    timeout -s KILL 10 "$POLYNS_PAM_SESSION" compat-px alice -- true >/dev/null 2>&1 || status=$?
    assert_eq "$status" "$OPEN_FAILED" "polyns refuses it at once"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    umount -l /home/alice/tmp
}

# ------------------------------------------------------------------ runner
all_checks=$(declare -F | awk '{ print $3 }' | sed -n 's/^check_//p' | grep -vx output)
checks=("$@")
((${#checks[@]})) || mapfile -t checks < <(declare -F | awk '$3 ~ /^check_/ && $3 != "check_output" { sub(/^check_/, "", $3); print $3 }')
# Keep the order of the file, not the alphabet.
ordered=()
while read -r name; do
    for c in "${checks[@]}"; do [[ $c == "$name" ]] && ordered+=("$name"); done
done < <(grep -o '^check_[a-z0-9-]*()' "$0" | sed 's/^check_//; s/()$//' | grep -vx output)
for c in "${checks[@]}"; do
    grep -qx -- "$c" <<<"$all_checks" || fail "no such check: $c"
done

# COMPATIBILITY.md names every check as its test, and lists nothing else.
compat_doc=$POLYNS_SOURCE_DIR/COMPATIBILITY.md
while read -r name; do
    grep -qF -- "\`$name\`" "$compat_doc" || fail "check $name is not listed in COMPATIBILITY.md"
done <<<"$all_checks"
# Hyphenated names in backquotes are checks, apart from test names and the
# user x-y.
while read -r name; do
    case $name in parity-linux-pam | compat-differences | su-runuser | seed-procedure | nested-sessions | plain-chroot | threaded-callers | ostree-home | module-init-script-debian | x-y) continue ;; esac
    grep -qx -- "$name" <<<"$all_checks" || fail "COMPATIBILITY.md names a test $name that does not exist"
done < <(grep -o '`[a-z][a-z0-9]*\(-[a-z0-9]\+\)\+`' "$compat_doc" | tr -d '`' | sort -u)
pass "COMPATIBILITY.md lists all $(wc -l <<<"$all_checks") checks and no others"

failed=()
for name in "${ordered[@]}"; do
    echo "=== $name"
    set +e
    (
        set -e
        fresh_world
        REFERENCE_CHECK=$name
        "check_$name"
    )
    status=$?
    set -e
    drop_world
    ((status == 0)) || failed+=("$name")
done
echo
reference_summary
echo "${#ordered[@]} differences checked, ${#failed[@]} failed${failed:+: ${failed[*]}}"
((${#failed[@]} == 0)) || fail "differences not as documented: ${failed[*]}"
pass "every difference listed in COMPATIBILITY.md behaves as documented"
