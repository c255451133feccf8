#!/usr/bin/env python3
"""compare.py MLS.results MCS.results: the comparison table of Debian's
pam_namespace.so and pam_polyns.so in the same boot, then absolute checks.

Each results file holds the VM's lines "R|case|module|key|value". For every
case both modules ran, each key (session context, what each polydir shows in
the session, what is left on disk, the init script's domain) must be equal
after removing what is random (tmpdir names). Nothing is compared with a
stored expectation of pam_namespace's output: its version's behaviour is
recorded, polyns's is asserted. A difference COMPATIBILITY.md does not list is
printed as "REFERENCE NEW" with the reference's package version, never a
failure: a Debian update that changes pam_namespace.so must not turn CI red
(polyns's own results are asserted by the absolute checks below)."""
import re
import subprocess
import sys

REF, OURS = "pam_namespace", "pam_polyns"
# Keys whose values are logs, not behaviour: shown, never compared.
NOT_COMPARED = ("log",)
# Differences COMPATIBILITY.md lists, with its entry: (key prefix, reason).
DOCUMENTED = [
    ("instances", "disk:/w/i-tdir/", "COMPATIBILITY.md 25: polyns removes tmpdir instances at close, "
                                     "pam_namespace.so only with unmount_on_close"),
    ("alice-no-exec-user-tmpdir", "", "COMPATIBILITY.md S2: pam_namespace.so wants the user's context "
                                      "for tmpdir too"),
]


def load(path):
    rows, boot = {}, {}
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError as e:
        return rows, {"error": str(e)}
    for line in text.splitlines():
        line = line.strip("\r\n\x00")
        parts = line.split("|", 4)
        if parts[0] == "R" and len(parts) == 5:
            _, case, module, key, value = parts
            rows.setdefault(case, {}).setdefault(module, {}).setdefault(key, []).append(value)
        elif parts[0] == "B" and len(parts) >= 3:
            boot[parts[1]] = "|".join(parts[2:])
    return rows, boot


def normal(text):
    return re.sub(r"(i-tdir/)[A-Za-z0-9]{6}", r"\1XXXXXX", text)


failures = []
reference_new = []


def check(policy, what, ok, got):
    mark = "ok  " if ok else "FAIL"
    print(f"  {mark} [{policy}] {what}: {got}")
    if not ok:
        failures.append(f"[{policy}] {what}: {got}")


def mount_root(view):
    """The mount root in a view "label|owner|mode|ROOT FSTYPE"."""
    return view.rsplit("|", 1)[-1].split(" ")[0] if "|" in view else ""


def one(rows, case, module, key):
    v = rows.get(case, {}).get(module, {}).get(key, [])
    return v[0] if v else None


def compare(policy, rows):
    print(f"\n=== {policy}: pam_namespace.so vs pam_polyns.so (same boot, same users, levels, namespace.conf)")
    print(f"{'case':<28} {'key':<16} {'pam_namespace.so':<62} {'pam_polyns.so':<62} verdict")
    for case, modules in rows.items():
        if REF not in modules or OURS not in modules:
            continue
        keys = sorted(set(modules[REF]) | set(modules[OURS]), key=lambda k: (k != "open", k))
        for key in keys:
            if key.startswith(NOT_COMPARED):
                continue
            a = [normal(v) for v in modules[REF].get(key, [])]
            b = [normal(v) for v in modules[OURS].get(key, [])]
            same = sorted(a) == sorted(b)
            va, vb = " ".join(a) or "-", " ".join(b) or "-"
            known = next((why for c, prefix, why in DOCUMENTED if case == c and key.startswith(prefix)), None)
            verdict = "same" if same else f"differs: {known}" if known else "DIFFERENT"
            print(f"{case:<28} {normal(key):<16} {va:<62} {vb:<62} {verdict}")
            if not same and not known:
                reference_new.append(f"[{policy}] {case} {key}: pam_namespace {va} / pam_polyns {vb}")
        for module in (REF, OURS):
            for line in modules[module].get("log", []):
                print(f"{'':<28} {'log ' + module:<16} {line}")


