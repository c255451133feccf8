#include "polyns/sys/path.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <vector>

#include "fault_injection.hpp"
#include "mount_trust.hpp"

namespace polyns::sys {
namespace {

std::atomic<PathResolver> g_resolver{PathResolver::Auto};
// Set once openat2 answered ENOSYS, so later calls go straight to the walk.
std::atomic<bool> g_openat2_missing{false};

int last_component_flags(int flags) {
    flags |= O_NOFOLLOW | O_CLOEXEC;
    if ((flags & O_PATH) == 0) flags |= O_NONBLOCK | O_NOCTTY;
    return flags;
}

Error symlink_error(const std::string& step, const std::string& path, const std::string& syscall) {
    return make_error(step, path, syscall, ELOOP,
                      "a component is a symlink; symlinks are never followed here",
                      "use the real path, without symlinks");
}

// O_PATH|O_NOFOLLOW opens a symlink itself instead of failing: refuse it here,
// so every caller gets ELOOP for a symlink whatever its flags.
Result<UniqueFd> refuse_symlink_fd(UniqueFd fd, int flags, const std::string& step,
                                   const std::string& path, const std::string& syscall) {
    if ((flags & O_PATH) == 0 || (flags & O_DIRECTORY) != 0) return fd;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return make_error(step, path, "fstat", errno);
    if (S_ISLNK(st.st_mode)) return symlink_error(step, path, syscall);
    return fd;
}

// After ENOTDIR or ELOOP from an O_NOFOLLOW open, tell "is a symlink" apart.
// AT_STATX_DONT_SYNC: if a mount appeared on the name meanwhile, its
// filesystem is not asked (a symlink is never a FUSE mount root anyway).
bool is_symlink_at(int dir_fd, const char* name) {
    struct statx stx {};
    return ::statx(dir_fd, name, AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_TYPE, &stx) == 0 &&
           (stx.stx_mask & STATX_TYPE) != 0 && S_ISLNK(stx.stx_mode);
}

Result<std::vector<std::string>> split_components(const std::string& path, const std::string& step) {
    if (path.empty() || path.front() != '/')
        return make_error(step, path, "", EINVAL, "not an absolute path");
    if (path.find('\0') != std::string::npos)
        return make_error(step, path, "", EINVAL, "contains a NUL byte");
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (pos < path.size()) {
        std::size_t next = path.find('/', pos);
        if (next == std::string::npos) next = path.size();
        std::string part = path.substr(pos, next - pos);
        if (part == "." || part == "..")
            return make_error(step, path, "", EINVAL, "'.' and '..' components are refused");
        if (!part.empty()) parts.push_back(std::move(part));
        pos = next + 1;
    }
    return parts;
}

constexpr unsigned long long no_links = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

long call_openat2(int dir_fd, const char* name, int flags, unsigned long long resolve) {
    struct open_how how {};
    how.flags = static_cast<unsigned long long>(flags);
    how.resolve = resolve;
    for (;;) {
        long fd = ::syscall(SYS_openat2, dir_fd, name, &how, sizeof how);
        if (fd >= 0 || (errno != EINTR && errno != EAGAIN)) return fd;
    }
}

bool use_openat2() {
    PathResolver resolver = g_resolver.load();
    return resolver == PathResolver::Openat2 || (resolver == PathResolver::Auto && !g_openat2_missing.load());
}

// openat2 answered ENOSYS: from now on the component walk (unless a test
// forced openat2, which then reports the ENOSYS).
bool openat2_missing(int err) {
    if (err != ENOSYS || g_resolver.load() == PathResolver::Openat2) return false;
    g_openat2_missing.store(true);
    return true;
}

// The checked O_PATH fd of a component, opened again with the caller's flags
// (last_component_flags applied): a directory through ".", which stays on the
// same mount; anything else through its /proc/self/fd link. Never by name
// again: the name may lead somewhere else by now.
Result<UniqueFd> reopen(UniqueFd path_fd, mode_t type, int flags, const std::string& step, const std::string& path) {
    if ((flags & O_PATH) != 0) return path_fd;
    if (S_ISDIR(type)) {
        UniqueFd fd(::openat(path_fd.get(), ".", flags));
        if (!fd) return make_error(step, path, "openat", errno);
        return fd;
    }
    if ((flags & O_DIRECTORY) != 0) return make_error(step, path, "openat", ENOTDIR);
    std::string link = "/proc/self/fd/" + std::to_string(path_fd.get());
    UniqueFd fd(::open(link.c_str(), flags & ~O_NOFOLLOW));
    if (!fd) return make_error(step, path, "open", errno);
    return fd;
}

// Error of an open of `name` below `dir_fd` that failed with `err`.
Error component_error(int dir_fd, const std::string& name, int err, const std::string& step, const std::string& path,
                      const std::string& syscall) {
    if ((err == ELOOP || err == ENOTDIR) && is_symlink_at(dir_fd, name.c_str()))
        return symlink_error(step, path, syscall);
    if (err == ELOOP) return symlink_error(step, path, syscall);
    return make_error(step, path, syscall, err);
}

// `name` (a mount point) below `dir_fd`, crossed with O_PATH only: that asks
// the mounted filesystem nothing. Judged by check_crossed_mount before any
// other call touches it.
Result<UniqueFd> cross_mount(int dir_fd, const std::string& name, int flags, const std::string& step,
                             const std::string& mount_point, const std::string& path) {
    int path_flags = O_PATH | O_NOFOLLOW | O_CLOEXEC | (flags & O_DIRECTORY);
    long raw = call_openat2(dir_fd, name.c_str(), path_flags, no_links);
    if (raw < 0) return component_error(dir_fd, name, errno, step, path, "openat2");
    UniqueFd fd(static_cast<int>(raw));
    auto probe = probe_mount(fd.get(), step, path);
    if (!probe) return probe.error();
    if (S_ISLNK(probe->type)) return symlink_error(step, path, "openat2");
    if (auto ok = check_crossed_mount(fd.get(), *probe, mount_point, step, path); !ok) return ok.error();
    return reopen(std::move(fd), probe->type, flags, step, path);
}

// One component with openat2, never crossing a mount unchecked
// (RESOLVE_NO_XDEV: a mount point answers EXDEV before anything is asked of
// the filesystem mounted there). `flags` are final (last_component_flags).
Result<UniqueFd> open_component_openat2(int dir_fd, const std::string& name, int flags, const std::string& step,
                                        const std::string& mount_point, const std::string& path) {
    long raw = call_openat2(dir_fd, name.c_str(), flags, no_links | RESOLVE_NO_XDEV);
    if (raw >= 0) return refuse_symlink_fd(UniqueFd(static_cast<int>(raw)), flags, step, path, "openat2");
    int err = errno;
    if (err == EXDEV) return cross_mount(dir_fd, name, flags, step, mount_point, path);
    return component_error(dir_fd, name, err, step, path, "openat2");
}

// One component without openat2: O_PATH|O_NOFOLLOW (asks no filesystem for
// anything but the lookup in the directory we are in), then statx without
// sync tells whether a mount was crossed.
Result<UniqueFd> open_component_walk(int dir_fd, const std::string& name, int flags, const std::string& step,
                                     const std::string& mount_point, const std::string& path) {
    int path_flags = O_PATH | O_NOFOLLOW | O_CLOEXEC | (flags & O_DIRECTORY);
    UniqueFd fd;
    for (;;) {
        fd = UniqueFd(::openat(dir_fd, name.c_str(), path_flags));
        if (fd || errno != EINTR) break;
    }
    if (!fd) return component_error(dir_fd, name, errno, step, path, "openat");
    auto probe = probe_mount(fd.get(), step, path);
    if (!probe) return probe.error();
    if (S_ISLNK(probe->type)) return symlink_error(step, path, "openat");
    auto parent = probe_mount(dir_fd, step, path);
    if (!parent) return parent.error();
    if (!same_mount(*parent, *probe))
        if (auto ok = check_crossed_mount(fd.get(), *probe, mount_point, step, path); !ok) return ok.error();
    return reopen(std::move(fd), probe->type, flags, step, path);
}

Result<UniqueFd> open_component(int dir_fd, const std::string& name, int flags, const std::string& step,
                                const std::string& mount_point, const std::string& path) {
    if (use_openat2()) {
        auto fd = open_component_openat2(dir_fd, name, flags, step, mount_point, path);
        if (fd || !openat2_missing(fd.error().err)) return fd;
    }
    return open_component_walk(dir_fd, name, flags, step, mount_point, path);
}

// Component by component from "/", every crossed mount judged.
Result<UniqueFd> open_by_components(const std::string& path, const std::vector<std::string>& parts, int flags,
                                    const std::string& step) {
    if (parts.empty()) {
        UniqueFd root(::open("/", last_component_flags(flags) & ~O_NOFOLLOW));
        if (!root) return make_error(step, path, "open", errno);
        return root;
    }
    UniqueFd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return make_error(step, path, "open", errno);
    std::string walked;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        bool last = i + 1 == parts.size();
        walked += "/" + parts[i];
        int flags_here = last ? last_component_flags(flags) : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        auto next = open_component(dir.get(), parts[i], flags_here, step, walked, path);
        if (!next) return next.error();
        dir = std::move(*next);
    }
    return dir;
}

// The whole path in one openat2 that crosses no mount (RESOLVE_NO_XDEV), so
// it stays on the root filesystem: nothing a user mounted is asked anything.
// EXDEV (a mount on the way) sends the caller to the component walk.
Result<UniqueFd> open_on_root_mount(const std::string& path, int flags, const std::string& step) {
    long raw = call_openat2(AT_FDCWD, path.c_str(), last_component_flags(flags), no_links | RESOLVE_NO_XDEV);
    if (raw >= 0) return refuse_symlink_fd(UniqueFd(static_cast<int>(raw)), flags, step, path, "openat2");
    int err = errno;
    if (err == ELOOP) return symlink_error(step, path, "openat2");
    // O_DIRECTORY on a trailing symlink says ENOTDIR; ask again for the
    // link itself (O_PATH|O_NOFOLLOW returns it) to report it as one.
    if (err == ENOTDIR && (flags & O_DIRECTORY) != 0) {
        UniqueFd link(static_cast<int>(
            call_openat2(AT_FDCWD, path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC, no_links | RESOLVE_NO_XDEV)));
        struct stat st {};
        if (link && ::fstat(link.get(), &st) == 0 && S_ISLNK(st.st_mode)) return symlink_error(step, path, "openat2");
    }
    return make_error(step, path, "openat2", err);
}

}  // namespace

