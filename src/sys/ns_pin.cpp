#include "polyns/sys/ns_pin.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "fault_injection.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/mount.hpp"
#include "polyns/sys/path.hpp"

namespace polyns::sys {
namespace {

constexpr const char* kStep = "use the pin directory";

// True when the directory was made now.
Result<bool> make_dir_if_missing(int parent_fd, const std::string& name, mode_t mode, const std::string& path) {
    if (::mkdirat(parent_fd, name.c_str(), mode) == 0) return true;
    if (errno != EEXIST) return make_error(kStep, path, "mkdirat", errno);
    return false;
}

Result<UniqueFd> open_checked_dir(int parent_fd, const std::string& name, const std::string& path, mode_t forbidden) {
    auto fd = open_below(parent_fd, name, O_PATH | O_DIRECTORY, kStep, path);
    if (!fd) return fd.error();
    auto st = stat_fd(fd->get(), kStep, path);
    if (!st) return st.error();
    if (st->st_uid != 0 || (st->st_mode & forbidden) != 0)
        return make_error(kStep, path, "", EPERM,
                          "not root-owned with mode " + octal_mode(st->st_mode & ~forbidden & 07777) +
                              " or stricter (it is " + std::to_string(st->st_uid) + ", " +
                              octal_mode(st->st_mode & 07777) + ")",
                          "remove it: the module makes it again");
    return fd;
}

std::string below(int dir_fd, const std::string& name) { return fd_path(dir_fd) + "/" + name; }

// The namespace the pins live in (the file `home`), nullopt before the first pin.
Result<std::optional<NamespaceId>> read_home(int dir_fd) {
    auto text = read_small_file(dir_fd, "home", 64);
    if (!text) return text.error();
    if (!*text) return std::optional<NamespaceId>();
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    if (std::sscanf((*text)->c_str(), "%llu %llu", &dev, &ino) != 2)
        return make_error(kStep, std::string(pin_directory) + "/home", "", EINVAL, "not two numbers",
                          "remove it: the module writes it again");
    return std::optional<NamespaceId>(NamespaceId{static_cast<dev_t>(dev), static_cast<ino_t>(ino)});
}

Error not_home() {
    return make_error(kStep, pin_directory, "", EXDEV,
                      "this process is in a session's namespace, not in the one the pins live in",
                      "if that namespace is gone (it never is on a host), remove " + std::string(pin_directory) +
                          "/home");
}

}  // namespace

Result<void> check_pin_home(int dir_fd) {
    auto home = read_home(dir_fd);
    if (!home) return home.error();
    if (!*home) return {};
    auto here_fd = open_thread_mount_namespace();
    if (!here_fd) return here_fd.error();
    auto here = namespace_id(here_fd->get());
    if (!here) return here.error();
    if (**home != *here) return not_home();
    return {};
}

namespace {

// The checked walk, making what is missing with create.
Result<UniqueFd> walk_to_pin_directory(bool create) {
    auto run = open_path("/run", O_PATH | O_DIRECTORY, kStep);
    if (!run) return run.error();
    if (create) {
        if (auto r = make_dir_if_missing(run->get(), "polyns", 0700, "/run/polyns"); !r) return r.error();
    }
    auto top = open_checked_dir(run->get(), "polyns", "/run/polyns", S_IWGRP | S_IWOTH);
    if (!top) return top.error();
    if (create) {
        if (auto r = make_dir_if_missing(top->get(), "ns", 0700, pin_directory); !r) return r.error();
    }
    return open_checked_dir(top->get(), "ns", pin_directory, 0077);
}

// Every login with persist opens the directory: one lookup when it is there.
// No symlink is followed; mounts on the way are crossed, which is safe here:
// /run and /run/polyns are root's (a user can mount nothing on them) and
// the last one is the directory's own private mount. A root-owned 0700
// directory is what only root can have put there. Anything else: the walk.
Result<UniqueFd> open_pin_directory_at_once() {
    struct open_how how {};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    UniqueFd dir(static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, pin_directory, &how, sizeof how)));
    if (!dir) return make_error(kStep, pin_directory, "openat2", errno);
    auto st = stat_fd(dir.get(), kStep, pin_directory);
    if (!st) return st.error();
    if (!S_ISDIR(st->st_mode) || st->st_uid != 0 || (st->st_mode & 0077) != 0)
        return make_error(kStep, pin_directory, "", EPERM, "not root-only");
    return dir;
}

}  // namespace

