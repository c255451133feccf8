#include "polyns/sys/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <thread>
#include <vector>

#include "fault_injection.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/path.hpp"

namespace polyns::sys {
namespace {

constexpr const char* fixed_path = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
constexpr const char* step_run = "run init script";
// What the child reports on its pipe when it fails before the script runs.
constexpr int child_stage_fds = 1;
constexpr int child_stage_exec = 2;
constexpr int child_stage_cwd = 3;
constexpr int child_stage_exec_context = 4;

// setexeccon(NULL) with async-signal-safe calls only (it runs between fork
// and execve): an empty write to the thread's exec attribute clears it.
bool clear_exec_context() {
    int fd = ::open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t written;
    do {
        written = ::write(fd, "", 0);
    } while (written < 0 && errno == EINTR);
    ::close(fd);
    return written == 0;
}

// SIGCHLD at SIG_DFL while we wait: with SIG_IGN the kernel would reap the
// child itself and waitpid could not tell us its status; a caller's handler
// calling waitpid(-1) could steal it. Restored on every path.
class SigchldDefault {
public:
    SigchldDefault() {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        saved_ok_ = ::sigaction(SIGCHLD, &dfl, &saved_) == 0;
    }
    ~SigchldDefault() {
        if (saved_ok_) ::sigaction(SIGCHLD, &saved_, nullptr);
    }
    SigchldDefault(const SigchldDefault&) = delete;
    SigchldDefault& operator=(const SigchldDefault&) = delete;

private:
    struct sigaction saved_ {};
    bool saved_ok_ = false;
};

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const char* name = sigabbrev_np(WTERMSIG(status));
        return std::string("killed by signal ") + (name ? std::string("SIG") + name : std::to_string(WTERMSIG(status)));
    }
    return "ended with wait status " + std::to_string(status);
}

Result<int> wait_blocking(pid_t pid, const std::string& path) {
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, 0);
        if (r == pid) return status;
        if (r < 0 && errno == EINTR) continue;
        return make_error(step_run, path, "waitpid", errno);
    }
}

// Waits until the child exits or the deadline passes. nullopt-like: returns
// -1 in `*timed_out` terms through the bool.
Result<int> wait_with_deadline(pid_t pid, unsigned timeout_seconds, const std::string& path, bool& timed_out) {
    timed_out = false;
    if (timeout_seconds == 0) return wait_blocking(pid, path);
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::seconds(timeout_seconds);
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left <= 0) {
            // Last look: it may have ended right at the deadline.
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) return status;
            timed_out = true;
            return 0;
        }
        if (pidfd) {
            struct pollfd p {pidfd.get(), POLLIN, 0};
            int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
            if (n < 0 && errno != EINTR) return make_error(step_run, path, "poll", errno);
            if (n > 0) return wait_blocking(pid, path);
        } else {
            // No pidfd (kernel < 5.3): poll the child's state.
            int status = 0;
            pid_t r = ::waitpid(pid, &status, WNOHANG);
            if (r == pid) return status;
            if (r < 0 && errno != EINTR) return make_error(step_run, path, "waitpid", errno);
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long long>(left, 10)));
        }
    }
}

// Every directory above the script must be root's and closed to others
// (sticky ones excepted: others cannot rename root's entries there), or its
// owner could swap the script between sessions, or for the next one. Checked
// top-down: once "/" is safe, no one but root can change what the next
// component names, and so on down.
Result<void> check_script_directories(const std::string& path) {
    std::string prefix;
    for (std::size_t slash = 0; slash != std::string::npos && slash < path.size();
         slash = path.find('/', slash + 1)) {
        std::string dir = slash == 0 ? "/" : path.substr(0, slash);
        if (dir == prefix) continue;
        prefix = dir;
        auto fd = open_path(dir, O_PATH | O_DIRECTORY, "open init script");
        if (!fd) return fd.error();
        auto st = stat_fd(fd->get(), "open init script", dir);
        if (!st) return st.error();
        bool others_write = (st->st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st->st_mode & S_ISVTX) == 0;
        if (st->st_uid != 0 || others_write)
            return make_error("open init script", path, "", 0,
                              "its directory " + dir + " is " +
                                  (st->st_uid != 0 ? "owned by uid " + std::to_string(st->st_uid)
                                                   : std::string("writable by group or other")) +
                                  ", who could replace the script; refusing it",
                              "keep init scripts in a root-owned directory such as /etc/security/namespace.d");
    }
    return {};
}

}  // namespace

