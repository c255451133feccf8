# shellcheck shell=bash
# The admin procedure of seed 002 (A3-A7), typed as printed, with real ssh
# logins, printing a terminal-like transcript as evidence. Used by
# tests/system/seed_procedure.sh and reusable by the demo.
#
# Needs harness.sh and sshd.sh sourced and harness_enter done. Then:
#   seed_a3_templates                # the six mkdir/chown/chmod commands
#   seed_a5_namespace_conf           # the two namespace.conf lines, verbatim
#   seed_a6_pam_stack "$POLYNS_MODULE"  # the session line in the sshd stack
#   sshd_authorize alice bob; sshd_start
#   seed_a7_verify alice bob         # logins, checks (pass/fail), transcript
#
# Transcript lines: "root# CMD" is the admin on the host (the harness's
# namespace), "alice$ CMD" runs inside alice's ssh session; the command's
# output follows, unindented, as a terminal would show it.

# seed_step TITLE: a section header in the transcript.
seed_step() { printf '\n=== %s\n' "$*"; }

# seed_root CMD: the admin types CMD on the host; echo it, run it. Like at
# a terminal, a failing command is shown, not fatal: the checks decide.
seed_root() {
    printf 'root# %s\n' "$1"
    eval "$1" 2>&1 || true
}

# seed_login USER CMD...: one ssh login as USER running each CMD in turn in
# its login shell, each echoed after a "USER$ " prompt. The transcript goes
# to stdout and into SEED_OUT. A command's failure does not end the session
# (the transcript shows it); a failed login fails the test.
SEED_OUT=
seed_login() {
    local user=$1 script='' cmd status=0
    shift
    for cmd in "$@"; do
        # %q quoting is plain backslash escaping for these commands: dash
        # (the users' /bin/sh) reads it the same way.
        script+="printf '%s\\n' $(printf %q "$user\$ $cmd"); { $cmd; } 2>&1; "
    done
    script+="exit 0"
    printf -- '--- ssh %s@127.0.0.1 (port %s): login as %s\n' "$user" "$SSHD_PORT" "$user"
    SEED_OUT=$(ssh_run "$user" "$script" 2>&1) || status=$?
    printf '%s\n' "$SEED_OUT"
    printf -- '--- logout %s\n' "$user"
    ((status == 0)) || fail "ssh login as $user failed (status $status): $SEED_OUT"
}

# A3. CREATE TEMPLATE DIRECTORIES: the six commands, in the seed's order.
seed_a3_templates() {
    seed_step "A3. CREATE TEMPLATE DIRECTORIES"
    seed_root "mkdir -p /tmp/user_tmpl"
    seed_root "mkdir -p /var/tmp/user_tmpl"
    seed_root "chown root:root /tmp/user_tmpl"
    seed_root "chown root:root /var/tmp/user_tmpl"
    seed_root "chmod 0755 /tmp/user_tmpl"
    seed_root "chmod 0755 /var/tmp/user_tmpl"
    seed_root "ls -ld /tmp/user_tmpl /var/tmp/user_tmpl"
}

# A5. CONFIGURE /etc/security/namespace.conf: "Minimal, correct
# configuration", byte for byte as the seed prints it.
SEED_A5_LINES='/tmp     /tmp/user_tmpl/%{UID}     level:level,root
/var/tmp /var/tmp/user_tmpl/%{UID} level:level,root'
seed_a5_namespace_conf() {
    seed_step "A5. CONFIGURE /etc/security/namespace.conf"
    printf '%s\n' "$SEED_A5_LINES" >/etc/security/namespace.conf
    chmod 0644 /etc/security/namespace.conf
    seed_root "cat /etc/security/namespace.conf"
}

# A6. ENABLE THE MODULE IN THE PAM STACK. The seed edits system-auth and
# password-auth (Red Hat); on Debian sshd's stack is the one a login runs.
# "session required pam_namespace.so" becomes the drop-in successor, placed
# as the seed says: after pam_limits.so (no pam_systemd here: no logind).
seed_a6_pam_stack() { # MODULE [ARGS...]
    seed_step "A6. ENABLE THE MODULE IN THE PAM STACK (/etc/pam.d/sshd)"
    sshd_write_pam_stack "session  required pam_limits.so" "session  required $*"
    seed_root "grep -v '^#' /etc/pam.d/sshd"
}

