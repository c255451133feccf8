# The cases, run by /init in the VM as kernel_t, SELinux permissive (the
# kernel computes and stores labels exactly as when enforcing; the enforcing
# smoke run at the end switches). Sessions are opened from the login domain
# (runcon local_login_t) by polyns-vm-session, once through Debian's
# pam_namespace.so and once through pam_polyns.so, each in a fresh world
# (/w, a tmpfs), with the same users, levels and namespace.conf.
# Result lines on fd 3: R|case|module|key|value (compared by the host).
set -u
case $POLICY in
    mls) high=s0-s15:c0.c1023; lv1=s1; lv2=s3 ;;
    *)   high=s0-s0:c0.c1023;  lv1=s0:c1; lv2=s0:c2.c4 ;;
esac
LOGIN=system_u:system_r:local_login_t:$high
echo 0 > /proc/sys/kernel/printk_ratelimit
syslogd -O /run/syslog
log() { echo "B|$*" >&3; }
r() { echo "R|$case|$module|$1|$2" >&3; }

# The polydirs of namespace.conf "main" (below), looked at in every session.
polydirs="/w/lvl /w/ctx /w/usr /w/tdir /w/tfs /w/shr /w/crt"

world() {   # a fresh world: polydirs and mode-000 instance parents on a tmpfs
    umount /w 2>/dev/null
    mkdir -p /w && mount -t tmpfs -o mode=0755 tmpfs /w
    chcon system_u:object_r:root_t:s0 /w
    for d in lvl ctx usr tdir tfs shr; do
        mkdir -m 1777 /w/$d
        chcon system_u:object_r:tmp_t:$high /w/$d
        [ $d = tfs ] || { mkdir -m 000 /w/i-$d; chcon system_u:object_r:tmp_t:s0 /w/i-$d; }
    done
    chcon system_u:object_r:var_t:s0 /w/usr   # differs from its instance parent's label
    mkdir -m 000 /w/i-crt; chcon system_u:object_r:tmp_t:s0 /w/i-crt
    : > /run/init.log
}

# In the session: who we are, and what each polydir shows (label, owner,
# mode, the root and type of the mount on it). Few processes: each one costs
# under TCG.
probe='echo "C|$(id -Z)"
stat -c "V|%n|%C|%U:%G|%a" $POLYDIRS
awk -v list="$POLYDIRS" '"'"'BEGIN { n = split(list, p, " "); for (i = 1; i <= n; i++) want[p[i]] = 1 }
  want[$5] { for (i = 7; i < NF; i++) if ($i == "-") break; m[$5] = $4 " " $(i + 1) }
  END { for (d in want) print "M|" d "|" m[d] }'"'"' /proc/self/mountinfo'

session() {   # session CASE SERVICE USER [VAR=VAL...]
    case=$1; svc=$2-$module_short; user=$3; shift 3
    : > /run/syslog
    POLYDIRS=$polydirs runcon $LOGIN polyns-vm-session "$svc" "$user" "$@" -- "$probe" > /run/out 2>&1
    # views: V|polydir|label|owner|mode joined with M|polydir|root fstype
    awk -F'|' -v c="$case" -v m="$module" '
        /^open=/ { print "R|" c "|" m "|open|" substr($0, 6); open = substr($0, 6) }
        /^C\|/ { print "R|" c "|" m "|ctx|" $2 }
        /^V\|/ { v[$2] = $3 "|" $4 "|" $5 }
        /^M\|/ { mnt[$2] = $3 }
        END { for (p in v) print "R|" c "|" m "|view:" p "|" v[p] "|" mnt[p] }' /run/out >&3
    sort -u /run/init.log | while read -r p c; do r "init:$p" "$c"; done; : > /run/init.log
    if ! grep -q '^open=Success' /run/out; then
        grep -iE 'fail|cannot|error' /run/syslog | sed 's/^.*polyns-vm-session: //' | head -3 |
            while read -r l; do r log "$l"; done
    fi
}

