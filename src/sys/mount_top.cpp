#include "polyns/sys/mount_top.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault_injection.hpp"
#include "polyns/sys/path.hpp"
#include "statmount.hpp"

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
    // Kernels before STATMOUNT_SB_SOURCE refuse the whole request: asked without.
    StatMountAnswer answer;
    if (answer.ask(stx.stx_mnt_id, statmount_mnt_root | statmount_mnt_point | statmount_fs_type | statmount_sb_source,
                   statmount_sb_source) != 0)
        return std::nullopt;
    const StatMount& head = answer.head();
    const std::uint64_t needed = statmount_mnt_root | statmount_mnt_point | statmount_fs_type;
    if ((head.mask & needed) != needed) return std::nullopt;
    auto root = answer.string_at(head.mnt_root);
    auto point = answer.string_at(head.mnt_point);
    auto fstype = answer.string_at(head.fs_type);
    if (!root || !point || !fstype) return std::nullopt;
    TopMount top;
    top.mounted_here = *point == path;
    top.root = *root;
    top.fstype = *fstype;
    // An empty source is not reported as a string at all.
    if (head.mask & statmount_sb_source) top.source = answer.string_at(head.sb_source).value_or("");
    return top;
}

}  // namespace polyns::sys
