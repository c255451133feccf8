// The topmost mount on a directory, asked of the kernel without the mount
// table: statx(STATX_MNT_ID_UNIQUE) on an O_PATH fd of the directory, then
// statmount(2) of that id (Linux 6.8+). A login on a host with thousands of
// mounts then does not read and parse all of /proc/thread-self/mountinfo to
// judge its two polydirs.
#pragma once

#include <optional>
#include <string>

namespace polyns::sys {

struct TopMount {
    // A mount's mount point is exactly `path` (as the mount table writes it,
    // relative to this process's root); false: `path` is a directory inside
    // the mount described below, not a mount point.
    bool mounted_here = false;
    std::string root;    // the directory of its filesystem mounted there ("/" or a bind's subdirectory)
    std::string fstype;
    std::optional<std::string> source;  // unknown where statmount has no STATMOUNT_SB_SOURCE
};

// nullopt where the kernel cannot tell: no statmount or no unique mount id
// (kernels before 6.8, or a seccomp filter answering ENOSYS/EPERM), any other
// failure, or `path` not to be opened (missing, a symlink a user could have
// planted): the caller reads the mount table then, as before.
std::optional<TopMount> top_mount_from_kernel(const std::string& path);

}  // namespace polyns::sys
