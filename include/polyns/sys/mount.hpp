// Mounting by fd (DESIGN invariants 2 and 13): two backends behind one interface.
//   new API: open_tree(OPEN_TREE_CLONE) / fsopen+fsconfig+fsmount, mount_setattr
//            on the detached tree, then move_mount onto the target fd;
//   legacy:  mount("/proc/self/fd/N", "/proc/self/fd/M", MS_BIND) + MS_REMOUNT.
// Auto uses the new API and falls back to legacy when the kernel answers ENOSYS.
#pragma once

#include <sys/mount.h>

#include <string>

#include "polyns/result.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys {

enum class MountBackend { Auto, NewApi, Legacy };

// Process-wide choice; Auto by default. Independent of the environment on purpose:
// the module must not be steerable by variables a user may set.
void set_mount_backend(MountBackend backend);
MountBackend mount_backend();
// The backend Auto resolves to right now (NewApi until the kernel said ENOSYS).
MountBackend effective_mount_backend();
const char* mount_backend_name(MountBackend backend);

// The per-mount flags this layer applies.
inline constexpr unsigned long supported_mount_flags =
    MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
    MS_STRICTATIME;

// "/proc/self/fd/N".
std::string fd_path(int fd);

// Bind-mounts the directory `source_fd` (non-recursive, like Linux-PAM) over the
// directory `target_fd`, then applies `ms_flags` on top of the flags the source
// mount already has (a nosuid source stays nosuid). Returns an fd on the new
// mount's root: detach_mount(fd) then removes exactly this mount.
// Paths are for messages (and, legacy only, to re-open the new mount and verify it).
Result<UniqueFd> bind_mount(int source_fd, int target_fd, unsigned long ms_flags,
                            const std::string& source_path, const std::string& target_path);

// Mounts a new tmpfs (source name "polyns") over `target_fd` with `ms_flags` and
// the fs options `fs_data` ("size=10M,mode=1777"). Returns an fd on its root.
Result<UniqueFd> mount_tmpfs(int target_fd, unsigned long ms_flags, const std::string& fs_data,
                             const std::string& target_path);

// umount2("/proc/self/fd/N", MNT_DETACH): the mount whose root `mount_root_fd` is.
Result<void> detach_mount(int mount_root_fd, const std::string& path);

// Makes `path` and every mount below it slave or private (mount_setattr with
// AT_RECURSIVE, or mount(MS_REC|MS_SLAVE) with legacy).
enum class Propagation { Slave, Private };
Result<void> set_propagation_recursive(const std::string& path, Propagation propagation);

}  // namespace polyns::sys
