// Which mounts a path walk may enter (DESIGN invariants 1 and 12). A FUSE
// filesystem a user mounted (fusermount3, on a directory she owns: her home,
// her own instance) is never entered: every stat, lookup or open that reaches
// it waits for her daemon, and a daemon that stops answering hangs the login
// as a FIFO hung Linux-PAM's (CVE-2024-22365). Whatever it answers is hers,
// too. The mount is judged by its identity only (statx with
// AT_STATX_DONT_SYNC, statmount(2), or the mount table): not one request
// reaches its filesystem.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "polyns/result.hpp"

namespace polyns::sys {

// What statx says about an O_PATH fd without asking its filesystem.
struct MountProbe {
    enum class IdKind { None, Old, Unique };  // no mount id (< 5.8), mountinfo's (5.8), statmount's (6.8)
    IdKind id_kind = IdKind::None;
    std::uint64_t mount_id = 0;
    dev_t dev = 0;
    mode_t type = 0;  // S_IFMT bits
};
Result<MountProbe> probe_mount(int fd, const std::string& step, const std::string& path);

// Same mount (by id when both have one of the same kind, else by device).
bool same_mount(const MountProbe& a, const MountProbe& b);

// `fd` is an O_PATH fd of the root of a mount crossed at `mount_point` on the
// way to `path`; `probe` is probe_mount(fd). Ok if the walk may go on into it.
Result<void> check_crossed_mount(int fd, const MountProbe& probe, const std::string& mount_point,
                                 const std::string& step, const std::string& path);

}  // namespace polyns::sys
