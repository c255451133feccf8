// libmount, for what it is good at: mount option strings and the mount table.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "polyns/result.hpp"

namespace polyns::sys {

// "nosuid,nodev,size=10M" -> flags MS_NOSUID|MS_NODEV, fs_data "size=10M".
// Per-mount flags libmount knows go to `flags` (ro/rw, exec/noexec ... with their
// negations); everything else is filesystem data, passed on untouched.
// Userspace-only options ("user", "noauto", "x-*") go to `userspace`.
struct MountOptions {
    unsigned long flags = 0;
    std::string fs_data;
    std::string userspace;
};
Result<MountOptions> parse_mount_options(const std::string& optstr);

// One line of /proc/thread-self/mountinfo.
struct MountEntry {
    int id = 0;
    int parent_id = 0;
    std::string target;       // mount point
    std::string root;         // the directory of the filesystem mounted there ("/" or a bind's subdir)
    std::string fstype;
    std::string source;
    std::string vfs_options;  // "rw,nosuid,nodev,relatime"
    std::string fs_options;   // "rw,size=1024k,mode=755"
    unsigned long vfs_flags = 0;  // vfs_options as MS_* flags
    dev_t dev = 0;                // the filesystem's device (major:minor)
};

// The whole table of this process's mount namespace, in the kernel's order.
// The calling thread's table by default: in a thread other than the leader,
// /proc/self is the leader's view.
Result<std::vector<MountEntry>> read_mount_table(const std::string& mountinfo_path = "/proc/thread-self/mountinfo");

// Mounts whose mount point is exactly `target`, bottom first, topmost last
// (the order they are stacked in, following parent ids).
Result<std::vector<MountEntry>> mounts_at(const std::string& target);
// The same, in a table already read (one read for several targets).
std::vector<MountEntry> mounts_at(const std::vector<MountEntry>& table, const std::string& target);

}  // namespace polyns::sys