void set_path_resolver(PathResolver resolver) { g_resolver.store(resolver); }

bool is_single_component(std::string_view name) {
    return !name.empty() && name != "." && name != ".." &&
           name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

std::string join_path(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    if (dir.back() == '/') return dir + name;
    return dir + "/" + name;
}

bool split_parent(const std::string& path, std::string& parent, std::string& name) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    std::size_t slash = trimmed.rfind('/');
    if (slash == std::string::npos || trimmed == "/") return false;
    name = trimmed.substr(slash + 1);
    parent = slash == 0 ? "/" : trimmed.substr(0, slash);
    return !name.empty();
}

Result<UniqueFd> open_below(int dir_fd, const std::string& name, int flags, const std::string& step,
                            const std::string& path) {
    if (!is_single_component(name))
        return make_error(step, path, "", EINVAL, "'" + name + "' is not a single path component");
    if (int err = injected_fault(step)) return make_error(step, path, "openat", err);
    return open_component(dir_fd, name, last_component_flags(flags), step, path, path);
}

Result<UniqueFd> open_path(const std::string& path, int flags, const std::string& step) {
    auto parts = split_components(path, step);
    if (!parts) return parts.error();
    if (int err = injected_fault(step)) return make_error(step, path, "openat2", err);
    if (use_openat2() && !parts->empty()) {
        auto fd = open_on_root_mount(path, flags, step);
        if (fd) return fd;
        int err = fd.error().err;
        if (err != EXDEV && !openat2_missing(err)) return fd;
    }
    return open_by_components(path, *parts, flags, step);
}

}  // namespace polyns::sys
