#!/bin/bash
# Issue 6, catalogue entry 11: removal of a tmpdir instance at close (DESIGN
# invariant 9: fd-based, never follows a symlink, never crosses a mount).
# The rule is `/tmp /var/tmp/tmpl/ tmpdir`: each session gets a new
# /var/tmp/tmpl/XXXXXX on /tmp, removed at close. What alice leaves there:
#   1. symlinks to /etc, /etc/passwd, /, .., bob's home and file (at the top
#      and mid-tree), a dangling one, a FIFO, a socket, hard links (hers, and
#      one to a root file as a lax protected_hardlinks=0 would allow),
#      100,000 files and a directory chain 5,000 deep (paths far beyond
#      PATH_MAX): all of it goes, nothing it points at does, in bounded time.
#   2. a bind mount of bob's home and a tmpfs inside the instance (made by
#      root inside the session): never crossed; only the empty mount points
#      stay, and the close says so (one LOG_ERR line, warnings naming them).
#   3. a bind mount over the instance itself (at its template path): not
#      entered at all.
#   4. a `chattr +i` file and a `chattr +a` directory: kept (EPERM), the
#      rest removed.
#   5. a process of hers left in the session's namespace keeps exchanging
#      directories of the instance with symlinks to /etc and bob's home and
#      moving them out and back while the removal runs: nothing outside her
#      own files is removed.
# Each checks the watched trees (lib/attack.sh's tree_snapshot) before and
# after: only the instance (and, where said, its remnants) changes.
source "$(dirname "$0")/lib/harness.sh"
harness_enter "$@"
source "$(dirname "$0")/lib/module.sh"
source "$(dirname "$0")/lib/attack.sh"
require_module
add_standard_users
use_module
make_template /var/tmp/tmpl
write_conf <<'EOF'
/tmp /var/tmp/tmpl/ tmpdir
EOF
install -d -o bob -g bob -m 0755 /home/bob/dir
echo secret >/home/bob/secret && chown bob:bob /home/bob/secret
echo bobs >/home/bob/dir/file && chown bob:bob /home/bob/dir/file
echo root >/var/tmp/rootfile
work=$POLYNS_TEST_ROOT/attack-cleanup
mkdir -p "$work" && chmod 0755 "$work"
for f in cleanup_plant.py cleanup_racer.py; do
    install -m 0755 "$POLYNS_SOURCE_DIR/tests/system/lib/$f" "$work/$f"
done
# "alice CMD..." in the sessions' sh -c strings: CMD as alice.
printf '#!/bin/sh\nexec setpriv --reuid=alice --regid=alice --clear-groups -- "$@"\n' >"$work/alice"
chmod 0755 "$work/alice"
export PATH="$work:$PATH"

# The remnants left in the template, as "path owner mode type" lines.
remnants() { (cd /var/tmp/tmpl && find . -mindepth 1 -printf '%P %u %m %y\n' | LC_ALL=C sort); }

