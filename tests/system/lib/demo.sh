# shellcheck shell=bash
# The seed's procedure (A3 templates, A5 config, A6 session line, A7
# verification) with real PAM sessions, as a transcript an administrator can
# read. Source after harness.sh and call after harness_enter; used by
# tests/system/demo_session.sh (the README demo and the `demo-session` test).

DEMO_SERVICE=polyns-demo

_demo_section() { printf '\n== %s\n' "$*"; }

# _demo_run CMD...: echo the command like a root shell transcript, then run it.
_demo_run() {
    printf '# %s\n' "$*"
    "$@"
}

# What USER types inside the session: each command of the script shown with
# a "user$ " prompt, run as that user (the driver itself runs as root).
_demo_user_script() { # USER SCRIPT
    local user=$1 script=$2 group
    group=$(id -gn "$user")
    pam_session "$DEMO_SERVICE" "$user" -- \
        setpriv --reuid="$user" --regid="$group" --init-groups \
        env -i PATH=/usr/bin:/bin HOME="/home/$user" USER="$user" \
        sh -c "$script"
}

# Turns lines of shell into a transcript: "user$ line" then its output.
_demo_transcript() { # USER LINES
    local user=$1 lines=$2 script="" line quoted
    while IFS= read -r line; do
        [[ -z $line ]] && continue
        printf -v quoted '%q' "$user\$ $line"
        script+="echo $quoted; $line 2>&1 || true; "
    done <<<"$lines"
    printf '%s' "$script"
}

demo_step_a3_templates() {
    _demo_section "A3. Create template directories (as root)"
    _demo_run mkdir -p /tmp/user_tmpl
    _demo_run mkdir -p /var/tmp/user_tmpl
    _demo_run chown root:root /tmp/user_tmpl
    _demo_run chown root:root /var/tmp/user_tmpl
    _demo_run chmod 0755 /tmp/user_tmpl
    _demo_run chmod 0755 /var/tmp/user_tmpl
}

demo_step_a5_config() {
    _demo_section "A5. /etc/security/namespace.conf (the seed's lines, exactly)"
    cat >/etc/security/namespace.conf <<'EOF'
/tmp     /tmp/user_tmpl/%{UID}     level:level,root
/var/tmp /var/tmp/user_tmpl/%{UID} level:level,root
EOF
    chown root:root /etc/security/namespace.conf
    chmod 0644 /etc/security/namespace.conf
    _demo_run cat /etc/security/namespace.conf
}

demo_step_a6_pam() {
    _demo_section "A6. The session line in the PAM stack (service $DEMO_SERVICE)"
    write_pam_service "$DEMO_SERVICE" <<EOF
session required $POLYNS_MODULE
EOF
    _demo_run cat "/etc/pam.d/$DEMO_SERVICE"
    echo "(installed, the line reads: session required pam_polyns.so; here it names the build's module)"
}

demo_step_users() {
    _demo_section "Two users (in the demo's private copies of /etc/passwd, group, shadow)"
    add_user alice 1001
    add_user bob 1002
    getent passwd alice bob
}

# Returns 1 when the evidence is not what the seed's A7 promises.
demo_step_a7_verify() {
    local ok=0 alice_out bob_out listing
    _demo_section "A7. alice logs in (a PAM session through libpam: $DEMO_SERVICE)"
    alice_out=$(_demo_user_script alice "$(_demo_transcript alice '
id -un
mount | grep " /tmp "
mount | grep " /var/tmp "
findmnt -o TARGET,SOURCE,FSTYPE,OPTIONS /tmp
touch /tmp/testfile
ls -l /tmp/testfile
ls -ld /tmp /var/tmp
')") || ok=1
    printf '%s\n' "$alice_out"

    _demo_section "A7. bob logs in: alice's file must not exist"
    bob_out=$(_demo_user_script bob "$(_demo_transcript bob '
id -un
mount | grep " /tmp "
ls -l /tmp/testfile
ls -A /tmp
')") || ok=1
    printf '%s\n' "$bob_out"

    _demo_section "A4/A7. The instances (as root, outside any session)"
    listing=$(_demo_run ls -ld /tmp/user_tmpl/* /var/tmp/user_tmpl/* 2>&1) || ok=1
    printf '%s\n' "$listing"
    _demo_run ls -l /tmp/user_tmpl/1001/ || ok=1
    printf '# ls /tmp/testfile   (the shared /tmp)\n'
    if [[ -e /tmp/testfile ]]; then
        echo "/tmp/testfile EXISTS in the shared /tmp"
        ok=1
    else
        echo "ls: cannot access '/tmp/testfile': No such file or directory"
    fi

    _demo_section "What pam_polyns logged (syslog)"
    syslog_lines 'pam_polyns|polyns: ' | sed 's/^<[0-9]*>//'

    _demo_section "Verdict"
    [[ $alice_out == *" on /tmp "* ]] || { echo "alice's session shows no mount on /tmp"; ok=1; }
    [[ $alice_out == *"alice alice"*" /tmp/testfile"* && $alice_out != *"touch: "* ]] ||
        { echo "alice could not create /tmp/testfile"; ok=1; }
    [[ $bob_out == *"cannot access '/tmp/testfile': No such file"* ]] || { echo "bob can see alice's /tmp/testfile"; ok=1; }
    local user uid dir
    for user in alice bob; do
        uid=$(id -u "$user")
        for dir in /tmp/user_tmpl /var/tmp/user_tmpl; do
            [[ $(stat -c '%U:%G %a' "$dir/$uid" 2>&1) == "$user:$user 700" ]] ||
                { echo "$dir/$uid is not $user's 0700 directory"; ok=1; }
        done
    done
    if ((ok == 0)); then
        echo "OK: each user got a private /tmp and /var/tmp (0700, owned by the user);" \
            "alice's file is invisible to bob and to the shared /tmp."
    else
        echo "NOT OK: see above."
    fi
    return "$ok"
}

# The whole demo. Returns 1 when A7's evidence is missing.
demo_seed_sessions() {
    require_module
    require_pam_session
    _demo_section "Real PAM sessions, in a throwaway mount namespace"
    echo "Everything below runs in a private mount namespace with its own /tmp, /var/tmp,"
    echo "/home and copies of /etc/passwd, shadow, group, pam.d and security: the host is"
    echo "not changed. Sessions are opened through libpam (pam_start, pam_open_session)"
    echo "with pam_polyns.so, exactly as login or sshd would."
    demo_step_a3_templates
    demo_step_a5_config
    demo_step_a6_pam
    demo_step_users
    demo_step_a7_verify
}
