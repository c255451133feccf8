#include "polyns/sys/remove_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <set>

#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/path.hpp"
#include "polyns/sys/process.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys {
namespace {

constexpr const char* step_remove = "remove instance";
// Directories kept open at once (besides the root); deeper ones are re-entered via "..".
constexpr std::size_t open_window = 64;
constexpr std::size_t max_kept_listed = 32;
// A removal with an owner's rights that takes longer was stopped (SIGSTOP by
// the owner) or is stuck: it is killed and its instance left for the admin.
constexpr unsigned removal_timeout_seconds = 120;
using Clock = std::chrono::steady_clock;
constexpr int dir_open_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

struct Level {
    std::string name;  // name in the parent level
    dev_t dev = 0;
    ino_t ino = 0;
    DIR* dir = nullptr;          // null while outside the open window
    std::set<std::string> kept;  // entries that stay: skipped when the level is read again
};

class Walk {
public:
    // `as_owner`: the walk runs with an owner's rights (remove_tree_as), who
    // may make her own directories searchable and writable before emptying
    // them, as she could herself with chmod.
    Walk(const std::string& root_path, const MountPosition& root_pos, bool as_owner)
        : root_path_(root_path), root_pos_(root_pos), as_owner_(as_owner) {}
    ~Walk() {
        for (auto& level : levels_)
            if (level.dir != nullptr) ::closedir(level.dir);
    }
    Walk(const Walk&) = delete;
    Walk& operator=(const Walk&) = delete;

    Result<void> run(UniqueFd root_fd, const struct stat& root_st, RemovalReport& report);

private:
    std::string path_of(const std::string& name) const {
        std::string p = root_path_;
        for (std::size_t i = 1; i < levels_.size(); ++i) p = join_path(p, levels_[i].name);
        return join_path(p, name);
    }
    void keep(const std::string& name, const std::string& why, RemovalReport& report) {
        levels_.back().kept.insert(name);
        if (report.kept.size() < max_kept_listed) report.kept.push_back(path_of(name) + " (" + why + ")");
    }
    bool same_mount(const MountPosition& pos) const {
        if (pos.dev != root_pos_.dev) return false;
        if (pos.mount_id_known && root_pos_.mount_id_known && pos.mount_id != root_pos_.mount_id) return false;
        if (pos.mount_root_known && pos.is_mount_root) return false;
        return true;
    }
    Result<void> enter(const std::string& name, UniqueFd fd, const struct stat& st);
    Result<void> leave(RemovalReport& report);
    void remove_entry(const std::string& name, unsigned char type, RemovalReport& report,
                      Result<void>& failure);

    void open_up_own_dir(int dir_fd, const std::string& name, int where_fd);

