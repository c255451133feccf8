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
bool is_symlink_at(int dir_fd, const char* name) {
    struct stat st {};
    return ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
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

Result<UniqueFd> open_with_openat2(const std::string& path, int flags, const std::string& step) {
    struct open_how how {};
    how.flags = static_cast<unsigned long long>(last_component_flags(flags));
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    for (;;) {
        long fd = ::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how);
        if (fd >= 0)
            return refuse_symlink_fd(UniqueFd(static_cast<int>(fd)), flags, step, path, "openat2");
        int err = errno;
        if (err == EINTR || err == EAGAIN) continue;
        if (err == ELOOP) return symlink_error(step, path, "openat2");
        // O_DIRECTORY on a trailing symlink says ENOTDIR; ask again for the
        // link itself (O_PATH|O_NOFOLLOW returns it) to report it as one.
        if (err == ENOTDIR && (flags & O_DIRECTORY) != 0) {
            struct open_how probe = how;
            probe.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
            UniqueFd link(static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &probe, sizeof probe)));
            struct stat st {};
            if (link && ::fstat(link.get(), &st) == 0 && S_ISLNK(st.st_mode))
                return symlink_error(step, path, "openat2");
        }
        return make_error(step, path, "openat2", err);
    }
}

Result<UniqueFd> open_with_walk(const std::string& path, const std::vector<std::string>& parts,
                                int flags, const std::string& step) {
    if (parts.empty()) {
        UniqueFd root(::open("/", last_component_flags(flags) & ~O_NOFOLLOW));
        if (!root) return make_error(step, path, "open", errno);
        return root;
    }
    UniqueFd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return make_error(step, path, "open", errno);
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        UniqueFd next(::openat(dir.get(), parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) {
            int err = errno;
            if ((err == ENOTDIR || err == ELOOP) && is_symlink_at(dir.get(), parts[i].c_str()))
                return symlink_error(step, path, "openat");
            return make_error(step, path, "openat", err);
        }
        dir = std::move(next);
    }
    return open_below(dir.get(), parts.back(), flags, step, path);
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
    for (;;) {
        UniqueFd fd(::openat(dir_fd, name.c_str(), last_component_flags(flags)));
        if (fd) return refuse_symlink_fd(std::move(fd), flags, step, path, "openat");
        int err = errno;
        if (err == EINTR) continue;
        if ((err == ELOOP || err == ENOTDIR) && is_symlink_at(dir_fd, name.c_str()))
            return symlink_error(step, path, "openat");
        return make_error(step, path, "openat", err);
    }
}

Result<UniqueFd> open_path(const std::string& path, int flags, const std::string& step) {
    auto parts = split_components(path, step);
    if (!parts) return parts.error();
    if (int err = injected_fault(step)) return make_error(step, path, "openat2", err);
    PathResolver resolver = g_resolver.load();
    bool try_openat2 = resolver == PathResolver::Openat2 ||
                       (resolver == PathResolver::Auto && !g_openat2_missing.load());
    if (try_openat2) {
        auto fd = open_with_openat2(path, flags, step);
        if (fd || fd.error().err != ENOSYS || resolver == PathResolver::Openat2) return fd;
        g_openat2_missing.store(true);
    }
    return open_with_walk(path, *parts, flags, step);
}

}  // namespace polyns::sys