Result<UniqueFd> open_pin_directory(bool create) {
    auto dir = open_pin_directory_at_once();
    if (!dir) dir = walk_to_pin_directory(create);
    if (!dir || !create) return dir;

    // Where are we? The pins live in the namespace recorded in `home`.
    auto here_fd = open_thread_mount_namespace();
    if (!here_fd) return here_fd.error();
    auto here = namespace_id(here_fd->get());
    if (!here) return here.error();
    auto home = read_home(dir->get());
    if (!home) return home.error();
    if (*home && **home != *here) return not_home();

    // At home (or the first time): the directory is a private mount of its
    // own, so the pins never propagate anywhere. Set up under a lock, so two
    // first sessions do not stack two binds.
    auto pos = mount_position(dir->get(), kStep, pin_directory);
    if (!pos) return pos.error();
    if (!*home || !pos->is_mount_root) {
        auto setup = lock_in_directory(dir->get(), "setup.lock");
        if (!setup) return setup.error();
        dir = walk_to_pin_directory(true);
        if (!dir) return dir;
        pos = mount_position(dir->get(), kStep, pin_directory);
        if (!pos) return pos.error();
        if (!pos->is_mount_root) {
            const std::string self = fd_path(dir->get());
            if (int err = injected_fault("mount")) return make_error(kStep, pin_directory, "mount", err);
            if (::mount(self.c_str(), self.c_str(), nullptr, MS_BIND, nullptr) != 0)
                return make_error(kStep, pin_directory, "mount (bind onto itself)", errno);
            dir = walk_to_pin_directory(true);
            if (!dir) return dir;
        }
        if (::mount(nullptr, fd_path(dir->get()).c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
            return make_error(kStep, pin_directory, "mount (make private)", errno);
        if (auto r = write_small_file(dir->get(), "home", std::to_string(here->dev) + " " + std::to_string(here->ino) + "\n");
            !r)
            return r.error();
        return dir;
    }
    // Joining makes no mount: the directory is made private again (an
    // admin's `mount --make-rshared /run`) only before a pin is made
    // (pin_namespace), so a repeat login takes no mount lock.
    return dir;
}

namespace {

// DIR/NAME (made 0600 when missing), flock()ed with `how`, waiting.
Result<UniqueFd> flock_in_directory(int dir_fd, const std::string& name, int how, const char* step) {
    const std::string path = std::string(pin_directory) + "/" + name;
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600));
    if (!fd) return make_error(step, path, "open", errno);
    while (::flock(fd.get(), how) != 0) {
        if (errno != EINTR) return make_error(step, path, "flock", errno);
    }
    return fd;
}

}  // namespace

Result<UniqueFd> lock_in_directory(int dir_fd, const std::string& name) {
    return flock_in_directory(dir_fd, name, LOCK_EX, "lock the user's pin");
}

Result<UniqueFd> hold_session(int dir_fd, const std::string& name) {
    // Never waits long: an exclusive holder only ever tests (sessions_held) and lets go.
    return flock_in_directory(dir_fd, name, LOCK_SH, "count the user's session");
}

Result<bool> sessions_held(int dir_fd, const std::string& name) {
    const std::string path = std::string(pin_directory) + "/" + name;
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return false;
        return make_error("count the user's sessions", path, "open", errno);
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return false;  // released with the fd
    if (errno == EWOULDBLOCK) return true;
    return make_error("count the user's sessions", path, "flock", errno);
}