    std::string root_path_;
    MountPosition root_pos_;
    bool as_owner_ = false;
    std::vector<Level> levels_;
    std::size_t closed_levels_ = 0;  // levels 1..closed_levels_ have no open DIR
};

Result<void> Walk::enter(const std::string& name, UniqueFd fd, const struct stat& st) {
    DIR* dir = ::fdopendir(fd.get());
    if (dir == nullptr) return make_error(step_remove, path_of(name), "fdopendir", errno);
    fd.release();
    Level level;
    level.name = name;
    level.dev = st.st_dev;
    level.ino = st.st_ino;
    level.dir = dir;
    levels_.push_back(std::move(level));
    // Bound the open fds: close the shallowest open level (never the root).
    std::size_t open_levels = levels_.size() - 1 - closed_levels_;
    if (open_levels > open_window) {
        Level& oldest = levels_[1 + closed_levels_];
        ::closedir(oldest.dir);
        oldest.dir = nullptr;
        ++closed_levels_;
    }
    return {};
}

// Done with the deepest level: go back to its parent (re-entering it through
// ".." when it was closed) and remove the now empty directory.
Result<void> Walk::leave(RemovalReport& report) {
    Level child = std::move(levels_.back());
    levels_.pop_back();
    Level& parent = levels_.back();
    if (parent.dir == nullptr) {
        UniqueFd up(::openat(::dirfd(child.dir), "..", dir_open_flags));
        int err = errno;
        ::closedir(child.dir);
        child.dir = nullptr;
        if (!up) return make_error(step_remove, path_of(""), "openat ..", err);
        struct stat up_st {};
        if (::fstat(up.get(), &up_st) != 0) return make_error(step_remove, path_of(""), "fstat", errno);
        const struct stat* st = &up_st;
        if (st->st_dev != parent.dev || st->st_ino != parent.ino)
            return make_error(step_remove, path_of(""), "", ESTALE,
                              "a directory was moved during removal; stopping");
        parent.dir = ::fdopendir(up.get());
        if (parent.dir == nullptr) return make_error(step_remove, path_of(""), "fdopendir", errno);
        up.release();
        --closed_levels_;
    } else {
        ::closedir(child.dir);
        child.dir = nullptr;
    }
    if (::unlinkat(::dirfd(parent.dir), child.name.c_str(), AT_REMOVEDIR) == 0) {
        ++report.removed;
    } else if (errno != ENOENT) {
        keep(child.name, errno_text(errno), report);
    }
    return {};
}

// Only with an owner's rights (never as root): a directory of hers without
// u+rwx is given it by name, which at worst, were the name swapped meanwhile,
// changes the mode of something else she owns.
void Walk::open_up_own_dir(int dir_fd, const std::string& name, int where_fd) {
    if (!as_owner_) return;
    struct stat st {};
    if (::fstatat(where_fd, "", &st, AT_EMPTY_PATH) != 0) return;
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & S_IRWXU) == S_IRWXU) return;
    if (::fchmodat(dir_fd, name.c_str(), (st.st_mode & 07777) | S_IRWXU, 0) != 0) return;
}

void Walk::remove_entry(const std::string& name, unsigned char type, RemovalReport& report,
                        Result<void>& failure) {
    int dir_fd = ::dirfd(levels_.back().dir);
    if (type != DT_DIR && type != DT_UNKNOWN) {
        if (::unlinkat(dir_fd, name.c_str(), 0) == 0) {
            ++report.removed;
            return;
        }
        if (errno == ENOENT) return;
        if (errno != EISDIR) {
            keep(name, errno_text(errno), report);
            return;
        }
        // Replaced by a directory since readdir: treat it as one.
    }
    // O_PATH first: crossing into a mount asks its filesystem nothing, and
    // statx without sync neither. A mount is never entered (a user's FUSE
    // mount would hang the logout on an open); only then is it opened for reading.
    UniqueFd where(::openat(dir_fd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!where) {
        if (errno != ENOENT) keep(name, errno_text(errno), report);
        return;
    }
    auto where_pos = mount_position(where.get(), step_remove, root_path_);
    if (!where_pos) {
        keep(name, "cannot stat", report);
        return;
    }
    if (!same_mount(*where_pos)) {
        keep(name, "a mount point; not crossed", report);
        return;
    }
    open_up_own_dir(dir_fd, name, where.get());
    UniqueFd child(::openat(where.get(), ".", dir_open_flags));
    if (!child) {
        int err = errno;
        if (err == ENOENT) return;
        if (err == ENOTDIR || err == ELOOP) {  // a symlink or a non-directory: unlink it, never follow it
            if (::unlinkat(dir_fd, name.c_str(), 0) == 0) ++report.removed;
            else if (errno != ENOENT) keep(name, errno_text(errno), report);
            return;
        }
        keep(name, errno_text(err), report);
        return;
    }
    // Paths are only spelled out for messages: building one per entry would
    // make a deep tree quadratic.
    auto pos = mount_position(child.get(), step_remove, root_path_);
    auto st = stat_fd(child.get(), step_remove, root_path_);
    if (!pos || !st) {
        keep(name, "cannot stat", report);
        return;
    }
    if (!same_mount(*pos)) {
        keep(name, "a mount point; not crossed", report);
        return;
    }
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) == 0) {  // empty: no need to go in
        ++report.removed;
        return;
    }
    if (errno != ENOTEMPTY && errno != EEXIST) {
        if (errno != ENOENT) keep(name, errno_text(errno), report);
        return;
    }
    if (auto entered = enter(name, std::move(child), *st); !entered) failure = entered.error();
}

