#include "polyns/sys/run_state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/path.hpp"

namespace polyns::sys {
namespace {

// Root's, a directory, nobody else can enter or write: what is kept below it
// (lock files, failure lines) is then root's alone.
Result<void> check_private_dir(int fd, const std::string& path) {
    auto st = stat_fd(fd, "use state directory", path);
    if (!st) return st.error();
    if (!S_ISDIR(st->st_mode) || st->st_uid != 0 || (st->st_mode & 0077) != 0)
        return make_error("use state directory", path, "", 0,
                          "is not a directory of root's that only root can enter (" +
                              std::to_string(st->st_uid) + " mode " + octal_mode(st->st_mode & 07777) + ")",
                          "rm -rf " + path + " (pam_polyns.so recreates it)");
    return {};
}

Result<UniqueFd> open_or_make(int parent_fd, const std::string& name, const std::string& path, bool create) {
    // Made only when missing: every login opens these once per template, and
    // a mkdirat of an existing directory still locks its parent for writing.
    auto fd = open_below(parent_fd, name, O_RDONLY | O_DIRECTORY, "open state directory", path);
    if (!fd && create && fd.error().err == ENOENT) {
        // Not through make_dir_at: the fault seam counts the session's own mkdirat calls.
        if (::mkdirat(parent_fd, name.c_str(), 0700) != 0 && errno != EEXIST)
            return make_error("create state directory", path, "mkdirat", errno);
        fd = open_below(parent_fd, name, O_RDONLY | O_DIRECTORY, "open state directory", path);
    }
    if (!fd) return fd.error();
    if (auto r = check_private_dir(fd->get(), path); !r) return r.error();
    return fd;
}

// Only plain names become file names; anything else (NSS names may hold odd
// bytes) is hex, so a name can never walk out of the directory.
std::string file_name_for(const std::string& user) {
    bool plain = !user.empty() && user.size() <= 200 && user[0] != '.';
    for (unsigned char c : user)
        if (!(std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@')) plain = false;
    if (plain) return user;
    std::string out = "x-";
    char buf[3];
    for (unsigned char c : user) {
        std::snprintf(buf, sizeof buf, "%02x", c);
        out += buf;
    }
    return out.substr(0, 250);
}

}  // namespace

Result<UniqueFd> open_run_subdir(const std::string& name, bool create) {
    std::string parent, base;
    split_parent(run_state_dir, parent, base);
    auto run = open_path(parent, O_PATH | O_DIRECTORY, "open state directory");
    if (!run) return run.error();
    auto top = open_or_make(run->get(), base, run_state_dir, create);
    if (!top) return top.error();
    return open_or_make(top->get(), name, join_path(run_state_dir, name), create);
}

Result<TemplateLock> lock_template(int template_fd, const std::string& template_path, LockKind kind,
                                   unsigned timeout_ms) {
    auto st = stat_fd(template_fd, "lock template", template_path);
    if (!st) return st.error();
    auto dir = open_run_subdir("locks", true);
    if (!dir) return dir.error();
    char name[96];
    std::snprintf(name, sizeof name, "template-%x:%x-%llu", major(st->st_dev), minor(st->st_dev),
                  static_cast<unsigned long long>(st->st_ino));
    const std::string path = join_path(std::string(run_state_dir) + "/locks", name);
    UniqueFd fd(::openat(dir->get(), name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600));
    if (!fd) return make_error("lock template " + template_path, path, "openat", errno);
    const int op = (kind == LockKind::Shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (::flock(fd.get(), op) != 0) {
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline)
            return make_error("lock template " + template_path, path, "flock", errno,
                              errno == EWOULDBLOCK ? "held by another process (polyns gc?)" : "");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return TemplateLock(std::move(fd));
}

Result<void> record_last_failure(const std::string& user, const std::string& service, const std::string& line) {
    auto dir = open_run_subdir("last-failure", true);
    if (!dir) return dir.error();
    const std::string name = file_name_for(user);
    const std::string tmp = "." + name + ".new";
    const std::string path = std::string(run_state_dir) + "/last-failure/" + name;
    ::unlinkat(dir->get(), tmp.c_str(), 0);
    UniqueFd fd(::openat(dir->get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return make_error("record last failure", path, "openat", errno);
    // "<epoch> <service> <line>": one line, newlines flattened.
    std::string text = std::to_string(static_cast<long long>(std::time(nullptr))) + " " +
                       (service.empty() ? "?" : service) + " " + line;
    for (char& c : text)
        if (c == '\n' || c == '\r') c = ' ';
    text += '\n';
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        return make_error("record last failure", path, "write", errno ? errno : EIO);
    if (::renameat(dir->get(), tmp.c_str(), dir->get(), name.c_str()) != 0)
        return make_error("record last failure", path, "renameat", errno);
    return {};
}

Result<std::optional<LastFailure>> read_last_failure(const std::string& user) {
    auto dir = open_run_subdir("last-failure", false);
    if (!dir) {
        if (dir.error().err == ENOENT) return std::optional<LastFailure>();
        return dir.error();
    }
    const std::string name = file_name_for(user);
    UniqueFd fd(::openat(dir->get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return std::optional<LastFailure>();
        return make_error("read last failure", name, "openat", errno);
    }
    char buf[8192];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n < 0) return make_error("read last failure", name, "read", errno);
    std::string text(buf, static_cast<std::size_t>(n));
    while (!text.empty() && text.back() == '\n') text.pop_back();
    LastFailure out;
    auto sp1 = text.find(' ');
    auto sp2 = sp1 == std::string::npos ? sp1 : text.find(' ', sp1 + 1);
    if (sp2 == std::string::npos) return std::optional<LastFailure>();
    out.when = static_cast<std::time_t>(std::strtoll(text.substr(0, sp1).c_str(), nullptr, 10));
    out.service = text.substr(sp1 + 1, sp2 - sp1 - 1);
    out.line = text.substr(sp2 + 1);
    return std::optional<LastFailure>(std::move(out));
}

}  // namespace polyns::sys
