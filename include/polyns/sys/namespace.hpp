// Mount-namespace operations: keep an fd of the namespace we came from, make a
// new one, go back; and the checks that make going back possible.
#pragma once

#include <sys/types.h>

#include <cstddef>

#include "polyns/result.hpp"
#include "polyns/sys/mount.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys {

// open("/proc/thread-self/ns/mnt"): the calling thread's namespace.
Result<UniqueFd> open_mount_namespace();
// The namespace's inode number: two fds name the same namespace iff these are equal.
Result<ino_t> namespace_inode(int ns_fd);
Result<ino_t> current_mount_namespace_inode();

Result<void> unshare_mount_namespace();
// setns(ns_fd, CLONE_NEWNS). Note: the kernel then sets root and cwd to the
// namespace's root; ProcessDirs below puts them back.
Result<void> enter_mount_namespace(int ns_fd);

// Makes the whole tree of the (new) namespace recursively slave or private.
// In a chroot whose / is not a mount point (a build chroot made from a plain
// directory) "/" cannot be changed (EINVAL): the thread then enters its own
// namespace again, which puts its root at the namespace's root, changes the
// propagation there, and goes back to its chroot and cwd (fds taken first).
Result<void> set_namespace_propagation(Propagation propagation);

// Entries in /proc/self/task (the engine serves multithreaded callers; this
// is for tests and diagnostics).
Result<std::size_t> thread_count();

// The caller's root and cwd, saved before unshare and restored after setns back,
// so a failed session leaves them where they were (a chroot stays a chroot).
class ProcessDirs {
public:
    static Result<ProcessDirs> save();
    Result<void> restore() const;  // restore_root(), then restore_cwd()
    Result<void> restore_root() const;
    Result<void> restore_cwd() const;
    // Whether the process's root now is the saved one (same mount, same
    // directory): a root that could not be restored is harmless only then.
    bool root_is_current() const;

private:
    UniqueFd root_;
    UniqueFd cwd_;
};

}  // namespace polyns::sys