# ------------------------------------------------------ 1. the big plant
before=$(tree_snapshot)
syslog_clear
start=$SECONDS
rc=0
session alice sh -c "
    alice python3 $work/cleanup_plant.py /tmp 100000 5000 &&
    for d in /var/tmp/tmpl/*; do ln /var/tmp/rootfile \$d/rootfile-link; done &&
    echo planted >$work/planted" || rc=$?
elapsed=$((SECONDS - start))
assert_eq "$rc" 0 "11.1 the session opened, planted and closed"
[[ -e $work/planted ]] || fail "11.1 the plant did not run"
echo "plant + removal of 100,000 files and a 5,000-deep chain: ${elapsed}s"
((elapsed < 60)) || fail "11.1 removal took ${elapsed}s"
assert_eq "$(remnants)" "" "11.1 the instance is gone entirely"
assert_eq "$(tree_changes "$before")" "" "11.1 nothing outside the instance was created, changed or removed"
assert_eq "$(cat /var/tmp/rootfile) $(stat -c %h /var/tmp/rootfile)" "root 1" "11.1 root's hard-linked file is intact (one link again)"
assert_eq "$(cat /home/bob/secret)" secret "11.1 bob's file is intact"
syslog_settle
assert_eq "$(polyns_log err)" "" "11.1 no LOG_ERR line"

# ------------------------------------------- 2. mounts inside the instance
# Made through /tmp (the session's view: a mount on the bind's vfsmount,
# which the removal, working below the template's fd, never even sees) and
# through the template path (where the walk meets it and must not cross).
before=$(tree_snapshot)
syslog_clear
rc=0
session alice sh -c '
    alice mkdir /tmp/bind /tmp/bind2 /tmp/tmpfs /tmp/dir && alice touch /tmp/dir/file /tmp/file &&
    mount -n --bind /home/bob /tmp/bind &&
    for d in /var/tmp/tmpl/*; do mount -n --bind /home/bob "$d/bind2"; done &&
    mount -n -t tmpfs inner /tmp/tmpfs && echo inner >/tmp/tmpfs/file' || rc=$?
echo "close with mounts inside: exit $rc"
name=$(ls /var/tmp/tmpl)
assert_eq "$(remnants)" "$name alice 700 d
$name/bind alice 755 d
$name/bind2 alice 755 d
$name/tmpfs alice 755 d" "11.2 only the instance and its three (empty) mount points stay"
changes=$(tree_changes "$before" | grep -Ev '^\+ /var/tmp/tmpl/[^ ]+ ' || true)
assert_eq "$changes" "" "11.2 nothing outside the instance changed (bob's home, the tmpfs's content untouched)"
assert_eq "$(cat /home/bob/secret /home/bob/dir/file)" "secret
bobs" "11.2 bob's files behind the bind mounts are intact"
syslog_settle
assert_contains "$(polyns_log warning)" "$name/bind2 (a mount point; not crossed)" "11.2 a warning names the crossed-at mount point"
assert_contains "$(polyns_log warning)" "$name/bind (" "11.2 a warning names the other mount point"
assert_one_error_line alice "could not remove everything"
rm -rf /var/tmp/tmpl/*

# ------------------------------------------ 3. a mount over the instance
before=$(tree_snapshot)
syslog_clear
rc=0
session alice sh -c '
    alice touch /tmp/file &&
    for d in /var/tmp/tmpl/*; do mount -n --bind /home/bob "$d"; done' || rc=$?
echo "close with a mount over the instance: exit $rc"
changes=$(tree_changes "$before" | grep -Ev '^\+ /var/tmp/tmpl/[^ ]+ ' || true)
assert_eq "$changes" "" "11.3 nothing outside the instance changed (bob's home untouched)"
assert_eq "$(cat /home/bob/secret)" secret "11.3 bob's file is intact"
syslog_settle
assert_one_error_line alice "not crossing a mount"
rm -rf /var/tmp/tmpl/*

# --------------------------------------------- 4. immutable / append-only
before=$(tree_snapshot)
syslog_clear
rc=0
session alice sh -c '
    alice mkdir /tmp/keep /tmp/app /tmp/other && alice touch /tmp/keep/immutable /tmp/app/file /tmp/other/file &&
    chattr +i /tmp/keep/immutable && chattr +a /tmp/app' || rc=$?
echo "close with chattr +i/+a: exit $rc"
name=$(ls /var/tmp/tmpl)
assert_eq "$(remnants)" "$name alice 700 d
$name/app alice 755 d
$name/app/file alice 644 f
$name/keep alice 755 d
$name/keep/immutable alice 644 f" "11.4 only the immutable file, the append-only directory and their parents stay"
syslog_settle
assert_one_error_line alice "could not remove everything"
chattr -i "/var/tmp/tmpl/$name/keep/immutable" && chattr -a "/var/tmp/tmpl/$name/app"
rm -rf /var/tmp/tmpl/*
changes=$(tree_changes "$before")
assert_eq "$changes" "" "11.4 nothing outside the instance changed"

# ------------------------------------------- 5. a live race during removal
before=$(tree_snapshot)
syslog_clear
rc=0
install -d -o alice -g alice -m 0700 /var/tmp/alice-stash
before=$(tree_snapshot)
session alice sh -c "
    alice python3 $work/cleanup_plant.py /tmp 20000 500 || exit 1
    setsid alice python3 $work/cleanup_racer.py /tmp /var/tmp/alice-stash 4 </dev/null >/dev/null 2>&1 &
    echo \$! >$work/racer.pid; sleep 0.3" || rc=$?
echo "close under a live race: exit $rc"
sleep 4.5  # the racer ends by itself
changes=$(tree_changes "$before" | grep -Ev '^[-+] /var/tmp/(tmpl|alice-stash)/[^ ]+ alice alice ' || true)
assert_eq "$changes" "" "11.5 nothing outside her instance and stash changed"
assert_eq "$(cat /home/bob/secret /home/bob/dir/file)" "secret
bobs" "11.5 bob's files are intact"
# She keeps writing into it, so the removal may not finish (close fails,
# exit 3, with what was left named); what matters is what it did not touch.
[[ $rc == 0 || $rc == 3 ]] || fail "11.5 the session ended with $rc"
syslog_settle
echo "what the module said about the raced removal:"
polyns_log err
polyns_log warning | head -5
rm -rf /var/tmp/tmpl/* /var/tmp/alice-stash
pass "11. tmpdir cleanup removes only the instance's own content on its own filesystem"
