// The live system as the admin's tool sees it (`polyns status`, `audit`, `gc`):
// processes from /proc, their mount namespaces and mount tables (libmount),
// users from NSS, instances on disk. Processes come and go while this reads:
// one that vanishes (ENOENT, ESRCH) is left out, never an error.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "polyns/result.hpp"
#include "polyns/sys/mountinfo.hpp"

namespace polyns::sys {

struct ProcessInfo {
    pid_t pid = 0;
    uid_t uid = 0;                       // real uid
    std::string comm;
    unsigned long long mnt_ns = 0;       // inode of /proc/PID/ns/mnt
    std::optional<unsigned> session_id;  // /proc/PID/sessionid, unless unset (4294967295)
    std::string cgroup;                  // the unified (0::) cgroup path, or the first line's
};

// Every process that could be read completely (kernel threads left out).
std::vector<ProcessInfo> list_processes();

// The mount table of the namespace `pid` is in; ENOENT/ESRCH when it exited.
Result<std::vector<MountEntry>> process_mount_table(pid_t pid);

// This process's own mount namespace inode.
Result<unsigned long long> own_mount_namespace();

// Users from NSS (getpwent): name, uid, gid, home.
struct PasswdEntry {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home;
    std::string shell;
};
std::vector<PasswdEntry> list_users();
std::optional<PasswdEntry> user_by_uid(uid_t uid);

// An entry of a template directory, by lstat (never followed).
struct InstanceEntry {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    mode_t mode = 0;           // full st_mode (type and permission bits)
    dev_t dev = 0;
    ino_t ino = 0;
    std::time_t mtime = 0;     // of the entry itself
    std::time_t newest = 0;    // newest mtime in its tree (same filesystem only)
    unsigned long long bytes = 0;  // allocated bytes of its tree (same filesystem only)
    bool is_dir = false;
};
// Lists `template_dir` (opened by fd without following symlinks). With
// `measure`, each directory's tree is walked by fd (never across a mount,
// never following a symlink) for size and newest change.
Result<std::vector<InstanceEntry>> list_template(const std::string& template_dir, bool measure);

// The root path, inside its filesystem, of `path` and that filesystem's
// device: what a bind mount of `path` shows as (dev, root) in any mount table.
struct FsLocation {
    dev_t dev = 0;
    std::string root;  // "/user_tmpl/1001"
};
Result<FsLocation> fs_location(const std::string& path, const std::vector<MountEntry>& own_table);

}  // namespace polyns::sys

namespace polyns::sys {
// One variable of /proc/PID/environ (nullopt: not set, or unreadable).
std::optional<std::string> process_environ_value(pid_t pid, const std::string& name);
}  // namespace polyns::sys
