# Enforcing MLS smoke run (sourced by cases.sh): a confined user (alice,
# staff_t:s0) writes to her /tmp, and cannot read bob's instance at s2
# although its modes would let her. pam_polyns.so is asserted; Debian's
# pam_namespace.so runs the same session and is recorded. Set up while
# permissive; the switch to enforcing happens inside a local_login_t shell
# whose output goes to a file (fds inherited from kernel_t may not be used).
case=enforcing
setfiles -F -e /proc -e /sys -e /dev -e /w /etc/selinux/$POLICY/contexts/files/file_contexts / >/dev/null 2>&1
umount /tmp 2>/dev/null; mount -t tmpfs -o mode=1777 tmpfs /tmp; restorecon -F /tmp
# the rootfs superblock is root_t: *_tmp_t directories may not be created on
# it when enforcing, so the instance parent lives on a tmpfs too
mkdir -p /srv; mount -t tmpfs -o mode=0755 tmpfs /srv; restorecon -F /srv
mkdir -m 0755 /srv/tmpl; chcon system_u:object_r:tmp_t:s0 /srv/tmpl
printf '/tmp /srv/tmpl/ level root\n' > /etc/security/namespace.conf
restorecon -F /etc/security/namespace.conf
killall syslogd 2>/dev/null; : > /run/syslog; chcon system_u:object_r:var_log_t:s0 /run/syslog
runcon system_u:system_r:syslogd_t:$high syslogd -O /run/syslog; sleep 0.2; restorecon -F /dev/log
boolean=allow_polyinstantiation
[ -e /sys/fs/selinux/booleans/$boolean ] || boolean=polyinstantiation_enabled
echo 1 > /sys/fs/selinux/booleans/$boolean && echo 1 > /sys/fs/selinux/commit_pending_bools
module=pam_polyns
case=enforcing-setup
r boolean "$boolean=$(cut -d' ' -f1 /sys/fs/selinux/booleans/$boolean)"
# bob (s2), permissive: a world-readable file in his instance
case=enforcing-setup
runcon $LOGIN polyns-vm-session --setuid polytest-enf-polyns bob -- \
    'chmod 0755 /tmp && echo secret > /tmp/secret && chmod 0644 /tmp/secret && stat -c "%C" /tmp' > /run/bob.log 2>&1
r bob-instance "$(tail -1 /run/bob.log)|$(ls -d /srv/tmpl/* | tr '\n' ' ')"
bob_instance=/srv/tmpl/system_u:object_r:tmp_t:s2_bob
r bob-modes "$(stat -c '%a %U' $bob_instance $bob_instance/secret | tr '\n' ' ')"
# the control: still permissive, alice's modes let her read it
runcon $LOGIN polyns-vm-session --setuid polytest-enf-polyns alice -- "cat $bob_instance/secret" > /run/ctl.log 2>&1
r permissive-read-bob "$(grep -c '^secret$' /run/ctl.log)"
case=enforcing
for module_short in polyns namespace; do
    module=pam_$module_short
    : > /run/enf.log; chcon system_u:object_r:user_tmp_t:s0 /run/enf.log
    dmesg -c > /dev/null
    runcon $LOGIN /bin/sh -c '
        exec >>/run/enf.log 2>&1
        setenforce 1
        echo "E|mode|$(getenforce)"
        polyns-vm-session --setuid polytest-enf-'$module_short' alice -- "
            echo \"E|ctx|\$(id -Z)\"
            echo hello > /tmp/mine && echo \"E|write|\$(stat -c %C /tmp/mine)\" || echo \"E|write|failed\"
            echo \"E|tmp|\$(stat -c %C /tmp)\"
            if cat '$bob_instance'/secret >/dev/null 2>&1; then echo E\|read-bob\|allowed; else echo E\|read-bob\|denied; fi
            if ls '$bob_instance' >/dev/null 2>&1; then echo E\|list-bob\|allowed; else echo E\|list-bob\|denied; fi"'
    setenforce 0
    sed -n 's/^E|//p; s/^open=/open|/p' /run/enf.log | while IFS='|' read -r k v; do r "$k" "$v"; done
    r avc-read-bob "$(dmesg | grep 'avc:  denied' | grep -c 'staff_t:s0.*tmp_t:s2')"
    dmesg | grep 'avc:  denied' | grep -v -e 'staff_t:s0.*tmp_t:s2' -e enf.log -e setenforce |
        sed 's/.*avc: *//; s/ pid=[0-9]*//; s/ ino=[0-9]*//; s/ dev="[^"]*"//' | sort -u | head -8 |
        while read -r l; do r log "$l"; done
    grep -iE "$module_short.*(fail|cannot|error)" /run/syslog | head -3 | while read -r l; do r log "$l"; done
    : > /run/syslog
done
