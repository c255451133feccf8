// Safe path resolution (DESIGN invariant 1 and 12): absolute paths are opened
// without following any symlink in any component, magic links included, and
// without "." / ".." components; opens never block (O_PATH, or O_NONBLOCK).
// Every mount point on the way is crossed with an O_PATH open and identified
// first (src/sys/mount_trust.hpp): a FUSE filesystem a user mounted is never
// entered, so no request ever waits for her daemon (EXDEV, naming it).
#pragma once

#include <string>
#include <string_view>

#include "polyns/result.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys {

// openat2(RESOLVE_NO_SYMLINKS) when the kernel has it, else a component walk
// with O_PATH|O_NOFOLLOW|O_DIRECTORY. Tests force one or the other.
enum class PathResolver { Auto, Openat2, ComponentWalk };
void set_path_resolver(PathResolver resolver);

// Opens the absolute `path`. `flags` are the open flags for the last component
// (O_PATH, O_DIRECTORY, O_RDONLY ...); O_NOFOLLOW and O_CLOEXEC are always added,
// O_NONBLOCK|O_NOCTTY unless O_PATH. A symlink anywhere is ELOOP, also as the
// last component of an O_PATH open. Errors carry `step` and the path.
//
// With Links::FollowRootOnly (the configured polydir and template paths), a
// symlink is followed where no user could have planted or swapped it:
// root-owned, and every directory walked to reach it root-owned and not
// writable by group or other (systemd's CHASE_SAFE rule: OSTree's
// /home -> var/home, /var/run -> ../run). Any other symlink is ELOOP.
enum class Links { Refuse, FollowRootOnly };
Result<UniqueFd> open_path(const std::string& path, int flags, const std::string& step,
                           Links links = Links::Refuse);

// While one of these lives (one session's pinning, in the session's own
// namespace, before anything is mounted there), the mount points open_path
// crosses are kept with their checked directory fds, and a later path below
// one starts from it: each mount is crossed and judged once per session, not
// once per path. Nothing is kept past the scope; an inner scope is a no-op.
class CrossedMountScope {
public:
    CrossedMountScope();
    ~CrossedMountScope();
    CrossedMountScope(const CrossedMountScope&) = delete;
    CrossedMountScope& operator=(const CrossedMountScope&) = delete;

private:
    bool owner_ = false;
};

// Opens one component `name` below `dir_fd`, same rules as open_path.
// `path` (dir + "/" + name) is used for messages only.
Result<UniqueFd> open_below(int dir_fd, const std::string& name, int flags, const std::string& step,
                            const std::string& path);

// True for a single path component: non-empty, no '/', not "." or "..", no NUL.
bool is_single_component(std::string_view name);

// "dir/name" without doubling a trailing slash of dir.
std::string join_path(const std::string& dir, const std::string& name);

// Parent path and last component of an absolute path ("/a/b" -> "/a", "b").
// "/" has no parent: returns false.
bool split_parent(const std::string& path, std::string& parent, std::string& name);

}  // namespace polyns::sys
