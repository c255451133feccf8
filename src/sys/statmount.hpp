// statmount(2) (Linux 6.8; one number on every architecture) and the unique
// mount id of statx(2). Debian 12's kernel headers predate both: the ABI is
// spelled out here, with one call that asks it. Private to src/sys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

namespace polyns::sys {

constexpr long sys_statmount = 457;
constexpr std::uint64_t statmount_sb_basic = 0x1;
constexpr std::uint64_t statmount_mnt_basic = 0x2;
constexpr std::uint64_t statmount_mnt_root = 0x8;
constexpr std::uint64_t statmount_mnt_point = 0x10;
constexpr std::uint64_t statmount_fs_type = 0x20;
constexpr std::uint64_t statmount_mnt_opts = 0x80;    // Linux 6.11
constexpr std::uint64_t statmount_sb_source = 0x200;  // Linux 6.14

struct MntIdReq {  // struct mnt_id_req, MNT_ID_REQ_SIZE_VER0
    std::uint32_t size;
    std::uint32_t spare;
    std::uint64_t mnt_id;
    std::uint64_t param;
};
static_assert(sizeof(MntIdReq) == 24);

struct StatMount {  // struct statmount; strings follow it, at the offsets given
    std::uint32_t size;
    std::uint32_t mnt_opts;
    std::uint64_t mask;
    std::uint32_t sb_dev_major;
    std::uint32_t sb_dev_minor;
    std::uint64_t sb_magic;
    std::uint32_t sb_flags;
    std::uint32_t fs_type;
    std::uint64_t mnt_id;
    std::uint64_t mnt_parent_id;
    std::uint32_t mnt_id_old;
    std::uint32_t mnt_parent_id_old;
    std::uint64_t mnt_attr;
    std::uint64_t mnt_propagation;
    std::uint64_t mnt_peer_group;
    std::uint64_t mnt_master;
    std::uint64_t propagate_from;
    std::uint32_t mnt_root;
    std::uint32_t mnt_point;
    std::uint64_t mnt_ns_id;
    std::uint32_t fs_subtype;
    std::uint32_t sb_source;
    std::uint64_t rest[48];  // option arrays, id maps ... and spare room
};
static_assert(offsetof(StatMount, mnt_root) == 104 && offsetof(StatMount, sb_source) == 124);
static_assert(sizeof(StatMount) == 512);

// One statmount(2) answer: the fixed part and the strings after it.
class StatMountAnswer {
public:
    // statmount of the mount with `unique_id` for the `wanted` STATMOUNT_*
    // bits, retried on EINTR and with a larger buffer on EOVERFLOW; bits of
    // `optional` that this kernel does not know yet (it refuses the whole
    // request with EINVAL) are dropped and the rest asked again. 0, or the
    // errno of the last try (ENOSYS/EPERM: no statmount here, or a seccomp
    // filter that says so).
    int ask(std::uint64_t unique_id, std::uint64_t wanted, std::uint64_t optional);
    const StatMount& head() const { return head_; }
    // The string at `offset` (a [str] field of head()); nullopt where none was written.
    std::optional<std::string> string_at(std::uint32_t offset) const;

private:
    StatMount head_{};
    std::vector<std::uint64_t> buffer_;
};

}  // namespace polyns::sys