instances() {   # what the module left on disk
    case=instances
    for d in /w/i-*/* /w/crt; do
        [ -e "$d" ] || continue
        r "disk:$d" "$(stat -c '%C|%U:%G|%a' "$d")"
    done
}

write_conf_main() {
    cat > /etc/security/namespace.conf <<CONF
/w/lvl   /w/i-lvl/   level                      root
/w/ctx   /w/i-ctx/   context                    root
/w/usr   /w/i-usr/   user                       root
/w/tdir  /w/i-tdir/  tmpdir                     root
/w/tfs   tmpfs       tmpfs:mntopts=size=1M      root
/w/shr   /w/i-shr/   level:shared               root
/w/crt   /w/i-crt/   user:create=0755,root,root root
CONF
}

run_module() {   # run_module namespace|polyns
    module=pam_$1; module_short=$1
    log "module|$module"
    world; write_conf_main
    session alice polytest alice
    session bob polytest bob
    session carol-$lv1 polytest carol SELINUX_LEVEL_REQUESTED=$lv1
    session carol-$lv2 polytest carol SELINUX_LEVEL_REQUESTED=$lv2
    session dave-long polytest dave
    session alice-again polytest alice
    session alice-gen_hash polytest-hash alice
    session alice-use_current_context polytest-cur alice
    session bob-use_default_context polytest-def bob
    session alice-no-exec-context polytest-nosel alice
    # only user and tmpdir rules: pam_namespace.so asks for the user's
    # context for tmpdir too (COMPATIBILITY.md S2)
    printf '/w/usr /w/i-usr/ user root\n/w/tdir /w/i-tdir/ tmpdir root\n' > /etc/security/namespace.conf
    session alice-no-exec-user-tmpdir polytest-nosel alice
    write_conf_main
    instances
}

t0=$(cut -d' ' -f1 /proc/uptime)
run_module namespace
run_module polyns
log "compare-time|$t0|$(cut -d' ' -f1 /proc/uptime)"

# The seed's own lines (polyns only: pam_namespace expands no %{UID}),
# instances private to the user (the seed's A4: alice 0700).
module=pam_polyns; module_short=polyns
umount /tmp /var/tmp 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /tmp; mount -t tmpfs -o mode=1777 tmpfs /var/tmp
restorecon -F /tmp /var/tmp
mkdir -m 0755 /tmp/user_tmpl /var/tmp/user_tmpl
cat > /etc/security/namespace.conf <<CONF
/tmp     /tmp/user_tmpl/%{UID}     level:level,root
/var/tmp /var/tmp/user_tmpl/%{UID} level:level,root
CONF
polydirs="/tmp /var/tmp"
session seed-alice seed alice
session seed-bob seed bob
session seed-carol-$lv1 seed carol SELINUX_LEVEL_REQUESTED=$lv1
session seed-carol-$lv2 seed carol SELINUX_LEVEL_REQUESTED=$lv2
case=seed-disk
for d in /tmp/user_tmpl/* /var/tmp/user_tmpl/*; do r "disk:$d" "$(stat -c '%C|%U:%G|%a' "$d")"; done
case=seed-plan
polyns plan bob --service seed-polyns --selinux-context "staff_u:staff_r:staff_t:${lv1}" > /run/plan.txt 2>&1
r exit "$?"
grep -E '^/tmp|instance|label' /run/plan.txt | head -6 | while read -r l; do r plan "$l"; done
case=seed-plan-order
polyns plan alice --service polytest-nosel-polyns > /run/plan2.txt 2>&1
r exit "$?"
grep -E 'pam_selinux' /run/plan2.txt | head -2 | while read -r l; do r plan "$l"; done

[ "$ENFORCE_SMOKE" = 1 ] && . /enforce.sh
log "avc-denials|$(dmesg | grep -c 'avc:  denied')"
exit 0