Result<NamespaceId> namespace_id(int ns_fd) {
    struct stat st {};
    if (::fstat(ns_fd, &st) != 0) return make_error("identify a mount namespace", "", "fstat", errno);
    return NamespaceId{st.st_dev, st.st_ino};
}

Result<UniqueFd> open_thread_mount_namespace() {
    UniqueFd fd(::open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!fd) return make_error("open mount namespace", "/proc/thread-self/ns/mnt", "open", errno);
    return fd;
}

Result<UniqueFd> open_pinned_namespace(int dir_fd, const std::string& name) {
    const std::string path = std::string(pin_directory) + "/" + name;
    const char* step = "check the pinned namespace";
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd) return make_error(step, path, "open", errno);
    struct statfs fs {};
    if (::fstatfs(fd.get(), &fs) != 0) return make_error(step, path, "fstatfs", errno);
    if (fs.f_type != NSFS_MAGIC) return make_error(step, path, "", EINVAL, "no namespace is mounted there");
    int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
    if (type < 0) return make_error(step, path, "ioctl(NS_GET_NSTYPE)", errno);
    if (type != CLONE_NEWNS) return make_error(step, path, "", EINVAL, "not a mount namespace");

    // Only a namespace made with our own privileges may be joined: one a user
    // made (unshare -Urm) belongs to her user namespace.
    UniqueFd owner(::ioctl(fd.get(), NS_GET_USERNS));
    if (!owner) return make_error(step, path, "ioctl(NS_GET_USERNS)", errno, "its owning user namespace is not ours");
    struct stat owner_st {};
    struct stat ours {};
    if (::fstat(owner.get(), &owner_st) != 0) return make_error(step, path, "fstat", errno);
    if (::stat("/proc/thread-self/ns/user", &ours) != 0)
        return make_error(step, "/proc/thread-self/ns/user", "stat", errno);
    if (owner_st.st_dev != ours.st_dev || owner_st.st_ino != ours.st_ino)
        return make_error(step, path, "", EPERM, "owned by another user namespace (one a user made)");
    return fd;
}

Result<void> pin_namespace(int ns_fd, int dir_fd, const std::string& name) {
    const std::string path = std::string(pin_directory) + "/" + name;
    UniqueFd file(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0400));
    if (!file) return make_error("pin the namespace", path, "open", errno);
    file.reset();
    const std::string source = fd_path(ns_fd);
    const std::string target = below(dir_fd, name);
    // Never a pin that propagates: private again, should someone have made it shared.
    if (::mount(nullptr, fd_path(dir_fd).c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
        return make_error("pin the namespace", pin_directory, "mount (make private)", errno);
    int err = 0;
    for (int attempt = 0; attempt < 8; ++attempt) {
        err = injected_fault("pin");
        if (err == 0) err = ::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) == 0 ? 0 : errno;
        if (err != EINVAL) break;
    }
    if (err != 0) return make_error("pin the namespace", path, "mount", err);
    return {};
}

Result<void> unpin_namespace(int dir_fd, const std::string& name) {
    const std::string path = std::string(pin_directory) + "/" + name;
    const std::string target = below(dir_fd, name);
    // Stacked pins (a race lost long ago) come off one by one.
    for (int i = 0; i < 16; ++i) {
        if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0) {
            if (errno == EINVAL || errno == ENOENT) break;
            return make_error("remove the pin", path, "umount2", errno);
        }
    }
    return remove_file_at(dir_fd, name);
}

Result<void> unpin_user(int dir_fd, const std::string& name, const std::string& live) {
    (void)remove_file_at(dir_fd, name + pin_record_suffix);
    if (!live.empty()) (void)remove_file_at(dir_fd, live);
    return unpin_namespace(dir_fd, name);
}

