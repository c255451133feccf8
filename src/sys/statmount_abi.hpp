// statmount(2) (Linux 6.8; one number on every architecture) and the unique
// mount id of statx(2). Debian 12's kernel headers predate both: the ABI is
// spelled out here. Private to src/sys.
#pragma once

#include <cstddef>
#include <cstdint>

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

}  // namespace polyns::sys
