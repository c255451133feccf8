#include "polyns/sys/namespace.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "fault_injection.hpp"

namespace polyns::sys {

Result<UniqueFd> open_mount_namespace() {
    // thread-self: in a thread other than the leader, /proc/self is the
    // leader's, whose namespace may differ from this thread's.
    UniqueFd fd(::open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!fd) return make_error("open mount namespace", "/proc/thread-self/ns/mnt", "open", errno);
    return fd;
}

Result<ino_t> namespace_inode(int ns_fd) {
    struct stat st {};
    if (::fstat(ns_fd, &st) != 0) return make_error("stat mount namespace", "", "fstat", errno);
    return st.st_ino;
}

Result<ino_t> current_mount_namespace_inode() {
    struct stat st {};
    if (::stat("/proc/thread-self/ns/mnt", &st) != 0)
        return make_error("stat mount namespace", "/proc/thread-self/ns/mnt", "stat", errno);
    return st.st_ino;
}

Result<void> unshare_mount_namespace() {
    if (int err = injected_fault("unshare")) return make_error("create mount namespace", "", "unshare", err);
    if (::unshare(CLONE_NEWNS) != 0) return make_error("create mount namespace", "", "unshare", errno);
    return {};
}

Result<void> enter_mount_namespace(int ns_fd) {
    if (int err = injected_fault("setns"))
        return make_error("return to the original mount namespace", "", "setns", err);
    if (::setns(ns_fd, CLONE_NEWNS) != 0)
        return make_error("return to the original mount namespace", "", "setns", errno);
    return {};
}

namespace {

// Whether "/" is the root of a mount; unknown (before Linux 5.8) counts as yes,
// and the plain path is tried.
bool root_is_mount_point() {
    struct statx st {};
    if (::statx(AT_FDCWD, "/", AT_STATX_DONT_SYNC, STATX_TYPE, &st) != 0) return true;
    if ((st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0) return true;
    return (st.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

const char* propagation_step(Propagation propagation) {
    return propagation == Propagation::Slave ? "make / slave" : "make / private";
}

}  // namespace

Result<void> set_namespace_propagation(Propagation propagation) {
    if (root_is_mount_point()) return set_propagation_recursive("/", propagation);
    // A chroot into a plain directory: the mount containing it is above "/".
    // Only the thread's own fs context moves (unshare gave it its own), and
    // nothing is resolved by a user-chosen path while it is away.
    const char* step = propagation_step(propagation);
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return make_error(step, "/", "open", errno);
    UniqueFd cwd(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cwd) return make_error(step, ".", "open", errno);
    UniqueFd ns(::open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!ns) return make_error(step, "/proc/thread-self/ns/mnt", "open", errno);
    if (int err = injected_fault("setns_self")) return make_error(step, "", "setns", err);
    if (::setns(ns.get(), CLONE_NEWNS) != 0) return make_error(step, "", "setns", errno);
    auto changed = set_propagation_recursive("/", propagation);
    // Back into the chroot whatever happened; a failure here leaves the root
    // outside it, which the caller's rollback (setns back, saved root) fixes.
    if (::fchdir(root.get()) != 0 || ::chroot(".") != 0)
        return make_error(step, "", "chroot", errno, "cannot return to the chroot after changing propagation");
    if (::fchdir(cwd.get()) != 0) return make_error(step, "", "fchdir", errno);
    return changed;
}

Result<std::size_t> thread_count() {
    UniqueFd fd(::open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return make_error("count threads", "/proc/self/task", "open", errno);
    DIR* dir = ::fdopendir(fd.get());
    if (dir == nullptr) return make_error("count threads", "/proc/self/task", "fdopendir", errno);
    fd.release();
    std::size_t count = 0;
    errno = 0;
    while (struct dirent* e = ::readdir(dir)) {
        if (e->d_name[0] != '.') ++count;
    }
    int err = errno;
    ::closedir(dir);
    if (err != 0) return make_error("count threads", "/proc/self/task", "readdir", err);
    return count;
}

Result<ProcessDirs> ProcessDirs::save() {
    ProcessDirs dirs;
    dirs.root_.reset(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dirs.root_) return make_error("remember the root directory", "/", "open", errno);
    dirs.cwd_.reset(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dirs.cwd_) return make_error("remember the working directory", ".", "open", errno);
    return dirs;
}

Result<void> ProcessDirs::restore_root() const {
    if (int err = injected_fault("restore_root")) return make_error("restore the root directory", "", "chroot", err);
    if (::fchdir(root_.get()) != 0) return make_error("restore the root directory", "", "fchdir", errno);
    if (::chroot(".") != 0) return make_error("restore the root directory", "", "chroot", errno);
    return {};
}

Result<void> ProcessDirs::restore_cwd() const {
    if (int err = injected_fault("restore_cwd"))
        return make_error("restore the working directory", "", "fchdir", err);
    if (::fchdir(cwd_.get()) != 0) return make_error("restore the working directory", "", "fchdir", errno);
    return {};
}

Result<void> ProcessDirs::restore() const {
    if (auto r = restore_root(); !r) return r;
    return restore_cwd();
}

bool ProcessDirs::root_is_current() const {
    struct statx saved {};
    struct statx current {};
    constexpr unsigned mask = STATX_INO | STATX_MNT_ID;
    if (::statx(root_.get(), "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, mask, &saved) != 0) return false;
    if (::statx(AT_FDCWD, "/", AT_STATX_DONT_SYNC, mask, &current) != 0) return false;
    // Without STATX_MNT_ID (before 5.8) a bind mount of the same directory
    // would look the same: unknown counts as "not current".
    if ((saved.stx_mask & current.stx_mask & STATX_MNT_ID) == 0) return false;
    return saved.stx_dev_major == current.stx_dev_major && saved.stx_dev_minor == current.stx_dev_minor &&
           saved.stx_ino == current.stx_ino && saved.stx_mnt_id == current.stx_mnt_id;
}

}  // namespace polyns::sys
