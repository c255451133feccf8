#!/bin/bash
# Every module option through real libpam: debug, unknown/invalid options,
# conf=, ignore_config_error, require_selinux, gen_hash,
# ignore_instance_parent_mode, instance_mode=, unmount_on_close,
# mount_private, use_current_context/use_default_context, init_timeout=.
# (unmnt_remnt/unmnt_only: mounts.sh; init scripts: init_script.sh.)
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
require_module
add_standard_users
make_template /var/tmp/inst
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF
mounts_before=$(mount_table)

# ------------------------------------------------------------- debug
use_module
syslog_clear
session alice true
syslog_settle
assert_eq "$(polyns_log debug)" "" "without debug: no LOG_DEBUG lines"
use_module debug
syslog_clear
session alice true
syslog_settle
debug_lines=$(polyns_log debug)
assert_contains "$debug_lines" "plan: /tmp -> /var/tmp/inst/alice" "debug: the plan is logged"
assert_contains "$debug_lines" "config file read: /etc/security/namespace.conf" "debug: the config files read are logged"
assert_eq "$(count_lines "$(polyns_log info)")" 1 "debug: still one LOG_INFO line"

# ------------------------------------------------ unknown and invalid options
use_module frobnicate unmount_on_closee init_timeout=soon
syslog_clear
session alice true
syslog_settle
warnings=$(polyns_log warning)
assert_contains "$warnings" "unknown option 'frobnicate' ignored" "unknown option: logged"
assert_contains "$warnings" "unknown option 'unmount_on_closee' ignored" "misspelt option: logged (exact match, no prefix match)"
assert_contains "$warnings" "init_timeout=soon" "invalid option value: logged"
assert_eq "$(count_lines "$warnings")" 3 "one LOG_WARNING line per bad option"
assert_eq "$(polyns_log err)" "" "bad options do not fail the session"

# ------------------------------------- use_current_context, use_default_context
use_module use_current_context use_default_context
syslog_clear
session alice true
syslog_settle
assert_not_contains "$(polyns_log warning)" "unknown option" "SELinux context options are known options"

# ------------------------------------------------------------- conf=
make_template /var/tmp/alt
cat >/etc/security/alt.conf <<'EOF'
/tmp /var/tmp/alt/ user
EOF
chmod 0644 /etc/security/alt.conf
use_module conf=/etc/security/alt.conf
session alice true
[[ -d /var/tmp/alt/alice ]] || fail "conf=: the alternative file's rule was not used"
pass "conf=: the alternative file's rule is used"
chmod 0666 /etc/security/alt.conf
syslog_clear
rc=0
session alice true || rc=$?
assert_eq "$rc" "$OPEN_FAILED" "conf=: a world-writable file is refused (PAM_SESSION_ERR)"
assert_one_error_line "alice" "alt.conf"
# ignore_config_error skips broken lines; it does not make a refused file "no rules".
use_module conf=/etc/security/alt.conf ignore_config_error
syslog_clear
rc=0
session alice true || rc=$?
assert_eq "$rc" "$OPEN_FAILED" "conf= + ignore_config_error: an untrusted file is still refused"
assert_one_error_line "alice" "alt.conf" "chmod go-w"
chmod 0644 /etc/security/alt.conf

# ------------------------------------------------- ignore_config_error
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
/var/tmp /var/tmp/inst/ bogusmethod
EOF
use_module
syslog_clear
rc=0
out=$(session alice sh -c 'echo INSIDE') || rc=$?
assert_eq "$rc" "$OPEN_FAILED" "config error: the session fails closed"
assert_not_contains "$out" INSIDE "config error: the command did not run"
assert_one_error_line "alice" "namespace.conf:2" "ignore_config_error"
assert_contains "$(polyns_log warning)" "bogusmethod" "config error: the diagnostic is logged"
use_module ignore_config_error
syslog_clear
out=$(session alice stat -c %U /tmp)
assert_eq "$out" alice "ignore_config_error: the good rule still applies"
syslog_settle
assert_contains "$(polyns_log warning)" "ignoring 1 configuration error" "ignore_config_error: a warning says errors were ignored"
assert_eq "$(polyns_log err)" "" "ignore_config_error: no LOG_ERR line"
write_conf <<'EOF'
/tmp /var/tmp/inst/ user
EOF

# ------------------------------------------------------ require_selinux
if [[ -e /sys/fs/selinux/enforce ]]; then
    echo "SELinux is enabled here: require_selinux failure case not testable"