# A7. VERIFICATION (DO NOT SKIP), with USER and OTHER as the two non-root
# users. Checks every expectation the seed states; pass/fail per check.
seed_a7_verify() { # USER OTHER
    local user=$1 other=$2 uid other_uid host_lines session_lines dir entry
    uid=$(id -u "$user")
    other_uid=$(id -u "$other")

    seed_step "A4. before any login: no per-user directories yet (created automatically)"
    seed_root "ls -la /tmp/user_tmpl /var/tmp/user_tmpl"
    [[ -z $(find /tmp/user_tmpl /var/tmp/user_tmpl -mindepth 1) ]] || fail "templates are not empty before the first login"
    pass "no instance exists before the first login"

    seed_step "A7.1-2. Login as a non-root user ($user); A7.3 create a temp file"
    seed_root 'mount | grep " /tmp "'
    host_lines=$(mount | grep -c " /tmp " || true)
    seed_login "$user" \
        'id' \
        'mount | grep " /tmp "' \
        'mount | grep " /var/tmp "' \
        'findmnt -rn -o TARGET,SOURCE /tmp' \
        'findmnt -rn -o TARGET,SOURCE /var/tmp' \
        'touch /tmp/testfile' \
        'ls -l /tmp/testfile' \
        'ls -ld /tmp' \
        'ls -ld /var/tmp'
    local out=$SEED_OUT
    session_lines=$(grep -c " on /tmp type " <<<"$out" || true)
    ((session_lines > host_lines)) ||
        fail "A7.2: mount | grep \" /tmp \" shows no bind mount in $user's session ($session_lines line(s), host $host_lines)"
    pass "A7.2: mount | grep \" /tmp \" in $user's session shows the session's bind mount ($session_lines lines; the host shows $host_lines)"
    assert_contains "$out" "/tmp $(findmnt -n -o SOURCE /tmp)[/user_tmpl/$uid]" \
        "A7.2: /tmp in $user's session is /tmp/user_tmpl/$uid bind-mounted"
    assert_contains "$out" "/var/tmp $(findmnt -n -o SOURCE /var/tmp)[/user_tmpl/$uid]" \
        "A7.2: /var/tmp in $user's session is /var/tmp/user_tmpl/$uid bind-mounted"
    grep -qE "^-[rw-]{9} 1 $user $(id -gn "$user") +0 .* /tmp/testfile$" <<<"$out" ||
        fail "A7.3: touch /tmp/testfile did not create $user's file"
    pass "A7.3: $user created /tmp/testfile"
    grep -qE "^d[rwxt-]{9}.* /tmp$" <<<"$out" || fail "A7.4: ls -ld /tmp inside the namespace does not show /tmp"
    pass "A7.4: inside the namespace ls -ld /tmp shows the normal path"

    seed_step "A7.3. Log in as a DIFFERENT user ($other): the file should NOT exist"
    seed_login "$other" \
        'id' \
        'ls -l /tmp/testfile' \
        'ls -la /tmp'
    assert_contains "$SEED_OUT" "ls: cannot access '/tmp/testfile': No such file or directory" \
        "A7.3: /tmp/testfile does not exist for $other"

    seed_step "A7 (host side). The file is in $user's instance only, not in the host's /tmp"
    seed_root "ls -l /tmp/testfile"
    [[ ! -e /tmp/testfile ]] || fail "/tmp/testfile is visible in the host's /tmp"
    pass "the host's /tmp does not show $user's file"

    seed_step "A4. Verify after login: per-user directories, owned by the user, mode 0700"
    seed_root "ls -ld /tmp/user_tmpl/*"
    seed_root "ls -ld /var/tmp/user_tmpl/*"
    seed_root "ls -l /tmp/user_tmpl/$uid"
    for dir in /tmp/user_tmpl /var/tmp/user_tmpl; do
        for entry in "$dir/$uid:$user" "$dir/$other_uid:$other"; do
            local path=${entry%%:*} owner=${entry##*:}
            [[ -d $path && ! -L $path ]] || fail "A4: $path was not created"
            assert_eq "$(stat -c '%A %U %G' "$path")" "drwx------ $owner $(id -gn "$owner")" \
                "A4: $path is drwx------ $owner:$(id -gn "$owner")"
        done
        assert_eq "$(find "$dir" -mindepth 1 -maxdepth 1 | wc -l)" 2 "A4: $dir holds exactly the two users' instances"
    done
    assert_eq "$(stat -c '%A %U %G' /tmp/user_tmpl)" "drwxr-xr-x root root" "A3: /tmp/user_tmpl is still root:root 0755"
    assert_eq "$(stat -c '%A %U %G' /var/tmp/user_tmpl)" "drwxr-xr-x root root" "A3: /var/tmp/user_tmpl is still root:root 0755"
    [[ -f /tmp/user_tmpl/$uid/testfile ]] || fail "$user's testfile is not in /tmp/user_tmpl/$uid"
    pass "$user's /tmp/testfile lives in /tmp/user_tmpl/$uid"
}

# seed_module_log: what the module told syslog during the logins (the A8
# audit trail: one line per session naming the user and each polydir's
# instance, plus notices such as the level method falling back to user).
seed_module_log() { # USER... (whose session lines must have arrived)
    local user
    seed_step "A8. What pam_polyns logged (syslog)"
    for user in "$@"; do
        wait_for_syslog "pam_polyns.*session for $user " 5 || fail "no session line for $user in syslog"
    done
    syslog_lines 'pam_polyns' | sed -E 's/^<[0-9]+>//'
    for user in "$@"; do
        local uid
        uid=$(id -u "$user")
        assert_contains "$(syslog_lines 'pam_polyns')" \
            "session for $user (service sshd): /tmp -> /tmp/user_tmpl/$uid, /var/tmp -> /var/tmp/user_tmpl/$uid" \
            "syslog names $user's instances"
    done
}
