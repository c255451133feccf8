#include "polyns/sys/mount_top.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "fault_injection.hpp"
#include "polyns/sys/path.hpp"
#include "statmount_abi.hpp"

namespace polyns::sys {

std::optional<TopMount> top_mount_from_kernel(const std::string& path) {
    // Test-only: POLYNS_FAULT=statmount makes this kernel one without it.
    if (injected_fault("statmount") != 0) return std::nullopt;
    // The walk the pinning does later (root-owned links only; no user's FUSE).
    auto fd = open_path(path, O_PATH | O_DIRECTORY, "look at the mount on", Links::FollowRootOnly);
    if (!fd) return std::nullopt;
    struct statx stx {};
    if (::statx(fd->get(), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_MNT_ID_UNIQUE,
                &stx) != 0 ||
        (stx.stx_mask & STATX_MNT_ID_UNIQUE) == 0)
        return std::nullopt;
    std::uint64_t wanted = statmount_mnt_root | statmount_mnt_point | statmount_fs_type | statmount_sb_source;
    std::vector<std::uint64_t> buffer(4096 / sizeof(std::uint64_t));
    for (int attempt = 0; attempt < 4; ++attempt) {
        MntIdReq req{sizeof(MntIdReq), 0, stx.stx_mnt_id, wanted};
        if (::syscall(sys_statmount, &req, buffer.data(), buffer.size() * sizeof(std::uint64_t), 0) != 0) {
            if (errno == EINTR) continue;
            if (errno == EOVERFLOW) {
                buffer.resize(buffer.size() * 4);
                continue;
            }
            // Kernels before STATMOUNT_SB_SOURCE refuse the whole request.
            if (errno == EINVAL && (wanted & statmount_sb_source) != 0) {
                wanted &= ~statmount_sb_source;
                continue;
            }
            return std::nullopt;
        }
        StatMount head{};
        std::memcpy(&head, buffer.data(), sizeof head);
        const std::uint64_t needed = statmount_mnt_root | statmount_mnt_point | statmount_fs_type;
        if ((head.mask & needed) != needed) return std::nullopt;
        const char* strings = reinterpret_cast<const char*>(buffer.data()) + sizeof head;
        const std::size_t strings_size = head.size > sizeof head ? head.size - sizeof head : 0;
        auto string_at = [&](std::uint32_t offset) -> std::optional<std::string> {
            if (offset >= strings_size) return std::nullopt;
            return std::string(strings + offset, ::strnlen(strings + offset, strings_size - offset));
        };
        auto root = string_at(head.mnt_root);
        auto point = string_at(head.mnt_point);
        auto fstype = string_at(head.fs_type);
        if (!root || !point || !fstype) return std::nullopt;
        TopMount top;
        top.mounted_here = *point == path;
        top.root = *root;
        top.fstype = *fstype;
        // An empty source is not reported as a string at all.
        if (head.mask & statmount_sb_source) top.source = string_at(head.sb_source).value_or("");
        return top;
    }
    return std::nullopt;
}

}  // namespace polyns::sys
