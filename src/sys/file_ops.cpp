#include "polyns/sys/file_ops.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "fault_injection.hpp"

namespace polyns::sys {

Result<struct stat> stat_fd(int fd, const std::string& step, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return make_error(step, path, "fstat", errno);
    return st;
}

Result<MountPosition> mount_position(int fd, const std::string& step, const std::string& path) {
    struct statx stx {};
    if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
                STATX_MNT_ID | STATX_INO | STATX_TYPE, &stx) != 0)
        return make_error(step, path, "statx", errno);
    MountPosition pos;
    pos.mount_id_known = (stx.stx_mask & STATX_MNT_ID) != 0;
    pos.mount_id = pos.mount_id_known ? stx.stx_mnt_id : 0;
    pos.mount_root_known = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0;
    pos.is_mount_root = (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    pos.dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
    pos.ino = stx.stx_ino;
    return pos;
}

Result<void> make_dir_at(int dir_fd, const std::string& name, mode_t mode, const std::string& step,
                         const std::string& path) {
    if (int err = injected_fault("mkdirat")) return make_error(step, path, "mkdirat", err);
    if (::mkdirat(dir_fd, name.c_str(), mode) != 0) return make_error(step, path, "mkdirat", errno);
    return {};
}

Result<void> set_owner(int fd, uid_t uid, gid_t gid, const std::string& step, const std::string& path) {
    if (int err = injected_fault("fchown")) return make_error(step, path, "fchown", err);
    if (::fchownat(fd, "", uid, gid, AT_EMPTY_PATH) != 0) return make_error(step, path, "fchown", errno);
    return {};
}

Result<void> set_mode(int fd, mode_t mode, const std::string& step, const std::string& path) {
    if (int err = injected_fault("fchmod")) return make_error(step, path, "fchmod", err);
    if (::fchmod(fd, mode) != 0) return make_error(step, path, "fchmod", errno);
    return {};
}

Result<void> remove_empty_dir_at(int dir_fd, const std::string& name, const std::string& step,
                                 const std::string& path) {
    if (int err = injected_fault("rmdir")) return make_error(step, path, "rmdir", err);
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0) return make_error(step, path, "rmdir", errno);
    return {};
}

Result<std::string> random_name_suffix(std::size_t length) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string out;
    while (out.size() < length) {
        unsigned char bytes[32];
        ssize_t n = ::getrandom(bytes, sizeof bytes, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error("make a unique instance name", "", "getrandom", errno);
        }
        for (ssize_t i = 0; i < n && out.size() < length; ++i) {
            // 248 = 4 * 62: reject the tail so every character is equally likely.
            if (bytes[i] >= 248) continue;
            out.push_back(alphabet[bytes[i] % 62]);
        }
    }
    return out;
}

std::string octal_mode(mode_t mode) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

}  // namespace polyns::sys
