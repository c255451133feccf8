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
    UniqueFd fd(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!fd) return make_error("open mount namespace", "/proc/self/ns/mnt", "open", errno);
    return fd;
}

Result<ino_t> namespace_inode(int ns_fd) {
    struct stat st {};
    if (::fstat(ns_fd, &st) != 0) return make_error("stat mount namespace", "", "fstat", errno);
    return st.st_ino;
}

Result<ino_t> current_mount_namespace_inode() {
    struct stat st {};
    if (::stat("/proc/self/ns/mnt", &st) != 0)
        return make_error("stat mount namespace", "/proc/self/ns/mnt", "stat", errno);
    return st.st_ino;
}

Result<void> unshare_mount_namespace() {
    if (int err = injected_fault("unshare")) return make_error("create mount namespace", "", "unshare", err);
    if (::unshare(CLONE_NEWNS) != 0) return make_error("create mount namespace", "", "unshare", errno);
    return {};
}

Result<void> enter_mount_namespace(int ns_fd) {
    if (::setns(ns_fd, CLONE_NEWNS) != 0)
        return make_error("return to the original mount namespace", "", "setns", errno);
    return {};
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

Result<void> ProcessDirs::restore() const {
    if (::fchdir(root_.get()) != 0) return make_error("restore the root directory", "", "fchdir", errno);
    if (::chroot(".") != 0) return make_error("restore the root directory", "", "chroot", errno);
    if (::fchdir(cwd_.get()) != 0) return make_error("restore the working directory", "", "fchdir", errno);
    return {};
}

}  // namespace polyns::sys
