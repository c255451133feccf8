#include "polyns/sys/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
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

// The pinned instance, inherited by the script (POLYNS_INSTANCE_FD).
constexpr int instance_fd_number = 5;

// Linux's INIT_RLIMITS (include/asm-generic/resource.h): what pid 1 starts
// with, for the resources a caller can lower to make a root script fail
// half-way. NPROC and SIGPENDING are sized by the kernel per machine; root's
// scripts are not bound by NPROC anyway.
struct BootLimit {
    int resource;
    rlim_t soft;
    rlim_t hard;
};
constexpr BootLimit boot_limits[] = {
    {RLIMIT_CPU, RLIM_INFINITY, RLIM_INFINITY},      {RLIMIT_FSIZE, RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_DATA, RLIM_INFINITY, RLIM_INFINITY},     {RLIMIT_STACK, 8 << 20, RLIM_INFINITY},
    {RLIMIT_CORE, 0, RLIM_INFINITY},                 {RLIMIT_RSS, RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_NOFILE, 1024, 4096},                     {RLIMIT_MEMLOCK, 8 << 20, 8 << 20},
    {RLIMIT_AS, RLIM_INFINITY, RLIM_INFINITY},       {RLIMIT_LOCKS, RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_MSGQUEUE, 819200, 819200},               {RLIMIT_NICE, 0, 0},
    {RLIMIT_RTPRIO, 0, 0},                           {RLIMIT_RTTIME, RLIM_INFINITY, RLIM_INFINITY},
};

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

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const char* name = sigabbrev_np(WTERMSIG(status));
        return std::string("killed by signal ") + (name ? std::string("SIG") + name : std::to_string(WTERMSIG(status)));
    }
    return "ended with wait status " + std::to_string(status);
}

pid_t fork_signals_blocked() {
    sigset_t all, saved_mask;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, &saved_mask);
    pid_t pid = ::fork();
    if (pid == 0) return 0;
    int fork_errno = errno;
    ::sigprocmask(SIG_SETMASK, &saved_mask, nullptr);
    errno = fork_errno;
    return pid;
}

Result<ReportPipe> make_report_pipe(const char* step, const std::string& path) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return make_error(step, path, "pipe2", errno);
    return ReportPipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

SigchldDefault::SigchldDefault() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    saved_ok_ = ::sigaction(SIGCHLD, &dfl, &saved_) == 0;
}

SigchldDefault::~SigchldDefault() {
    if (saved_ok_) ::sigaction(SIGCHLD, &saved_, nullptr);
}