Result<void> Walk::run(UniqueFd root_fd, const struct stat& root_st, RemovalReport& report) {
    if (auto entered = enter("", std::move(root_fd), root_st); !entered) return entered;
    while (!levels_.empty()) {
        Level& level = levels_.back();
        errno = 0;
        struct dirent* entry = ::readdir(level.dir);
        if (entry == nullptr) {
            if (errno != 0) return make_error(step_remove, path_of(""), "readdir", errno);
            if (levels_.size() == 1) return {};
            if (auto left = leave(report); !left) return left;
            continue;
        }
        std::string name = entry->d_name;
        if (name == "." || name == ".." || level.kept.count(name) != 0) continue;
        Result<void> failure;
        remove_entry(name, entry->d_type, report, failure);
        if (!failure) return failure;
    }
    return {};
}


// What the walk of a child reports to its parent through a pipe: the
// report, then the error that stopped it, if any. Length-prefixed: names may
// hold any byte but NUL and '/'.
class Wire {
public:
    void put_number(std::uint64_t n) { out_.append(reinterpret_cast<const char*>(&n), sizeof n); }
    void put_text(const std::string& text) {
        put_number(text.size());
        out_ += text;
    }
    const std::string& bytes() const { return out_; }

    explicit Wire(std::string in = {}) : in_(std::move(in)) {}
    bool get_number(std::uint64_t& n) {
        if (in_.size() - pos_ < sizeof n) return false;
        std::memcpy(&n, in_.data() + pos_, sizeof n);
        pos_ += sizeof n;
        return true;
    }
    bool get_text(std::string& text) {
        std::uint64_t size = 0;
        if (!get_number(size) || in_.size() - pos_ < size) return false;
        text.assign(in_, pos_, size);
        pos_ += size;
        return true;
    }

private:
    std::string out_;
    std::string in_;
    std::size_t pos_ = 0;
};

std::string encode(const RemovalReport& report, const Result<void>& walked) {
    Wire w;
    w.put_number(report.removed);
    w.put_number(report.kept.size());
    for (const std::string& kept : report.kept) w.put_text(kept);
    w.put_number(walked ? 0 : 1);
    if (!walked) {
        const Error& e = walked.error();
        w.put_number(static_cast<std::uint64_t>(e.err));
        for (const std::string* text : {&e.step, &e.path, &e.syscall, &e.detail, &e.hint}) w.put_text(*text);
    }
    return w.bytes();
}

bool decode(std::string bytes, RemovalReport& report, Result<void>& walked) {
    Wire w(std::move(bytes));
    std::uint64_t count = 0, failed = 0;
    if (!w.get_number(count)) return false;
    report.removed += count;
    if (!w.get_number(count) || count > max_kept_listed) return false;
    for (std::uint64_t i = 0; i < count; ++i) {
        std::string kept;
        if (!w.get_text(kept)) return false;
        report.kept.push_back(std::move(kept));
    }
    if (!w.get_number(failed)) return false;
    if (failed == 0) return true;
    Error e;
    std::uint64_t err = 0;
    if (!w.get_number(err)) return false;
    e.err = static_cast<int>(err);
    for (std::string* text : {&e.step, &e.path, &e.syscall, &e.detail, &e.hint})
        if (!w.get_text(*text)) return false;
    walked = Result<void>(std::move(e));
    return true;
}