Result<UniqueFd> open_init_script(const std::string& path) {
    auto fd = open_path(path, O_PATH, "open init script");
    if (!fd) return fd.error();
    if (auto dirs = check_script_directories(path); !dirs) return dirs.error();
    auto st = stat_fd(fd->get(), "open init script", path);
    if (!st) return st.error();
    if (!S_ISREG(st->st_mode))
        return make_error("open init script", path, "", 0, "not a regular file; refusing it");
    if (st->st_uid != 0)
        return make_error("open init script", path, "", 0,
                          "owned by uid " + std::to_string(st->st_uid) + ", not root; refusing it",
                          "chown root:root " + path);
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return make_error("open init script", path, "", 0, "writable by group or other; refusing it",
                          "chmod go-w " + path);
    if ((st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0)
        return make_error("open init script", path, "", EACCES, "not executable", "chmod 0755 " + path);
    return fd;
}

Result<void> run_init_script(int script_fd, const std::string& script_path, const InitScriptFacts& facts,
                             unsigned timeout_seconds) {
    // Everything the child needs is built before fork: after it, only
    // async-signal-safe calls.
    std::vector<std::string> args = {script_path, facts.polydir, facts.instance,
                                     facts.newly_created ? "1" : "0", facts.user};
    std::vector<std::string> env = {fixed_path, "POLYNS_POLYDIR=" + facts.polydir,
                                    "POLYNS_INSTANCE=" + facts.instance,
                                    std::string("POLYNS_NEWLY_CREATED=") + (facts.newly_created ? "1" : "0"),
                                    "POLYNS_USER=" + facts.user};
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    static constexpr char exec_path[] = "/proc/self/fd/3";

    if (int err = injected_fault("init_script")) return make_error(step_run, script_path, "fork", err);
    UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY));
    if (!devnull) return make_error(step_run, script_path, "open /dev/null", errno);

    // The child reports a failure before or at execve (its errno, which the
    // exit status cannot carry: EMFILE, ENOEXEC ...) through this pipe; a
    // successful execve closes it (O_CLOEXEC) unwritten.
    int report_pipe[2];
    if (::pipe2(report_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return make_error(step_run, script_path, "pipe2", errno);
    UniqueFd report_read(report_pipe[0]);
    UniqueFd report_write(report_pipe[1]);

    SigchldDefault sigchld_default;
    sigset_t all, saved_mask;
    sigfillset(&all);
    // Blocked across fork so no caller's handler runs in the child before the reset.
    ::sigprocmask(SIG_SETMASK, &all, &saved_mask);
    pid_t pid = ::fork();
    if (pid == 0) {
        int report = report_write.get();
        auto fail = [&report](int stage) {
            int message[2] = {stage, errno};
            ssize_t written = ::write(report, message, sizeof message);
            (void)written;
            ::_exit(stage == child_stage_exec ? 127 : 126);
        };
        ::setpgid(0, 0);
        // The caller's cwd may be a user's directory (su from her home): a
        // root script must not start with relative paths resolving there.
        if (::chdir("/") != 0) fail(child_stage_cwd);
        // SELinux: the script runs in the caller's domain, not the user's one
        // pam_selinux set for the next execve (pam_namespace's setexeccon(NULL)).
        if (facts.reset_exec_context && !clear_exec_context()) fail(child_stage_exec_context);
        for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
        // Fds 0-4 are about to be overwritten: whatever must survive that is
        // moved to 5 or above first (only if it is below: fewer fds needed,
        // which matters under a low RLIMIT_NOFILE).
        int script = script_fd >= 5 ? script_fd : ::fcntl(script_fd, F_DUPFD, 5);
        if (script < 0) fail(child_stage_fds);
        int null_fd = devnull.get() >= 5 ? devnull.get() : ::fcntl(devnull.get(), F_DUPFD, 5);
        if (null_fd < 0) fail(child_stage_fds);
        if (report < 5) {
            int moved = ::fcntl(report, F_DUPFD_CLOEXEC, 5);
            if (moved < 0) fail(child_stage_fds);
            report = moved;
        }
        if (::dup2(null_fd, 0) < 0 || ::dup2(null_fd, 1) < 0 || ::dup2(null_fd, 2) < 0 || ::dup2(script, 3) < 0 ||
            ::dup3(report, 4, O_CLOEXEC) < 0)
            fail(child_stage_fds);
        report = 4;
        if (::syscall(SYS_close_range, 5U, ~0U, 0U) != 0) {
            for (int fd = 5; fd < 65536; ++fd) ::close(fd);
        }
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(exec_path, argv.data(), envp.data());
        fail(child_stage_exec);
    }
    int fork_errno = errno;
    ::sigprocmask(SIG_SETMASK, &saved_mask, nullptr);
    if (pid < 0) return make_error(step_run, script_path, "fork", fork_errno);
    report_write.reset();
    // Both sides set the group, so it exists before anyone may signal it.
    ::setpgid(pid, pid);

    bool timed_out = false;
    auto status = wait_with_deadline(pid, timeout_seconds, script_path, timed_out);
    if (!status || timed_out) {
        ::killpg(pid, SIGKILL);
        ::kill(pid, SIGKILL);
        auto reaped = wait_blocking(pid, script_path);
        (void)reaped;
        if (!status) return status.error();
        return make_error(step_run, script_path, "", ETIMEDOUT,
                          "no exit after " + std::to_string(timeout_seconds) +
                              " s; killed its process group",
                          "make the script finish sooner or raise init_timeout=");
    }
    int report[2] = {0, 0};
    if (::read(report_read.get(), report, sizeof report) == static_cast<ssize_t>(sizeof report)) {
        if (report[0] == child_stage_exec) return make_error(step_run, script_path, "execve", report[1]);
        if (report[0] == child_stage_cwd)
            return make_error(step_run, script_path, "chdir", report[1], "cannot start the script in /");
        if (report[0] == child_stage_exec_context)
            return make_error(step_run, script_path, "write /proc/thread-self/attr/exec", report[1],
                              "cannot clear the SELinux exec context (setexeccon(NULL))");
        return make_error(step_run, script_path, "dup2", report[1], "cannot give the script its fds 0-3");
    }
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return {};
    return make_error(step_run, script_path, "", 0, describe_status(*status));
}

}  // namespace polyns::sys
