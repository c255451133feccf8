// Removal of a directory tree by fd (DESIGN invariant 9), for tmpdir instances.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "polyns/result.hpp"
#include "polyns/sys/credentials.hpp"

namespace polyns::sys {

struct RemovalReport {
    std::size_t removed = 0;         // entries unlinked (files and directories)
    bool removed_root = false;       // the directory itself is gone
    std::vector<std::string> kept;   // paths left in place: mount points (never crossed), errors
};

// Removes `name` below `parent_fd` and everything in it:
//  - every directory is opened with O_DIRECTORY|O_NOFOLLOW relative to its parent's fd,
//    so a symlink is unlinked, never followed;
//  - a directory on another mount (st_dev, statx mount id, STATX_ATTR_MOUNT_ROOT)
//    is left alone, with whatever is above it;
//  - iterative, with a bounded number of open fds: deeper levels are re-entered
//    through ".." and checked to be the directory we came from (device and inode),
//    so a tree moved meanwhile stops the removal instead of leading it astray.
// An Error only when the removal cannot start or had to stop; what is left
// behind otherwise is listed in `kept`.
// With root's rights: only for trees no user could put anything of someone
// else's into (tests, root's own scratch space).
Result<RemovalReport> remove_tree_at(int parent_fd, const std::string& name, const std::string& path);

// The same walk with `who`'s rights (DESIGN invariant 9): a child process
// with exactly that uid, gid and supplementary groups and no capability empties
// the tree, so the kernel judges every unlink as it would judge the owner's
// own (sticky bits, directory modes, ACLs, LSMs, immutable flags); what she
// could not remove herself (another user's 0700 directory she renamed in) stays
// and is listed in `kept`. Her own directories lacking u+rwx are given it
// first, as she could. The emptied root is then removed by the caller (an
// empty directory only). A child that does not finish within 120 s (stopped
// by its owner, say) is killed and the removal fails. For instances:
// polyns's close and rollback, and `polyns gc`. who.uid == 0 is remove_tree_at.
Result<RemovalReport> remove_tree_as(const Credentials& who, int parent_fd, const std::string& name,
                                     const std::string& path);

// Empties the directory NAME below `parent_fd` with `who`'s rights
// (remove_tree_as), then removes the empty directory itself. Only a directory
// `who` owns. Returns how many entries were left in place.
Result<std::size_t> empty_and_remove_as(int parent_fd, const std::string& name, const std::string& path,
                                        const Credentials& who);

}  // namespace polyns::sys
