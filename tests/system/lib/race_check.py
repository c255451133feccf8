#!/usr/bin/python3
# Judges the sessions of attack_race.sh (issue 6, entry 4).
#   race_check.py BASELINE_MOUNTINFO HOME_DEV OUT_DIR
# OUT_DIR/N.rc holds session N's exit status, OUT_DIR/N.out what its command
# printed: the session's /proc/self/mountinfo, "===", then the MARK files
# read through each name the real polydir can have. Each session must either
# have failed closed (exit 2) or show exactly one mount of its own: on the
# real polydir (under whichever of its names), from the /home filesystem,
# rooted at the real template's instance, showing the real instance's
# marker, never the user's look-alike, /etc or /root.
# Prints "opened N refused M"; exits 1 with the reasons on the first bad one.
import os
import re
import sys

baseline_file, home_dev, out_dir = sys.argv[1:4]


def mount_points(lines):
    return {line.split()[4] for line in lines if line.strip()}


baseline = mount_points(open(baseline_file).read().splitlines())
polydir_names = re.compile(r"^/home/alice/tmp(\.evil|\.moved)?$")
instance_roots = re.compile(r"^/alice/\.inst(\.evil|\.fake|\.moved)?/alice$")
opened = refused = 0
bad = []
for name in sorted(os.listdir(out_dir)):
    if not name.endswith(".rc"):
        continue
    n = name[:-3]
    rc = open(os.path.join(out_dir, name)).read().strip()
    out = open(os.path.join(out_dir, n + ".out"), errors="replace").read()
    if rc == "2":
        refused += 1
        continue
    if rc != "0":
        bad.append(f"session {n}: exit {rc}: {out[-300:]}")
        continue
    opened += 1
    table, _, marks = out.partition("===\n")
    new = [line.split() for line in table.splitlines()
           if line.strip() and line.split()[4] not in baseline]
    if len(new) != 1:
        bad.append(f"session {n}: {len(new)} mounts of its own: {new}")
        continue
    fields = new[0]
    if not polydir_names.match(fields[4]):
        bad.append(f"session {n}: mounted on {fields[4]}, not the polydir")
    if fields[2] != home_dev:
        bad.append(f"session {n}: mount from device {fields[2]}, not /home's {home_dev}")
    if not instance_roots.match(fields[3]):
        bad.append(f"session {n}: mount rooted at {fields[3]}, not the instance")
    if "fake" in marks:
        bad.append(f"session {n}: the user's look-alike instance is mounted")
    if "real" not in marks:
        # The polydir was being renamed while the command looked: the
        # mountinfo checks above still hold; the marker is a bonus.
        pass
print(f"opened {opened} refused {refused}")
if bad:
    print("\n".join(bad[:20]))
    sys.exit(1)