Result<void> write_small_file(int dir_fd, const std::string& name, const std::string& content) {
    const std::string tmp = name + ".new";
    const std::string path = std::string(pin_directory) + "/" + name;
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    UniqueFd fd(::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return make_error("write the pin's record", path, "open", errno);
    std::size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            ::unlinkat(dir_fd, tmp.c_str(), 0);
            return make_error("write the pin's record", path, "write", e);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0) {
        int e = errno;
        ::unlinkat(dir_fd, tmp.c_str(), 0);
        return make_error("write the pin's record", path, "renameat", e);
    }
    return {};
}

Result<std::optional<std::string>> read_small_file(int dir_fd, const std::string& name, std::size_t max_size) {
    const std::string path = std::string(pin_directory) + "/" + name;
    const char* step = "read the pin's record";
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd) {
        if (errno == ENOENT) return std::optional<std::string>();
        return make_error(step, path, "open", errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return make_error(step, path, "fstat", errno);
    if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077) != 0 ||
        static_cast<std::size_t>(st.st_size) > max_size)
        return make_error(step, path, "", EINVAL, "not a root-only regular file of at most " +
                                                      std::to_string(max_size) + " bytes");
    std::string content(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::read(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return make_error(step, path, "read", errno);
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    content.resize(done);
    return std::optional<std::string>(std::move(content));
}

Result<void> remove_file_at(int dir_fd, const std::string& name) {
    if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT)
        return make_error("remove", std::string(pin_directory) + "/" + name, "unlinkat", errno);
    return {};
}

Result<std::vector<std::string>> directory_names(int dir_fd) {
    UniqueFd listing(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!listing) return make_error("list the pins", pin_directory, "open", errno);
    DIR* dir = ::fdopendir(listing.get());
    if (dir == nullptr) return make_error("list the pins", pin_directory, "fdopendir", errno);
    listing.release();
    std::vector<std::string> names;
    int err = 0;
    for (;;) {
        errno = 0;
        struct dirent* e = ::readdir(dir);
        if (e == nullptr) {
            err = errno;
            break;
        }
        const std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    if (err != 0) return make_error("list the pins", pin_directory, "readdir", err);
    return names;
}

Result<std::optional<time_t>> file_mtime(int dir_fd, const std::string& name) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return std::optional<time_t>();
        return make_error("look at", std::string(pin_directory) + "/" + name, "fstatat", errno);
    }
    return std::optional<time_t>(st.st_mtime);
}

Result<bool> other_process_in_namespace(const NamespaceId& ns, pid_t except) {
    UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc) return make_error("look for the namespace's processes", "/proc", "open", errno);
    UniqueFd listing(::dup(proc.get()));
    if (!listing) return make_error("look for the namespace's processes", "/proc", "dup", errno);
    DIR* dir = ::fdopendir(listing.get());
    if (dir == nullptr) return make_error("look for the namespace's processes", "/proc", "fdopendir", errno);
    listing.release();
    bool found = false;
    int err = 0;
    for (;;) {
        errno = 0;  // readdir leaves errno alone at the end: reset before each call
        struct dirent* e = ::readdir(dir);
        if (e == nullptr) {
            err = errno;
            break;
        }
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || pid <= 0 || pid == except) continue;
        struct stat st {};
        const std::string link = std::string(e->d_name) + "/ns/mnt";
        // Gone meanwhile, or a zombie: not a process that uses the namespace.
        if (::fstatat(proc.get(), link.c_str(), &st, 0) != 0) continue;
        if (st.st_dev == ns.dev && st.st_ino == ns.ino) {
            found = true;
            break;
        }
    }
    ::closedir(dir);
    if (err != 0) return make_error("look for the namespace's processes", "/proc", "readdir", err);
    return found;
}

void change_directory_or_root(const std::string& path) {
    auto fd = open_path(path, O_PATH | O_DIRECTORY, "restore the working directory");
    if (fd && ::fchdir(fd->get()) == 0) return;
    if (::chdir("/") != 0) {
        // "/" of the namespace we just entered: nothing better to offer.
    }
}

std::string current_directory() {
    char buf[PATH_MAX];
    if (::getcwd(buf, sizeof buf) == nullptr) return "/";
    return buf;
}

}  // namespace polyns::sys
