// The mntopts= flag: generic flags (nosuid, nodev, noexec) become mount
// flags for any instance; filesystem options are tmpfs data, refused on bind
// mounts. Split with libmount's pure option-string functions.
#pragma once

#include <string>
#include <string_view>

#include "polyns/plan.hpp"
#include "polyns/result.hpp"

namespace polyns::planner {

struct MountOptions {
    unsigned long flags = 0;    // MS_NOSUID | MS_NODEV | MS_NOEXEC
    unsigned long lifted = 0;   // tmpfs only: MS_NOSUID / MS_NODEV the rule asked off (`suid`, `dev`)
    std::string fs_options;     // tmpfs data, comma-separated, in the order written
};

Result<MountOptions> parse_mount_options(std::string_view text, MountKind kind);

// A tmpfs instance's mount: nosuid,nodev unless the rule says `suid`/`dev`
// (what the rule writes wins), and systemd's limits for a nested tmpfs
// (PrivateTmp=disconnected, nspawn: size=10%,nr_inodes=400k) where the rule
// names none (size= or nr_blocks=; nr_inodes=). `size=0` lifts a limit.
void apply_tmpfs_defaults(MountOptions& options);

}  // namespace polyns::planner
