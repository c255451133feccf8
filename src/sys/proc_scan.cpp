#include "polyns/sys/proc_scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "polyns/sys/path.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys {
namespace {

// A small /proc file, whole; nullopt when the process is gone or it cannot be read.
std::optional<std::string> read_small(int dir_fd, const char* name) {
    UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return std::nullopt;
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > (1u << 20)) break;
    }
    return out;
}

std::optional<unsigned long long> ns_inode(int dir_fd, const char* link) {
    char buf[64];
    ssize_t n = ::readlinkat(dir_fd, link, buf, sizeof buf - 1);
    if (n <= 0) return std::nullopt;
    buf[n] = '\0';
    // "mnt:[4026531841]"
    const char* open = std::strchr(buf, '[');
    if (open == nullptr) return std::nullopt;
    return std::strtoull(open + 1, nullptr, 10);
}

}  // namespace

std::vector<ProcessInfo> list_processes() {
    std::vector<ProcessInfo> out;
    UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc) return out;
    DIR* dir = ::fdopendir(::dup(proc.get()));
    if (dir == nullptr) return out;
    while (struct dirent* de = ::readdir(dir)) {
        char* end = nullptr;
        long pid = std::strtol(de->d_name, &end, 10);
        if (end == de->d_name || *end != '\0' || pid <= 0) continue;
        UniqueFd pfd(::openat(proc.get(), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!pfd) continue;  // gone
        ProcessInfo p;
        p.pid = static_cast<pid_t>(pid);
        auto status = read_small(pfd.get(), "status");
        if (!status) continue;
        bool have_uid = false;
        std::size_t pos = 0;
        while (pos < status->size()) {
            std::size_t nl = status->find('\n', pos);
            if (nl == std::string::npos) nl = status->size();
            std::string line = status->substr(pos, nl - pos);
            if (line.rfind("Name:\t", 0) == 0) p.comm = line.substr(6);
            if (line.rfind("Uid:\t", 0) == 0) {
                p.uid = static_cast<uid_t>(std::strtoul(line.c_str() + 5, nullptr, 10));
                have_uid = true;
            }
            pos = nl + 1;
        }
        if (!have_uid) continue;
        auto ns = ns_inode(pfd.get(), "ns/mnt");
        if (!ns) continue;  // a kernel thread reads as one; or it exited
        p.mnt_ns = *ns;
        if (auto sid = read_small(pfd.get(), "sessionid")) {
            unsigned long long v = std::strtoull(sid->c_str(), nullptr, 10);
            if (v != 4294967295ULL) p.session_id = static_cast<unsigned>(v);
        }
        if (auto cg = read_small(pfd.get(), "cgroup")) {
            std::size_t at = cg->find("0::");
            std::size_t start = at != std::string::npos ? at + 3 : (cg->find(':', cg->find(':') + 1) + 1);
            std::size_t nl = cg->find('\n', start);
            if (start <= cg->size()) p.cgroup = cg->substr(start, nl == std::string::npos ? nl : nl - start);
        }
        // Kernel threads have no mm: their "status" lacks VmSize, and exe is unreadable.
        if (status->find("VmSize:") == std::string::npos && p.pid != 1) continue;
        out.push_back(std::move(p));
    }
    ::closedir(dir);
    std::sort(out.begin(), out.end(), [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
    return out;
}

Result<std::vector<MountEntry>> process_mount_table(pid_t pid) {
    // libmount parses the file by path; a vanished process is ENOENT.
    const std::string path = "/proc/" + std::to_string(pid) + "/mountinfo";
    if (::access(path.c_str(), R_OK) != 0) return make_error("read the mount table", path, "access", errno);
    return read_mount_table(path);
}

Result<unsigned long long> own_mount_namespace() {
    UniqueFd self(::open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!self) return make_error("read own mount namespace", "/proc/self", "open", errno);
    auto ns = ns_inode(self.get(), "ns/mnt");
    if (!ns) return make_error("read own mount namespace", "/proc/self/ns/mnt", "readlink", errno);
    return *ns;
}

std::vector<PasswdEntry> list_users() {
    std::vector<PasswdEntry> out;
    ::setpwent();
    while (struct passwd* pw = ::getpwent()) {
        out.push_back({pw->pw_name, pw->pw_uid, pw->pw_gid, pw->pw_dir ? pw->pw_dir : "", pw->pw_shell ? pw->pw_shell : ""});
    }
    ::endpwent();
    return out;
}

std::optional<PasswdEntry> user_by_uid(uid_t uid) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
    return PasswdEntry{pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_dir ? pw.pw_dir : "", pw.pw_shell ? pw.pw_shell : ""};
}

namespace {

// Size and newest mtime of a tree, by fd: never follows a symlink, never
// enters another filesystem (a user's FUSE mount is never asked anything).
void measure_tree(int dir_fd, dev_t dev, InstanceEntry& acc, int depth) {
    if (depth > 64) return;
    DIR* dir = ::fdopendir(::dup(dir_fd));
    if (dir == nullptr) return;
    while (struct dirent* de = ::readdir(dir)) {
        if (std::strcmp(de->d_name, ".") == 0 || std::strcmp(de->d_name, "..") == 0) continue;
        struct stat st {};
        if (::fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (st.st_dev != dev) continue;  // a mount point: not ours to measure
        acc.bytes += static_cast<unsigned long long>(st.st_blocks) * 512;
        acc.newest = std::max(acc.newest, st.st_mtime);
        if (S_ISDIR(st.st_mode)) {
            UniqueFd sub(::openat(dir_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
            if (sub) measure_tree(sub.get(), dev, acc, depth + 1);
        }
    }
    ::closedir(dir);
}

}  // namespace

Result<std::vector<InstanceEntry>> list_template(const std::string& template_dir, bool measure) {
    auto tfd = open_path(template_dir, O_RDONLY | O_DIRECTORY, "list template");
    if (!tfd) return tfd.error();
    std::vector<InstanceEntry> out;
    DIR* dir = ::fdopendir(::dup(tfd->get()));
    if (dir == nullptr) return make_error("list template", template_dir, "fdopendir", errno);
    struct stat tst {};
    ::fstat(tfd->get(), &tst);
    while (struct dirent* de = ::readdir(dir)) {
        if (std::strcmp(de->d_name, ".") == 0 || std::strcmp(de->d_name, "..") == 0) continue;
        struct stat st {};
        if (::fstatat(tfd->get(), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        InstanceEntry e;
        e.name = de->d_name;
        e.uid = st.st_uid;
        e.gid = st.st_gid;
        e.mode = st.st_mode;
        e.dev = st.st_dev;
        e.ino = st.st_ino;
        e.mtime = st.st_mtime;
        e.newest = st.st_mtime;
        e.bytes = static_cast<unsigned long long>(st.st_blocks) * 512;
        e.is_dir = S_ISDIR(st.st_mode);
        if (measure && e.is_dir && st.st_dev == tst.st_dev) {
            UniqueFd sub(::openat(tfd->get(), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
            if (sub) measure_tree(sub.get(), st.st_dev, e, 0);
        }
        out.push_back(std::move(e));
    }
    ::closedir(dir);
    std::sort(out.begin(), out.end(), [](const InstanceEntry& a, const InstanceEntry& b) { return a.name < b.name; });
    return out;
}

Result<FsLocation> fs_location(const std::string& path, const std::vector<MountEntry>& own_table) {
    auto fd = open_path(path, O_PATH | O_DIRECTORY, "locate");
    if (!fd) return fd.error();
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return make_error("locate", path, "fstat", errno);
    // The mount it is on: the last mounted (topmost) whose target is the
    // longest prefix of path and whose device is path's.
    const MountEntry* best = nullptr;
    for (const auto& m : own_table) {
        if (m.dev != st.st_dev) continue;
        const bool prefix = m.target == "/" ||
                            (path.compare(0, m.target.size(), m.target) == 0 &&
                             (path.size() == m.target.size() || path[m.target.size()] == '/'));
        if (!prefix) continue;
        if (best == nullptr || m.target.size() >= best->target.size()) best = &m;
    }
    if (best == nullptr) return make_error("locate", path, "", ENOENT, "no mount of its device found");
    std::string rest = best->target == "/" ? path : path.substr(best->target.size());
    std::string root = best->root == "/" ? rest : best->root + rest;
    if (root.empty()) root = "/";
    return FsLocation{st.st_dev, root};
}

}  // namespace polyns::sys

namespace polyns::sys {

std::optional<std::string> process_environ_value(pid_t pid, const std::string& name) {
    UniqueFd dir(::open(("/proc/" + std::to_string(pid)).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return std::nullopt;
    auto env = read_small(dir.get(), "environ");
    if (!env) return std::nullopt;
    const std::string key = name + "=";
    std::size_t pos = 0;
    while (pos < env->size()) {
        std::size_t end = env->find('\0', pos);
        if (end == std::string::npos) end = env->size();
        if (env->compare(pos, key.size(), key) == 0) return env->substr(pos + key.size(), end - pos - key.size());
        pos = end + 1;
    }
    return std::nullopt;
}

}  // namespace polyns::sys
