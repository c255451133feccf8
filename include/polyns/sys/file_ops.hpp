// Operations on directories by fd (DESIGN invariant 1): stat, create, chown,
// chmod, mount identity. Never by path on paths a user can influence.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "polyns/result.hpp"

namespace polyns::sys {

Result<struct stat> stat_fd(int fd, const std::string& step, const std::string& path);

// Which mount an fd lies on (statx STATX_MNT_ID) and whether it is that mount's root.
struct MountPosition {
    std::uint64_t mount_id = 0;
    bool mount_id_known = false;    // STATX_MNT_ID supported (5.8+)
    bool is_mount_root = false;
    bool mount_root_known = false;  // STATX_ATTR_MOUNT_ROOT supported (5.8+)
    dev_t dev = 0;
    ino_t ino = 0;
};
Result<MountPosition> mount_position(int fd, const std::string& step, const std::string& path);

// mkdirat(dir_fd, name, mode). EEXIST comes back as an Error with err == EEXIST.
Result<void> make_dir_at(int dir_fd, const std::string& name, mode_t mode, const std::string& step,
                         const std::string& path);

// fchown/fchmod on an fd opened without O_PATH (fchownat(AT_EMPTY_PATH) for O_PATH fds works too).
Result<void> set_owner(int fd, uid_t uid, gid_t gid, const std::string& step, const std::string& path);
Result<void> set_mode(int fd, mode_t mode, const std::string& step, const std::string& path);

// unlinkat(dir_fd, name, AT_REMOVEDIR): removes `name` only if it is an empty directory.
Result<void> remove_empty_dir_at(int dir_fd, const std::string& name, const std::string& step,
                                 const std::string& path);

// `length` characters of [A-Za-z0-9] from getrandom(2).
Result<std::string> random_name_suffix(std::size_t length);

// Who besides root may search (execute) the directory `fd` (O_PATH will do),
// judged with its POSIX ACL (libacl): "other", the owning group (any group,
// root's too: it may have members) and every named user or group entry, as
// the ACL mask lets them. Empty: nobody; else their description ("other",
// "group 0", "ACL user:1002" ...).
Result<std::string> who_else_can_search(int fd, const std::string& step, const std::string& path);

// "0755", "1777": the permission bits as chmod takes them.
std::string octal_mode(mode_t mode);

}  // namespace polyns::sys
