# shellcheck shell=bash
# Hermetic OpenSSH server for the system tests and the demo.
#
# Source after harness.sh, call after harness_enter (we must already be in the
# throwaway mount namespace with tmpfs on /run/polyns-test and private /etc
# copies). Debian's /usr/sbin/sshd then runs on 127.0.0.1:<free port> with its
# own host key, its own config file and public-key logins only; PAM service
# "sshd" (sshd names its PAM service after its program name), so the test's
# write_pam_service sshd (or sshd_write_pam_stack) decides what a login runs.
#
#   sshd_write_pam_stack 'session required /abs/pam_polyns.so'   # or write_pam_service sshd
#   sshd_authorize alice bob          # the shared client key may log in as them
#   sshd_start                        # sets SSHD_PORT SSHD_PID SSHD_LOG
#   ssh_run alice 'id -un; stat -c %i /tmp'   # remote shell command; exit status is its
#   sshd_stop                         # also registered by sshd_start as an EXIT trap
#
# Nothing here touches the host: every file lives under /run/polyns-test/ssh,
# /run/sshd (sshd's compiled-in privilege-separation directory) is on the
# harness's private /run tmpfs, and the server only listens on 127.0.0.1.

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}
SSHD_DIR=/run/polyns-test/ssh
SSHD_CONFIG=$SSHD_DIR/sshd_config
SSHD_LOG=$SSHD_DIR/sshd.log
SSHD_CLIENT_KEY=$SSHD_DIR/client_ed25519
SSHD_PORT=
SSHD_PID=

_sshd_die() {
    if declare -F fail >/dev/null; then fail "sshd.sh: $*"; fi
    echo "sshd.sh: $*" >&2
    exit 1
}

# Is this process inside a mount namespace other than PID 1's? sshd_start
# refuses to run otherwise: it mounts on /run/sshd.
_sshd_in_private_ns() {
    [ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt 2>/dev/null)" ]
}

# Host key, client key, authorized_keys directory and the privilege-separation
# directory. Idempotent.
_sshd_prepare() {
    _sshd_in_private_ns || _sshd_die "refusing to run outside a private mount namespace (call harness_enter first)"
    mountpoint -q /run || mountpoint -q /run/polyns-test ||
        _sshd_die "/run/polyns-test is not on a private tmpfs (harness_enter provides one)"
    [ -x "$SSHD_BIN" ] || _sshd_die "$SSHD_BIN not installed (openssh-server)"

    # StrictModes: sshd reads authorized_keys with the user's uid and requires
    # every directory above it to be root- or user-owned and not group/other
    # writable; so the path must be searchable (0755), never 1777.
    chmod 0755 /run/polyns-test
    install -d -o root -g root -m 0755 "$SSHD_DIR" "$SSHD_DIR/authorized_keys"

    [ -f "$SSHD_DIR/host_ed25519_key" ] ||
        ssh-keygen -q -t ed25519 -N '' -C polyns-test-host -f "$SSHD_DIR/host_ed25519_key" ||
        _sshd_die "ssh-keygen (host key) failed"
    [ -f "$SSHD_CLIENT_KEY" ] ||
        ssh-keygen -q -t ed25519 -N '' -C polyns-test-client -f "$SSHD_CLIENT_KEY" ||
        _sshd_die "ssh-keygen (client key) failed"

    # sshd chroots its pre-auth child into /run/sshd (compiled in; no option):
    # it must exist, root-owned, not group/other-writable. The harness puts a
    # tmpfs on all of /run and creates it; without that tmpfs we refuse rather
    # than create a directory on the host.
    if ! mountpoint -q /run && ! mountpoint -q /run/sshd; then
        _sshd_die "/run is not a private tmpfs (harness_enter provides one)"
    fi
    [ -d /run/sshd ] || mkdir -m 0755 /run/sshd
    chown 0:0 /run/sshd
    chmod 0755 /run/sshd
}

# sshd_write_pam_stack SESSION_LINE...: /etc/pam.d/sshd (the private copy) with
# the given session lines. Logins are by key, so PAM auth is never consulted;
# pam_deny makes sure a password could never get anyone in. pam_unix account
# checks the shadow entry (test users have "*" passwords: not locked). No
# common-session: pam_systemd would try to reach logind.
sshd_write_pam_stack() {
    {
        echo "# hermetic sshd stack written by tests/system/lib/sshd.sh"
        echo "auth     required pam_deny.so"
        echo "account  required pam_unix.so"
        echo "password required pam_deny.so"
        local line
        for line in "$@"; do echo "$line"; done
    } >/etc/pam.d/sshd
}

# sshd_authorize USER...: the shared client key may log in as each USER. The
# file is root-owned 0644, one per user, outside the user's reach.
sshd_authorize() {
    _sshd_prepare
    local user
    for user in "$@"; do
        install -m 0644 -o root -g root "$SSHD_CLIENT_KEY.pub" "$SSHD_DIR/authorized_keys/$user" ||
            _sshd_die "cannot authorize $user"
    done
}