def absolute(policy, rows):
    print(f"\n=== {policy}: checks of pam_polyns.so's own results")
    mls = policy == "mls"
    bob = "s2" if mls else "s0:c1.c3"
    lv1, lv2 = ("s1", "s3") if mls else ("s0:c1", "s0:c2.c4")
    view = one(rows, "bob", OURS, "view:/w/lvl") or ""
    check(policy, "bob's level instance", view.startswith(f"system_u:object_r:tmp_t:{bob}|")
          and mount_root(view) == f"/i-lvl/system_u:object_r:tmp_t:{bob}_bob", view)
    view = one(rows, "bob", OURS, "view:/w/ctx") or ""
    check(policy, "bob's context instance", view.startswith(f"system_u:object_r:user_tmp_t:{bob}|"), view)
    view = one(rows, "alice", OURS, "view:/w/usr") or ""
    check(policy, "user method: the polydir's label", view.startswith("system_u:object_r:var_t:s0|"), view)
    got = one(rows, "alice-no-exec-context", OURS, "open")
    check(policy, "no exec context: the session fails", got not in (None, "Success"), got)
    logs = " ".join(rows.get("alice-no-exec-context", {}).get(OURS, {}).get("log", []))
    check(policy, "its LOG_ERR line says to put pam_selinux.so open first, and names the boolean",
          "pam_selinux.so open" in logs and "SELinux boolean allow_polyinstantiation=off" in logs, logs)
    inits = rows.get("alice", {}).get(OURS, {})
    domains = {v for k, vs in inits.items() if k.startswith("init:") for v in vs}
    check(policy, "init script in the caller's domain",
          bool(domains) and all(":local_login_t:" in d for d in domains), " ".join(sorted(domains)) or "none")
    long = one(rows, "dave-long", OURS, "view:/w/lvl") or ""
    name = mount_root(long).rsplit("/", 1)[-1]
    check(policy, "a context name over 80 characters is shortened to 80", len(name) == 80, name)
    # the seed's lines
    a = one(rows, "seed-alice", OURS, "view:/tmp") or ""
    check(policy, "seed: alice at s0 gets /tmp/user_tmpl/1001",
          a.startswith("system_u:object_r:tmp_t:s0|alice:alice|700|") and mount_root(a) == "/user_tmpl/1001", a)
    disk = rows.get("seed-disk", {}).get(OURS, {})
    d = (disk.get("disk:/tmp/user_tmpl/1001") or [""])[0]
    check(policy, "seed A4 listing: /tmp/user_tmpl/1001", d == "system_u:object_r:tmp_t:s0|alice:alice|700", d)
    d = (disk.get(f"disk:/tmp/user_tmpl/1002_{bob}") or [""])[0]
    check(policy, f"seed: bob at {bob} gets his own instance 1002_{bob}", d == f"system_u:object_r:tmp_t:{bob}|bob:bob|700", d)
    c1 = (disk.get(f"disk:/tmp/user_tmpl/1003_{lv1}") or [""])[0]
    c2 = (disk.get(f"disk:/tmp/user_tmpl/1003_{lv2}") or [""])[0]
    check(policy, "seed: carol at two levels never shares", c1.startswith(f"system_u:object_r:tmp_t:{lv1}|")
          and c2.startswith(f"system_u:object_r:tmp_t:{lv2}|"), f"{c1} / {c2}")
    plan = " ".join(rows.get("seed-plan", {}).get(OURS, {}).get("plan", []))
    check(policy, "polyns plan shows the name and label", f"/tmp/user_tmpl/1002_{lv1}" in plan
          and f"system_u:object_r:tmp_t:{lv1}" in plan, plan)
    order = rows.get("seed-plan-order", {}).get(OURS, {})
    check(policy, "polyns plan refuses a stack without pam_selinux open",
          (order.get("exit") or ["0"])[0] != "0" and bool(order.get("plan")), " ".join(order.get("plan", [])))
    enf = rows.get("enforcing", {}).get(OURS, {})
    if mls:
        for case, module in (("enforcing-setup", OURS), ("enforcing", REF), ("enforcing", OURS)):
            for key, values in rows.get(case, {}).get(module, {}).items():
                for v in values:
                    print(f"  enforcing smoke run, {module}: {key} = {v}")
        check(policy, "enforcing: alice's session opens", (enf.get("open") or [""])[0] == "Success"
              and (enf.get("mode") or [""])[0] == "Enforcing", enf.get("open"))
        check(policy, "enforcing: alice writes to her /tmp", (enf.get("write") or ["failed"])[0] != "failed",
              enf.get("write"))
        check(policy, "enforcing: alice cannot read bob's s2 instance",
              (enf.get("read-bob") or [""])[0] == "denied" and (enf.get("list-bob") or [""])[0] == "denied",
              f"read {enf.get('read-bob')} list {enf.get('list-bob')}")
        setup = rows.get("enforcing-setup", {}).get(OURS, {})
        check(policy, "enforcing: the policy (MLS), not the modes, refused it (alice read it while permissive)",
              (setup.get("permissive-read-bob") or ["0"])[0] == "1", setup.get("bob-modes"))


wanted = sys.argv[3:] or ["mls", "default"]
for policy, path in zip(("mls", "default"), sys.argv[1:3]):
    if policy not in wanted:
        continue
    rows, boot = load(path)
    print(f"\n##### policy {policy}: {boot}")
    if "end" not in boot:
        failures.append(f"[{policy}] the VM did not finish")
        continue
    compare(policy, rows)
    absolute(policy, rows)

print()
try:
    version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libpam-modules"],
                             capture_output=True, text=True, check=False).stdout.strip() or "unknown"
except OSError:
    version = "unknown"
print(f"reference: pam_namespace.so of libpam-modules {version}: "
      f"{len(reference_new)} difference(s) COMPATIBILITY.md does not list")
for line in reference_new:
    print("  REFERENCE NEW " + line)
if failures:
    print(f"{len(failures)} failure(s):")
    for f in failures:
        print("  " + f)
    sys.exit(1)
print("all comparisons and checks passed")