bool write_all(int fd, const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// The child: exactly the owner's uid, gid and groups (real, effective, saved
// and filesystem ids; no capability survives), no other fd than the root and
// the pipe, not dumpable (she cannot ptrace root's memory copied into it).
// The kernel then judges every unlink as it would hers.
[[noreturn]] void walk_as(const Credentials& who, int root_fd, const struct stat& root_st,
                          const std::string& path, const MountPosition& root_pos, int report_fd) {
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
    if (::setgroups(who.groups.size(), who.groups.data()) != 0 || ::setresgid(who.gid, who.gid, who.gid) != 0 ||
        ::setresuid(who.uid, who.uid, who.uid) != 0 || ::geteuid() != who.uid || ::getegid() != who.gid)
        ::_exit(125);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    RemovalReport report;
    Result<void> walked;
    try {
        if (root_st.st_uid == who.uid && (root_st.st_mode & S_IRWXU) != S_IRWXU)
            (void)::fchmod(root_fd, (root_st.st_mode & 07777) | S_IRWXU);
        Walk walk(path, root_pos, true);
        walked = walk.run(UniqueFd(root_fd), root_st, report);
    } catch (...) {
        ::_exit(124);
    }
    ::_exit(write_all(report_fd, encode(report, walked)) ? 0 : 123);
}

// Reads the child's report until it closes the pipe, within the deadline.
Result<std::string> read_report(int fd, pid_t pid, const std::string& path, const Clock::time_point& deadline) {
    std::string bytes;
    char buf[16384];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return make_error(step_remove, path, "", ETIMEDOUT, "the removal did not finish in time");
        struct pollfd p {fd, POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
        if (n < 0 && errno != EINTR) return make_error(step_remove, path, "poll", errno);
        if (n <= 0) continue;
        ssize_t got = ::read(fd, buf, sizeof buf);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got < 0) return make_error(step_remove, path, "read", errno);
        if (got == 0) return bytes;
        bytes.append(buf, static_cast<std::size_t>(got));
        if (bytes.size() > (1u << 24)) {
            ::kill(pid, SIGKILL);
            return make_error(step_remove, path, "", EPROTO, "the removal's report is too long");
        }
    }
}

Result<void> walk_in_child(const Credentials& who, UniqueFd root, const struct stat& root_st,
                           const std::string& path, const MountPosition& root_pos, RemovalReport& report) {
    auto report_pipe = make_report_pipe(step_remove, path);
    if (!report_pipe) return report_pipe.error();
    UniqueFd report_read = std::move(report_pipe->read);
    UniqueFd report_write = std::move(report_pipe->write);
    const auto deadline = Clock::now() + std::chrono::seconds(removal_timeout_seconds);

    SigchldDefault sigchld_default;
    pid_t pid = fork_signals_blocked();
    if (pid == 0) {
        // Only the root and the pipe stay open: the caller's fds (sockets,
        // files) are none of the owner's business.
        int root_fd = ::fcntl(root.get(), F_DUPFD, 5);
        int pipe_fd = ::fcntl(report_write.get(), F_DUPFD, 5);
        if (root_fd < 0 || pipe_fd < 0 || ::dup2(root_fd, 3) < 0 || ::dup2(pipe_fd, 4) < 0) ::_exit(122);
        if (::syscall(SYS_close_range, 5U, ~0U, 0U) != 0) {
            for (int fd = 5; fd < 65536; ++fd) ::close(fd);
        }
        ::fcntl(4, F_SETFL, 0);  // blocking writes
        walk_as(who, 3, root_st, path, root_pos, 4);
    }
    if (pid < 0) return make_error(step_remove, path, "fork", errno);
    report_write.reset();
    root.reset();

    auto bytes = read_report(report_read.get(), pid, path, deadline);
    if (!bytes) ::kill(pid, SIGKILL);
    auto status = wait_blocking(pid, path, step_remove);
    if (!bytes) return bytes.error();
    if (!status) return status.error();
    std::string as = " as uid " + std::to_string(who.uid);
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
        return make_error(step_remove, path, "", 0, "the removal" + as + " " + describe_status(*status));
    Result<void> walked;
    if (!decode(std::move(*bytes), report, walked))
        return make_error(step_remove, path, "", EPROTO, "the removal" + as + " sent a report that does not parse");
    return walked;
}