Result<int> wait_blocking(pid_t pid, const std::string& path, const char* step_run) {
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
Result<int> wait_with_deadline(pid_t pid, unsigned timeout_seconds, const std::string& path, bool& timed_out,
                               const char* step_run) {
    timed_out = false;
    if (timeout_seconds == 0) return wait_blocking(pid, path, step_run);
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
            if (n > 0) return wait_blocking(pid, path, step_run);
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

bool path_parents_safe(const std::string& path) {
    if (path.empty() || path.front() != '/') return false;
    std::size_t last = path.find_last_not_of('/');
    if (last == std::string::npos) return true;  // "/": no parent segments
    std::size_t end = path.rfind('/', last);
    // Every prefix ending before the last component, "/" included.
    for (std::size_t slash = 0; slash != std::string::npos && slash <= end; slash = path.find('/', slash + 1)) {
        std::string dir = slash == 0 ? "/" : path.substr(0, slash);
        if (slash != 0 && path[slash - 1] == '/') continue;  // "//"
        auto fd = open_path(dir, O_PATH | O_DIRECTORY, "judge path");
        if (!fd) return false;
        auto st = stat_fd(fd->get(), "judge path", dir);
        if (!st) return false;
        bool others_write = (st->st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st->st_mode & S_ISVTX) == 0;
        if (st->st_uid != 0 || others_write) return false;
        if (slash == end) break;
    }
    return true;
}

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
    // $5 and $6 as Linux-PAM gives them (Debian's namespace.init acts only
    // when $5 is 1), judged now: after the mount, in the script's namespace.
    std::vector<std::string> args = {script_path,
                                     facts.polydir,
                                     facts.instance,
                                     facts.newly_created ? "1" : "0",
                                     facts.user,
                                     path_parents_safe(facts.polydir) ? "1" : "0",
                                     facts.instance_fd >= 0 && path_parents_safe(facts.instance) ? "1" : "0"};
    std::vector<std::string> env = {fixed_path, "POLYNS_POLYDIR=" + facts.polydir,
                                    "POLYNS_INSTANCE=" + facts.instance,
                                    std::string("POLYNS_NEWLY_CREATED=") + (facts.newly_created ? "1" : "0"),
                                    "POLYNS_USER=" + facts.user};
    if (facts.instance_fd >= 0) env.push_back("POLYNS_INSTANCE_FD=" + std::to_string(instance_fd_number));
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
    auto report_pipe = make_report_pipe(step_run, script_path);
    if (!report_pipe) return report_pipe.error();
    UniqueFd report_read = std::move(report_pipe->read);
    UniqueFd report_write = std::move(report_pipe->write);

    SigchldDefault sigchld_default;
    pid_t pid = fork_signals_blocked();
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
        // The caller's limits and nice value are hers (ulimit -f 0 and nice
        // 19 before su): the script runs with the kernel's boot defaults
        // instead, as a root login starts. Best effort: without
        // CAP_SYS_RESOURCE a hard limit stays where it is.
        ::setpriority(PRIO_PROCESS, 0, 0);
        for (const BootLimit& limit : boot_limits) {
            struct rlimit value {limit.soft, limit.hard};
            (void)::setrlimit(limit.resource, &value);
        }
        // Fds 0-5 are about to be overwritten: whatever must survive that is
        // moved to 6 or above first (only if it is below: fewer fds needed,
        // which matters under a low RLIMIT_NOFILE).
        int script = script_fd >= 6 ? script_fd : ::fcntl(script_fd, F_DUPFD, 6);
        if (script < 0) fail(child_stage_fds);
        int null_fd = devnull.get() >= 6 ? devnull.get() : ::fcntl(devnull.get(), F_DUPFD, 6);
        if (null_fd < 0) fail(child_stage_fds);
        if (report < 6) {
            int moved = ::fcntl(report, F_DUPFD_CLOEXEC, 6);
            if (moved < 0) fail(child_stage_fds);
            report = moved;
        }
        int instance = facts.instance_fd;
        if (instance >= 0 && instance < 6) {
            instance = ::fcntl(instance, F_DUPFD, 6);
            if (instance < 0) fail(child_stage_fds);
        }
        if (::dup2(null_fd, 0) < 0 || ::dup2(null_fd, 1) < 0 || ::dup2(null_fd, 2) < 0 || ::dup2(script, 3) < 0 ||
            ::dup3(report, 4, O_CLOEXEC) < 0 || (instance >= 0 && ::dup2(instance, instance_fd_number) < 0))
            fail(child_stage_fds);
        report = 4;
        int first_closed = instance >= 0 ? instance_fd_number + 1 : instance_fd_number;
        if (::syscall(SYS_close_range, static_cast<unsigned>(first_closed), ~0U, 0U) != 0) {
            for (int fd = first_closed; fd < 65536; ++fd) ::close(fd);
        }
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(exec_path, argv.data(), envp.data());
        fail(child_stage_exec);
    }
    if (pid < 0) return make_error(step_run, script_path, "fork", errno);
    report_write.reset();
    // Both sides set the group, so it exists before anyone may signal it.
    ::setpgid(pid, pid);

    bool timed_out = false;
    auto status = wait_with_deadline(pid, timeout_seconds, script_path, timed_out, step_run);
    if (!status || timed_out) {
        ::killpg(pid, SIGKILL);
        ::kill(pid, SIGKILL);
        auto reaped = wait_blocking(pid, script_path, step_run);
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
