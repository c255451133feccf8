#include "bench_subjects.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <security/pam_appl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace polyns::bench {
namespace {

enum ChildExit : int {
    exit_ok = 0,
    exit_pam_start = 10,
    exit_pam_open = 11,
    exit_pam_close = 12,
    exit_pam_end = 13,
    exit_unshare = 20,
    exit_propagation = 21,
    exit_open_polydir = 22,
    exit_open_template = 23,
    exit_instance = 24,
    exit_mount = 25,
    exit_too_many_steps = 26,
};

std::int64_t now_ns() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int quiet_conversation(int count, const pam_message** messages, pam_response** responses, void*) {
    if (count <= 0) return PAM_CONV_ERR;
    for (int i = 0; i < count; ++i) {
        if (messages[i]->msg_style != PAM_ERROR_MSG && messages[i]->msg_style != PAM_TEXT_INFO)
            return PAM_CONV_ERR;
    }
    *responses = static_cast<pam_response*>(std::calloc(static_cast<size_t>(count), sizeof(pam_response)));
    return *responses == nullptr ? PAM_BUF_ERR : PAM_SUCCESS;
}

int open_resolved(int dirfd, const char* path, std::uint64_t flags) {
    struct open_how how {};
    how.flags = flags | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

// The kernel floor: what polyns must do at the least, with the same calls
// (DESIGN invariants 1, 2, 5, 11): unshare, / recursively slave, pin polydir,
// template and instance by fd with owner checks, then bind each instance.
int kernel_floor(const std::vector<KernelStep>& steps) {
    constexpr std::size_t max_steps = 64;
    if (steps.size() > max_steps) return exit_too_many_steps;
    if (::unshare(CLONE_NEWNS) != 0) return exit_unshare;
    struct mount_attr attr {};
    attr.propagation = MS_SLAVE;
    if (::mount_setattr(AT_FDCWD, "/", AT_RECURSIVE | AT_SYMLINK_NOFOLLOW, &attr, sizeof attr) != 0)
        return exit_propagation;
    int polydir_fds[max_steps];
    int instance_fds[max_steps];
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const KernelStep& step = steps[i];
        struct stat st {};
        polydir_fds[i] = open_resolved(AT_FDCWD, step.polydir.c_str(), O_PATH | O_DIRECTORY);
        if (polydir_fds[i] < 0 || ::fstat(polydir_fds[i], &st) != 0) return exit_open_polydir;
        int tmpl = open_resolved(AT_FDCWD, step.template_dir.c_str(), O_PATH | O_DIRECTORY);
        if (tmpl < 0 || ::fstat(tmpl, &st) != 0 || st.st_uid != 0 || (st.st_mode & 022) != 0)
            return exit_open_template;
        const char* name = step.instance_name.c_str();
        bool created = ::mkdirat(tmpl, name, 0) == 0;
        if (!created && errno != EEXIST) return exit_instance;
        instance_fds[i] = ::openat(tmpl, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (instance_fds[i] < 0) return exit_instance;
        if (created) {
            if (::fchown(instance_fds[i], step.uid, step.gid) != 0 || ::fchmod(instance_fds[i], 0700) != 0)
                return exit_instance;
        } else if (::fstat(instance_fds[i], &st) != 0 || st.st_uid != step.uid || (st.st_mode & 07777) != 0700) {
            return exit_instance;
        }
    }
    for (std::size_t i = 0; i < steps.size(); ++i) {
        int tree = ::open_tree(instance_fds[i], "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (tree < 0) return exit_mount;
        if (::move_mount(tree, "", polydir_fds[i], "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
            return exit_mount;
    }
    return exit_ok;
}

}  // namespace

Subject subject(SubjectKind kind) {
    switch (kind) {
    case SubjectKind::Fork: return {kind, "fork", "", ""};
    case SubjectKind::PamFloor: return {kind, "pam-floor", service_pam_floor, ""};
    case SubjectKind::ModuleFloor: return {kind, "module-floor", service_module_floor, ""};
    case SubjectKind::Kernel: return {kind, "kernel", "", ""};
    case SubjectKind::LinuxPam: return {kind, "linux-pam", service_linux_pam, ""};
    case SubjectKind::Polyns: return {kind, "polyns", service_polyns, ""};
    case SubjectKind::PersistRepeat: return {kind, "persist", service_polyns_persist, ""};
    case SubjectKind::PersistFirst: return {kind, "persist-1st", service_polyns_persist, ""};
    }
    return {kind, "?", "", ""};
}

std::string describe_exit_code(int code) {
    switch (code) {
    case exit_ok: return "ok";
    case exit_pam_start: return "pam_start failed";
    case exit_pam_open: return "pam_open_session failed";
    case exit_pam_close: return "pam_close_session failed";
    case exit_pam_end: return "pam_end failed";
    case exit_unshare: return "kernel floor: unshare failed";
    case exit_propagation: return "kernel floor: mount_setattr(/, slave) failed";
    case exit_open_polydir: return "kernel floor: open polydir failed";
    case exit_open_template: return "kernel floor: template missing or not root 0755";
    case exit_instance: return "kernel floor: instance create/open/check failed";
    case exit_mount: return "kernel floor: open_tree/move_mount failed";
    case exit_too_many_steps: return "kernel floor: too many polydirs";
    default: break;
    }
    if (code >= 128) return "killed by signal " + std::to_string(code - 128);
    return "exit status " + std::to_string(code);
}

int pam_cycle(const std::string& service, const std::string& user) {
    const pam_conv conversation{quiet_conversation, nullptr};
    pam_handle_t* handle = nullptr;
    const bool phases = std::getenv("POLYNS_BENCH_PHASES") != nullptr;
    std::int64_t t0 = phases ? now_ns() : 0;
    int status = pam_start(service.c_str(), user.c_str(), &conversation, &handle);
    if (status != PAM_SUCCESS) return exit_pam_start;
    std::int64_t t1 = phases ? now_ns() : 0;
    status = pam_open_session(handle, 0);
    if (phases) {
        std::int64_t t2 = now_ns();
        std::fprintf(stderr, "phases %s: pam_start %lld us, open %lld us\n", service.c_str(),
                     static_cast<long long>((t1 - t0) / 1000), static_cast<long long>((t2 - t1) / 1000));
    }
    if (status != PAM_SUCCESS) {
        std::fprintf(stderr, "polyns-bench: %s/%s: pam_open_session: %s\n", service.c_str(), user.c_str(),
                     pam_strerror(handle, status));
        pam_end(handle, status);
        return exit_pam_open;
    }
    status = pam_close_session(handle, 0);
    int end_status = pam_end(handle, status);
    if (status != PAM_SUCCESS) return exit_pam_close;
    if (end_status != PAM_SUCCESS) return exit_pam_end;
    return exit_ok;
}

CycleResult run_cycle(const Subject& s, const std::string& user, const std::vector<KernelStep>& steps) {
    CycleResult result;
    const std::int64_t start = now_ns();
    pid_t child = ::fork();
    if (child < 0) {
        result.exit_code = 127;
        return result;
    }
    if (child == 0) {
        int code = exit_ok;
        switch (s.kind) {
        case SubjectKind::Fork: break;
        case SubjectKind::Kernel: code = kernel_floor(steps); break;
        case SubjectKind::PamFloor:
        case SubjectKind::ModuleFloor:
        case SubjectKind::LinuxPam:
        case SubjectKind::PersistRepeat:
        case SubjectKind::PersistFirst:
        case SubjectKind::Polyns: code = pam_cycle(s.service, user); break;
        }
        ::_exit(code);
    }
    int status = 0;
    struct rusage usage {};
    while (::wait4(child, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            result.exit_code = 127;
            return result;
        }
    }
    result.nanoseconds = now_ns() - start;
    auto ns_of = [](const struct timeval& tv) {
        return static_cast<std::int64_t>(tv.tv_sec) * 1000000000 + static_cast<std::int64_t>(tv.tv_usec) * 1000;
    };
    result.cpu_nanoseconds = ns_of(usage.ru_utime) + ns_of(usage.ru_stime);
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
    return result;
}

Holder start_holder(const std::string& service, const std::string& user) {
    Holder h;
    int ready[2];
    int release[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return h;
    if (::pipe2(release, O_CLOEXEC) != 0) {
        ::close(ready[0]);
        ::close(ready[1]);
        return h;
    }
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(ready[0]);
        ::close(release[1]);
        const pam_conv conversation{quiet_conversation, nullptr};
        pam_handle_t* handle = nullptr;
        char ok = 0;
        if (pam_start(service.c_str(), user.c_str(), &conversation, &handle) == PAM_SUCCESS &&
            pam_open_session(handle, 0) == PAM_SUCCESS)
            ok = 1;
        if (::write(ready[1], &ok, 1) != 1) ::_exit(1);
        if (!ok) ::_exit(1);
        // A byte, not EOF: later holders inherited this pipe's write end.
        char c = 0;
        while (::read(release[0], &c, 1) < 0 && errno == EINTR) {
        }
        int status = pam_close_session(handle, 0);
        pam_end(handle, status);
        ::_exit(status == PAM_SUCCESS ? 0 : 1);
    }
    ::close(ready[1]);
    ::close(release[0]);
    char ok = 0;
    if (pid < 0 || ::read(ready[0], &ok, 1) != 1 || !ok) {
        ::close(ready[0]);
        ::close(release[1]);
        if (pid > 0) ::waitpid(pid, nullptr, 0);
        return h;
    }
    ::close(ready[0]);
    h.pid = pid;
    h.release_fd = release[1];
    return h;
}

bool release_holder(Holder& h) {
    if (h.pid < 0) return false;
    const char go = 1;
    if (::write(h.release_fd, &go, 1) != 1) {
        ::close(h.release_fd);
        ::kill(h.pid, SIGKILL);
        ::waitpid(h.pid, nullptr, 0);
        h.pid = -1;
        return false;
    }
    ::close(h.release_fd);
    int status = 0;
    while (::waitpid(h.pid, &status, 0) < 0 && errno == EINTR) {
    }
    h.pid = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace polyns::bench
