#include "polyns/sys/path.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <utility>
#include <vector>

#include "fault_injection.hpp"
#include "mount_trust.hpp"

namespace polyns::sys {
namespace {

std::atomic<PathResolver> g_resolver{PathResolver::Auto};
// Set once openat2 answered ENOSYS, so later calls go straight to the walk.
std::atomic<bool> g_openat2_missing{false};

// The mount points crossed while a CrossedMountScope lives: walked path (from
// "/") and the directory fd judged enterable there.
using CrossedMounts = std::vector<std::pair<std::string, UniqueFd>>;
thread_local CrossedMounts* g_crossed = nullptr;

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
    std::string link = "/proc/thread-self/fd/" + std::to_string(path_fd.get());
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
                             const std::string& mount_point, const std::string& path, bool& crossed) {
    int path_flags = O_PATH | O_NOFOLLOW | O_CLOEXEC | (flags & O_DIRECTORY);
    long raw = call_openat2(dir_fd, name.c_str(), path_flags, no_links);
    if (raw < 0) return component_error(dir_fd, name, errno, step, path, "openat2");
    UniqueFd fd(static_cast<int>(raw));
    auto probe = probe_mount(fd.get(), step, path);
    if (!probe) return probe.error();
    if (S_ISLNK(probe->type)) return symlink_error(step, path, "openat2");
    if (auto ok = check_crossed_mount(fd.get(), *probe, mount_point, step, path); !ok) return ok.error();
    crossed = true;
    return reopen(std::move(fd), probe->type, flags, step, path);
}

// One component with openat2, never crossing a mount unchecked
// (RESOLVE_NO_XDEV: a mount point answers EXDEV before anything is asked of
// the filesystem mounted there). `flags` are final (last_component_flags).
Result<UniqueFd> open_component_openat2(int dir_fd, const std::string& name, int flags, const std::string& step,
                                        const std::string& mount_point, const std::string& path, bool& crossed) {
    long raw = call_openat2(dir_fd, name.c_str(), flags, no_links | RESOLVE_NO_XDEV);
    if (raw >= 0) return refuse_symlink_fd(UniqueFd(static_cast<int>(raw)), flags, step, path, "openat2");
    int err = errno;
    if (err == EXDEV) return cross_mount(dir_fd, name, flags, step, mount_point, path, crossed);
    return component_error(dir_fd, name, err, step, path, "openat2");
}

// One component without openat2: O_PATH|O_NOFOLLOW (asks no filesystem for
// anything but the lookup in the directory we are in), then statx without
// sync tells whether a mount was crossed.
Result<UniqueFd> open_component_walk(int dir_fd, const std::string& name, int flags, const std::string& step,
                                     const std::string& mount_point, const std::string& path, bool& crossed) {
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
    if (!same_mount(*parent, *probe)) {
        if (auto ok = check_crossed_mount(fd.get(), *probe, mount_point, step, path); !ok) return ok.error();
        crossed = true;
    }
    return reopen(std::move(fd), probe->type, flags, step, path);
}

Result<UniqueFd> open_component(int dir_fd, const std::string& name, int flags, const std::string& step,
                                const std::string& mount_point, const std::string& path, bool& crossed) {
    if (use_openat2()) {
        auto fd = open_component_openat2(dir_fd, name, flags, step, mount_point, path, crossed);
        if (fd || !openat2_missing(fd.error().err)) return fd;
    }
    return open_component_walk(dir_fd, name, flags, step, mount_point, path, crossed);
}

// A crossed mount point that is a directory, kept for the scope's later paths.
void remember_crossing(const std::string& mount_point, int dir_fd) {
    if (g_crossed == nullptr) return;
    for (const auto& entry : *g_crossed)
        if (entry.first == mount_point) return;  // the first view stays
    UniqueFd copy(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
    if (copy) g_crossed->emplace_back(mount_point, std::move(copy));
}

// Component by component from `start_fd` (the directory `walked`, "" for
// "/"), parts[first..]: every crossed mount judged.
Result<UniqueFd> open_by_components(const std::string& path, const std::vector<std::string>& parts,
                                    std::size_t first, int start_fd, std::string walked, int flags,
                                    const std::string& step) {
    UniqueFd dir;
    int current = start_fd;
    for (std::size_t i = first; i < parts.size(); ++i) {
        bool last = i + 1 == parts.size();
        walked += "/" + parts[i];
        int flags_here = last ? last_component_flags(flags) : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        bool crossed = false;
        auto next = open_component(current, parts[i], flags_here, step, walked, path, crossed);
        if (!next) return next.error();
        if (crossed && (flags_here & O_DIRECTORY) != 0) remember_crossing(walked, next->get());
        dir = std::move(*next);
        current = dir.get();
    }
    return dir;
}

// The deepest mount point the scope has crossed that `path` is below: the
// index in `parts` of the first component below it, and its fd (the scope's,
// not to be closed). {0, -1}: none.
std::pair<std::size_t, int> deepest_crossed(const std::string& path, const std::vector<std::string>& parts) {
    std::pair<std::size_t, int> none{0, -1};
    if (g_crossed == nullptr) return none;
    const std::pair<std::string, UniqueFd>* found = nullptr;
    for (const auto& entry : *g_crossed) {
        const std::string& point = entry.first;
        bool below = path.size() > point.size() && path.compare(0, point.size(), point) == 0 &&
                     path[point.size()] == '/';
        if (below && (found == nullptr || point.size() > found->first.size())) found = &entry;
    }
    if (found == nullptr) return none;
    std::size_t depth = 0;  // components in the mount point's path
    for (char c : found->first) depth += c == '/' ? 1 : 0;
    if (depth >= parts.size()) return none;
    return {depth, found->second.get()};
}

// `relative` below `dir_fd` in one openat2 that crosses no mount
// (RESOLVE_NO_XDEV), so it stays on the filesystem it starts on: nothing a
// user mounted is asked anything. EXDEV (a mount on the way) sends the
// caller to the component walk.
Result<UniqueFd> open_on_one_mount(int dir_fd, const std::string& relative, int flags, const std::string& step,
                                   const std::string& path) {
    long raw = call_openat2(dir_fd, relative.c_str(), last_component_flags(flags), no_links | RESOLVE_NO_XDEV);
    if (raw >= 0) return refuse_symlink_fd(UniqueFd(static_cast<int>(raw)), flags, step, path, "openat2");
    int err = errno;
    if (err == ELOOP) return symlink_error(step, path, "openat2");
    // O_DIRECTORY on a trailing symlink says ENOTDIR; ask again for the
    // link itself (O_PATH|O_NOFOLLOW returns it) to report it as one.
    if (err == ENOTDIR && (flags & O_DIRECTORY) != 0) {
        UniqueFd link(static_cast<int>(
            call_openat2(dir_fd, relative.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC, no_links | RESOLVE_NO_XDEV)));
        struct stat st {};
        if (link && ::fstat(link.get(), &st) == 0 && S_ISLNK(st.st_mode)) return symlink_error(step, path, "openat2");
    }
    return make_error(step, path, "openat2", err);
}

// --- following a symlink only where no user could have steered it ---------
// systemd's CHASE_SAFE rule, for OSTree's /home -> var/home and /var/run ->
// ../run: a symlink is followed only if it is root-owned and every directory
// walked to reach it (from "/", across earlier links) is root-owned and not
// writable by group or other: nobody but root could have planted, replaced or
// renamed it. Anything else stays refused (ELOOP).

constexpr int max_followed_links = 32;

bool dir_is_root_only(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

Error unsafe_link_error(const std::string& step, const std::string& path, const std::string& link,
                        const std::string& why) {
    return make_error(step, path, "", ELOOP, "the symlink " + link + " is not followed: " + why,
                      "use the real path, without symlinks");
}

// Path components of a link target; "." and empty parts dropped, ".." kept.
std::vector<std::string> target_components(const std::string& target) {
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (pos <= target.size()) {
        std::size_t next = target.find('/', pos);
        if (next == std::string::npos) next = target.size();
        std::string part = target.substr(pos, next - pos);
        if (!part.empty() && part != ".") parts.push_back(std::move(part));
        pos = next + 1;
    }
    return parts;
}

Result<UniqueFd> open_path_chasing_safe_links(const std::string& path, const std::vector<std::string>& parts,
                                              int flags, const std::string& step) {
    struct Level {
        std::string walked;  // real path of fd, "" for "/"
        UniqueFd fd;
        bool root_only;      // it and every directory above it: root's, not group/other-writable
    };
    std::vector<Level> stack;
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return make_error(step, path, "open", errno);
    bool root_safe = dir_is_root_only(root.get());
    stack.push_back({"", std::move(root), root_safe});
    std::vector<std::string> todo(parts.rbegin(), parts.rend());  // next component at the back
    int followed = 0;
    while (!todo.empty()) {
        std::string name = std::move(todo.back());
        todo.pop_back();
        if (name == "..") {  // only from a followed link's target, below root-only directories
            if (stack.size() > 1) stack.pop_back();
            continue;
        }
        const bool last = todo.empty();
        const Level& here = stack.back();
        std::string walked = here.walked + "/" + name;
        int flags_here = last ? last_component_flags(flags) : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        bool crossed = false;
        auto next = open_component(here.fd.get(), name, flags_here, step, walked, path, crossed);
        if (next) {
            if (last) return next;
            if (crossed) remember_crossing(walked, next->get());
            bool safe = here.root_only && dir_is_root_only(next->get());
            stack.push_back({walked, std::move(*next), safe});
            continue;
        }
        if (next.error().err != ELOOP || !is_symlink_at(here.fd.get(), name.c_str())) return next.error();
        if (!here.root_only)
            return unsafe_link_error(step, path, walked,
                                     "a directory on the way is not root's or is writable by group or other");
        UniqueFd link(::openat(here.fd.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!link) return make_error(step, path, "openat", errno);
        struct stat st {};
        if (::fstat(link.get(), &st) != 0) return make_error(step, path, "fstat", errno);
        if (!S_ISLNK(st.st_mode)) return make_error(step, path, "openat", EAGAIN, walked + " changed while being walked");
        if (st.st_uid != 0) return unsafe_link_error(step, path, walked, "it is owned by uid " + std::to_string(st.st_uid));
        if (++followed > max_followed_links) return make_error(step, path, "", ELOOP, "too many symlinks");
        char buf[4096];
        ssize_t n = ::readlinkat(link.get(), "", buf, sizeof buf);
        if (n < 0) return make_error(step, path, "readlinkat", errno);
        if (n == 0 || static_cast<std::size_t>(n) == sizeof buf) return make_error(step, path, "readlinkat", ENAMETOOLONG);
        std::string target(buf, static_cast<std::size_t>(n));
        if (target.find('\0') != std::string::npos) return make_error(step, path, "readlinkat", EINVAL);
        if (target.front() == '/') stack.resize(1);
        auto more = target_components(target);
        todo.insert(todo.end(), more.rbegin(), more.rend());
    }
    // The path ended on a link to a directory already walked ("/", or via "..").
    UniqueFd fd(::openat(stack.back().fd.get(), ".", last_component_flags(flags) & ~O_NOFOLLOW));
    if (!fd) return make_error(step, path, "openat", errno);
    return fd;
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
    bool crossed = false;
    return open_component(dir_fd, name, last_component_flags(flags), step, path, path, crossed);
}

CrossedMountScope::CrossedMountScope() {
    if (g_crossed == nullptr) {
        g_crossed = new CrossedMounts();
        owner_ = true;
    }
}

CrossedMountScope::~CrossedMountScope() {
    if (!owner_) return;
    delete g_crossed;
    g_crossed = nullptr;
}

Result<UniqueFd> open_path(const std::string& path, int flags, const std::string& step, Links links) {
    auto parts = split_components(path, step);
    if (!parts) return parts.error();
    if (int err = injected_fault(step)) return make_error(step, path, "openat2", err);
    if (parts->empty()) {
        UniqueFd root(::open("/", last_component_flags(flags) & ~O_NOFOLLOW));
        if (!root) return make_error(step, path, "open", errno);
        return root;
    }
    // From the deepest mount point crossed before in this scope, else from "/".
    auto [first, start_fd] = deepest_crossed(path, *parts);
    std::string walked;  // the path of start_fd
    for (std::size_t i = 0; i < first; ++i) walked += "/" + (*parts)[i];
    if (use_openat2()) {
        std::string relative = path;  // absolute: from "/" (AT_FDCWD)
        if (start_fd >= 0) {
            relative.clear();
            for (std::size_t i = first; i < parts->size(); ++i) relative += (i == first ? "" : "/") + (*parts)[i];
        }
        auto fd = open_on_one_mount(start_fd >= 0 ? start_fd : AT_FDCWD, relative, flags, step, path);
        if (fd) return fd;
        int err = fd.error().err;
        if (err == ELOOP && links == Links::FollowRootOnly)
            return open_path_chasing_safe_links(path, *parts, flags, step);
        if (err != EXDEV && !openat2_missing(err)) return fd;
    }
    UniqueFd root;
    if (start_fd < 0) {
        root = UniqueFd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root) return make_error(step, path, "open", errno);
        start_fd = root.get();
    }
    auto fd = open_by_components(path, *parts, first, start_fd, std::move(walked), flags, step);
    if (fd || fd.error().err != ELOOP || links != Links::FollowRootOnly) return fd;
    // A symlink on the way: followed only where no user could have steered it.
    return open_path_chasing_safe_links(path, *parts, flags, step);
}

}  // namespace polyns::sys
