#!/bin/bash
# probe.sh OUTER_MOUNTINFO
# Run inside a PAM session: prints one line per mount the session added
# (compared with OUTER_MOUNTINFO, a copy of /proc/self/mountinfo taken in the
# namespace the session was opened from):
#   POLYDIR <TAB> KIND <TAB> SOURCE <TAB> OWNER:GROUP:MODE <TAB> FLAGS <TAB> FS_OPTIONS
# KIND "bind": SOURCE is the instance directory as a path of the outer
# namespace, found from the mount's device and root field (exact: the mount's
# root is the instance directory's path within its file system, and the outer
# mount of that file system says where that file system is visible).
# KIND "tmpfs": a file system that did not exist outside (SOURCE "-").
# KIND "protect": a directory bind-mounted over itself (pam_namespace.so does
# this for paths below user-writable directories); not an instance.
# OWNER:GROUP:MODE is stat of the polydir inside the session = the instance.
# FLAGS: the subset of ro,nosuid,nodev,noexec among the mount's options.
set -u
outer=$1
awk -v OUTER="$outer" '
function unesc(s) {
  gsub(/\\040/, " ", s); gsub(/\\011/, "\t", s); gsub(/\\012/, "\n", s); gsub(/\\134/, "\\", s)
  return s
}
function parse(line,    n, i, sep, f) {
  n = split(line, f, " ")
  m_dev = f[3]; m_root = unesc(f[4]); m_mp = unesc(f[5]); m_opts = f[6]
  sep = 0
  for (i = 7; i <= n; i++) if (f[i] == "-") { sep = i; break }
  m_fstype = f[sep + 1]; m_sopts = f[sep + 3]
}
function flags(opts,    n, i, o, out) {
  n = split(opts, o, ","); out = ""
  for (i = 1; i <= n; i++)
    if (o[i] == "ro" || o[i] == "nosuid" || o[i] == "nodev" || o[i] == "noexec")
      out = out (out == "" ? "" : ",") o[i]
  return out == "" ? "-" : out
}
# tmpfs options that describe the instance (size, inodes, mode), sorted.
function fsopts(opts,    n, i, o, out) {
  n = split(opts, o, ","); out = ""
  for (i = 1; i <= n; i++)
    if (o[i] ~ /^(size|nr_inodes|mode|uid|gid)=/) out = out (out == "" ? "" : ",") o[i]
  return out == "" ? "-" : out
}
BEGIN {
  no = 0
  while ((getline line < OUTER) > 0) {
    parse(line); no++
    odev[no] = m_dev; oroot[no] = m_root; omp[no] = m_mp
    seen[m_mp SUBSEP m_dev SUBSEP m_root] = 1
    known_dev[m_dev] = 1
  }
  if (no == 0) { print "probe: cannot read " OUTER > "/dev/stderr"; exit 2 }
}
{
  parse($0)
  if ((m_mp SUBSEP m_dev SUBSEP m_root) in seen) next
  if (!(m_dev in known_dev)) {
    printf "%s\t%s\t-\t%s\t%s\n", m_mp, m_fstype, flags(m_opts), fsopts(m_sopts)
    next
  }
  best = 0; bestlen = -1
  for (i = 1; i <= no; i++) {
    if (odev[i] != m_dev) continue
    r = oroot[i]; rl = (r == "/") ? 0 : length(r)
    if (rl == 0 || (substr(m_root, 1, rl) == r && (length(m_root) == rl || substr(m_root, rl + 1, 1) == "/"))) {
      if (rl > bestlen || (rl == bestlen && length(omp[i]) < length(omp[best]))) { best = i; bestlen = rl }
    }
  }
  if (!best) { printf "%s\tunresolved\t%s:%s\t%s\t-\n", m_mp, m_dev, m_root, flags(m_opts); next }
  rest = substr(m_root, bestlen + 1)
  path = (omp[best] == "/") ? rest : omp[best] rest
  if (path == "") path = "/"
  printf "%s\t%s\t%s\t%s\t-\n", m_mp, (path == m_mp ? "protect" : "bind"), path, flags(m_opts)
}' /proc/self/mountinfo | while IFS=$'\t' read -r mp kind src mflags fsopts; do
  owner=-
  [[ $kind == protect ]] || owner=$(stat -c '%U:%G:%a' -- "$mp" 2>/dev/null || echo '?')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$mp" "$kind" "$src" "$owner" "$mflags" "$fsopts"
done