_sshd_write_config() {
    local port=$1
    cat >"$SSHD_CONFIG" <<EOF
# hermetic sshd written by tests/system/lib/sshd.sh
ListenAddress 127.0.0.1
Port $port
HostKey $SSHD_DIR/host_ed25519_key
PidFile $SSHD_DIR/sshd.pid
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PermitEmptyPasswords no
AuthorizedKeysFile $SSHD_DIR/authorized_keys/%u
StrictModes yes
# 20 parallel logins must not be dropped by the pre-auth throttle.
MaxStartups 200
LoginGraceTime 30
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitUserEnvironment no
LogLevel VERBOSE
EOF
}

# A TCP port on 127.0.0.1 nobody listens on right now. sshd_start retries on
# the (unlikely) race with another process binding it first.
_sshd_pick_port() {
    local used port tries=0
    used=$(ss -Hltn 2>/dev/null | awk '{print $4}' | sed 's/.*://' || true)
    while [ $tries -lt 100 ]; do
        port=$((20000 + RANDOM % 40000))
        if ! grep -qx "$port" <<<"$used"; then
            echo "$port"
            return 0
        fi
        tries=$((tries + 1))
    done
    return 1
}

# sshd_start: start the server in the foreground-mode background (-D -e), wait
# until it listens (bounded poll on its log), register sshd_stop on EXIT.
sshd_start() {
    _sshd_prepare
    [ -f /etc/pam.d/sshd ] || _sshd_die "no /etc/pam.d/sshd (write_pam_service sshd or sshd_write_pam_stack first)"
    local port i
    for _ in 1 2 3 4 5; do
        port=$(_sshd_pick_port) || _sshd_die "no free port found"
        _sshd_write_config "$port"
        "$SSHD_BIN" -t -f "$SSHD_CONFIG" 2>"$SSHD_LOG" || _sshd_die "sshd -t rejected the config: $(cat "$SSHD_LOG")"
        : >"$SSHD_LOG"
        "$SSHD_BIN" -D -e -f "$SSHD_CONFIG" </dev/null >>"$SSHD_LOG" 2>&1 &
        SSHD_PID=$!
        # Poll (<= 10 s) for "Server listening", or the server dying.
        for ((i = 0; i < 200; i++)); do
            if grep -q "Server listening on 127.0.0.1 port $port" "$SSHD_LOG"; then
                SSHD_PORT=$port
                printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$SSHD_DIR/host_ed25519_key.pub")" \
                    >"$SSHD_DIR/known_hosts"
                if declare -F harness_on_exit >/dev/null; then
                    harness_on_exit sshd_stop
                else
                    trap sshd_stop EXIT
                fi
                export SSHD_PORT SSHD_PID
                return 0
            fi
            kill -0 "$SSHD_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill "$SSHD_PID" 2>/dev/null || true
        wait "$SSHD_PID" 2>/dev/null || true
        SSHD_PID=
        grep -q "Bind to port $port" "$SSHD_LOG" || break # not a port race: give up
    done
    _sshd_die "sshd did not start: $(cat "$SSHD_LOG")"
}

# sshd_stop: terminate the listener and its per-connection children (those
# outlive the listener on their own).
sshd_stop() {
    [ -n "${SSHD_PID:-}" ] || return 0
    local children
    children=$(pgrep -P "$SSHD_PID" 2>/dev/null || true)
    # shellcheck disable=SC2086 # word splitting of the pid list is intended
    kill "$SSHD_PID" $children 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
    SSHD_PID=
}

# Client options: no config files of the host, our key only, our known_hosts
# only (strict: a wrong server is an error), no prompts, bounded connect.
SSH_CLIENT_OPTS=(-F /dev/null -T
    -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityFile="$SSHD_CLIENT_KEY"
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$SSHD_DIR/known_hosts"
    -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 -o LogLevel=ERROR)

# ssh_run USER 'SHELL COMMAND': one real login as USER running the command
# (through the user's login shell, as ssh does). Exit status: the command's,
# 255 if the login itself failed, 124 if it took over SSH_RUN_TIMEOUT seconds
# (default 60: a hung session must not hang the suite).
ssh_run() {
    [ -n "$SSHD_PORT" ] || _sshd_die "ssh_run before sshd_start"
    local user=$1
    shift
    timeout -k 5 "${SSH_RUN_TIMEOUT:-60}" ssh "${SSH_CLIENT_OPTS[@]}" -p "$SSHD_PORT" "$user@127.0.0.1" "$@"
}

# sshd_log_lines: what sshd printed so far (it logs to stderr with -e).
sshd_log_lines() { cat "$SSHD_LOG"; }