else
    use_module require_selinux
    syslog_clear
    rc=0
    session alice true || rc=$?
    assert_eq "$rc" "$OPEN_FAILED" "require_selinux without SELinux: PAM_SESSION_ERR"
    assert_one_error_line "alice" "require_selinux"
fi

# ------------------------------------------------------------- gen_hash
use_module gen_hash
rm -rf /var/tmp/inst/*
session alice true
hash=$(printf '%s' alice | md5sum | cut -d' ' -f1)
[[ -d /var/tmp/inst/$hash ]] || fail "gen_hash: expected instance /var/tmp/inst/$hash (md5 of 'alice'), found: $(ls /var/tmp/inst)"
pass "gen_hash: instance named md5('alice') = $hash, as Linux-PAM names it"

# ---------------------------------------------- ignore_instance_parent_mode
rm -rf /var/tmp/inst/*
chmod 0775 /var/tmp/inst
use_module
syslog_clear
rc=0
session alice true || rc=$?
assert_eq "$rc" "$OPEN_FAILED" "group-writable template refused without ignore_instance_parent_mode"
assert_one_error_line "alice" "/var/tmp/inst"
use_module ignore_instance_parent_mode
assert_eq "$(session alice stat -c %U /tmp)" alice "ignore_instance_parent_mode: the template's mode is not checked"
chown alice /var/tmp/inst
rc=0
session alice true || rc=$?
assert_eq "$rc" "$OPEN_FAILED" "ignore_instance_parent_mode: the template's owner still is checked"
chown root /var/tmp/inst
chmod 0755 /var/tmp/inst

# ------------------------------------------------------ instance_mode=
rm -rf /var/tmp/inst/*
use_module instance_mode=mirror
# A mirrored 1777 instance is private only under a mode 000 template.
chmod 000 /var/tmp/inst
out=$(session alice stat -c '%u:%g %a' /tmp)
assert_eq "$out" "$(stat -c '%u:%g %a' /tmp)" "instance_mode=mirror: the instance has the polydir's owner, group and mode"
chmod 0755 /var/tmp/inst
use_module instance_mode=private
rm -rf /var/tmp/inst/*
assert_eq "$(session alice stat -c '%U:%G %a' /tmp)" "alice:alice 700" "instance_mode=private: alice:alice 0700"

# --------------------------------------------------- unmount_on_close
# A process left behind in the session's namespace watches /tmp after the
# driver closed the session (the driver is its parent: wait until it is gone).
watch_after_close='( while kill -0 $PPID 2>/dev/null; do sleep 0.05; done
                     awk "\$5 == \"/tmp\"" /proc/self/mountinfo | wc -l >/run/polyns-test/after-close ) >/dev/null 2>&1 &
                   awk "\$5 == \"/tmp\"" /proc/self/mountinfo | wc -l'
for option in "" unmount_on_close; do
    use_module $option
    rm -f /run/polyns-test/after-close
    during=$(session alice sh -c "$watch_after_close")
    for _ in $(seq 100); do [[ -s /run/polyns-test/after-close ]] && break; sleep 0.05; done
    after=$(cat /run/polyns-test/after-close)
    if [[ -z $option ]]; then
        assert_eq "$after" "$during" "without unmount_on_close: the instance stays mounted after close"
    else
        assert_eq "$after" "$((during - 1))" "unmount_on_close: the instance is unmounted at close"
    fi
done

# --------------------------------------------------------- mount_private
# Make the harness's own tree shared, so slave vs private is visible in the
# session: by default the session's / is a slave of it (host mounts flow in,
# none flow out); with mount_private it has no master.
mount --make-rshared /
use_module
out=$(session alice awk '$5 == "/"' /proc/self/mountinfo)
assert_contains "$out" "master:" "default: the session's / is a slave (receives host mounts)"
assert_not_contains "$out" "shared:" "default: the session's / does not propagate back"
use_module mount_private
out=$(session alice awk '$5 == "/"' /proc/self/mountinfo)
assert_not_contains "$out" "master:" "mount_private: the session's / is private"
assert_not_contains "$out" "shared:" "mount_private: the session's / does not propagate back"
# A mount made inside the session never reaches the caller.
use_module
session alice sh -c 'mkdir -p /run/polyns-test/inner && mount -t tmpfs x /run/polyns-test/inner'
if awk '$5 == "/run/polyns-test/inner"' /proc/self/mountinfo | grep -q .; then
    fail "a mount made inside the session propagated back to the caller"
fi
pass "a mount made inside the session does not propagate back"
mount --make-rprivate /

assert_eq "$(mount_table)" "$mounts_before" "caller's mount table unchanged"
