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
    unsigned long flags = 0;  // MS_NOSUID | MS_NODEV | MS_NOEXEC
    std::string fs_options;   // tmpfs data, comma-separated, in the order written
};

Result<MountOptions> parse_mount_options(std::string_view text, MountKind kind);

}  // namespace polyns::planner