struct Root {
    UniqueFd fd;
    struct stat st {};
    MountPosition pos;
};

Result<Root> open_root(int parent_fd, const std::string& name, const std::string& path) {
    Root root;
    auto fd = open_below(parent_fd, name, dir_open_flags, step_remove, path);
    if (!fd) return fd.error();
    root.fd = std::move(*fd);
    auto parent_pos = mount_position(parent_fd, step_remove, path);
    if (!parent_pos) return parent_pos.error();
    auto root_pos = mount_position(root.fd.get(), step_remove, path);
    if (!root_pos) return root_pos.error();
    root.pos = *root_pos;
    auto root_st = stat_fd(root.fd.get(), step_remove, path);
    if (!root_st) return root_st.error();
    root.st = *root_st;
    bool root_is_mount = root_pos->dev != parent_pos->dev ||
                         (root_pos->mount_id_known && root_pos->mount_id != parent_pos->mount_id) ||
                         (root_pos->mount_root_known && root_pos->is_mount_root);
    if (root_is_mount)
        return make_error(step_remove, path, "", EBUSY, "something is mounted on it; not crossing a mount");
    return root;
}

// The emptied root is removed by the caller (root): the owner could not
// unlink it from a root-owned template. Only an empty directory goes.
void remove_root(int parent_fd, const std::string& name, const std::string& path, RemovalReport& report) {
    if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) == 0) {
        ++report.removed;
        report.removed_root = true;
    } else if (errno == ENOENT) {
        report.removed_root = true;
    } else if (report.kept.size() < max_kept_listed) {
        report.kept.push_back(path + " (" + errno_text(errno) + ")");
    }
}

}  // namespace

Result<RemovalReport> remove_tree_at(int parent_fd, const std::string& name, const std::string& path) {
    auto root = open_root(parent_fd, name, path);
    if (!root) return root.error();
    RemovalReport report;
    {
        Walk walk(path, root->pos, false);
        if (auto walked = walk.run(std::move(root->fd), root->st, report); !walked) return walked.error();
    }
    remove_root(parent_fd, name, path, report);
    return report;
}

Result<RemovalReport> remove_tree_as(const Credentials& who, int parent_fd, const std::string& name,
                                     const std::string& path) {
    if (who.uid == 0) return remove_tree_at(parent_fd, name, path);
    auto root = open_root(parent_fd, name, path);
    if (!root) return root.error();
    RemovalReport report;
    if (auto walked = walk_in_child(who, std::move(root->fd), root->st, path, root->pos, report); !walked)
        return walked.error();
    remove_root(parent_fd, name, path, report);
    return report;
}

Result<std::size_t> empty_and_remove_as(int parent_fd, const std::string& name, const std::string& path,
                                        const Credentials& who) {
    const char* step = "clean the instance";
    auto inst = open_below(parent_fd, name, O_PATH | O_DIRECTORY, step, path);
    if (!inst) return inst.error().err == ENOENT ? Result<std::size_t>(0) : Result<std::size_t>(inst.error());
    auto st = stat_fd(inst->get(), step, path);
    if (!st) return st.error();
    // Only the user's own instance: what she does not own is not hers to lose.
    if (st->st_uid != who.uid || who.uid == 0)
        return make_error(step, path, "", EPERM, "not owned by the user; left in place");
    auto report = remove_tree_as(who, parent_fd, name, path);
    if (!report) return report.error();
    if (report->removed_root) return std::size_t{0};
    if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0) {
        if (errno == ENOTEMPTY || errno == EEXIST) return std::max<std::size_t>(report->kept.size(), 1);
        return make_error(step, path, "unlinkat", errno);
    }
    return std::size_t{0};
}

}  // namespace polyns::sys
