// The child-process runner for init scripts (DESIGN invariant 8).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <string>

#include "polyns/result.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys {

// Opens an init script by fd (no symlinks anywhere on the path, never blocks)
// and checks it: a regular file, owned by root, not writable by group or other,
// executable. A missing script is an Error with err == ENOENT.
Result<UniqueFd> open_init_script(const std::string& path);

// What the script is told. Arguments, as with Linux-PAM: polydir, instance,
// "1" if the instance was created by this session else "0", user name, "1"
// if the polydir's path is safe (path_parents_safe) else "0", "1" if the
// instance's path is safe else "0" (always "0" for tmpfs).
struct InitScriptFacts {
    std::string polydir;
    std::string instance;
    bool newly_created = false;
    std::string user;
    // SELinux on: clear the exec context in the child (setexeccon(NULL)), so
    // the script runs in the caller's domain, not the user's.
    bool reset_exec_context = false;
    // The instance as pinned (O_RDONLY|O_DIRECTORY), or -1 (tmpfs): given to
    // the script as fd 5, announced in POLYNS_INSTANCE_FD. The path in $2 may
    // resolve inside the user's own instance after the mount (a template
    // under the polydir), where she could have planted a symlink; fd 5
    // (/proc/self/fd/5) is the real instance whatever she did.
    int instance_fd = -1;
};

// Linux-PAM's check for the init script's $5 and $6: every segment of `path`
// but the last is a directory owned by root and not writable by group or
// other (sticky ones excepted). Judged by fd (open_path: never through a
// user's symlink or FUSE mount; anything it refuses is "not safe").
bool path_parents_safe(const std::string& path);

// Runs the script opened by open_init_script and waits for it.
//  - environment: exactly PATH=/usr/sbin:/usr/bin:/sbin:/bin,
//    POLYNS_POLYDIR, POLYNS_INSTANCE, POLYNS_NEWLY_CREATED (1/0), POLYNS_USER,
//    and POLYNS_INSTANCE_FD=5 when there is an instance directory;
//  - fds 0-2 on /dev/null; fd 3 is the script itself (O_PATH; the interpreter of
//    a #! script reads it through /proc/self/fd/3); fd 5 the instance (above);
//    every other fd is closed;
//  - signal dispositions reset to default, signal mask empty; nice 0 and the
//    kernel's boot resource limits (INIT_RLIMITS), never the caller's;
//  - its own process group; after `timeout_seconds` (0 = no limit) the whole
//    group is killed with SIGKILL and the run fails.
// Works whatever the caller did with SIGCHLD (ignored, blocked, handled): it is
// set to SIG_DFL for the duration, and the child is reaped by its pid.
// Fails unless the script exits with status 0.
Result<void> run_init_script(int script_fd, const std::string& script_path, const InitScriptFacts& facts,
                             unsigned timeout_seconds);

// For the children the sys layer runs (init scripts, removals with an owner's
// rights): SIGCHLD at SIG_DFL while one is waited for. With SIG_IGN the kernel
// would reap the child itself and waitpid could not tell its status; a
// caller's handler calling waitpid(-1) could steal it. Restored at scope end.
class SigchldDefault {
public:
    SigchldDefault();
    ~SigchldDefault();
    SigchldDefault(const SigchldDefault&) = delete;
    SigchldDefault& operator=(const SigchldDefault&) = delete;

private:
    struct sigaction saved_ {};
    bool saved_ok_ = false;
};

// fork(2) with every signal blocked across it, so no caller's handler runs
// in the child before it resets them: the child starts with all signals
// blocked, the parent's mask is restored. -1 with errno on failure.
pid_t fork_signals_blocked();

// A pipe (O_CLOEXEC|O_NONBLOCK) for a child's report: {read end, write end}.
struct ReportPipe {
    UniqueFd read;
    UniqueFd write;
};
Result<ReportPipe> make_report_pipe(const char* step, const std::string& path);

// waitpid(pid), retried on EINTR: the wait status.
Result<int> wait_blocking(pid_t pid, const std::string& path, const char* step);

// Waits until the child exits (its wait status) or `timeout_seconds` pass
// (0: no limit); then `timed_out` is set and the child is left to the caller.
Result<int> wait_with_deadline(pid_t pid, unsigned timeout_seconds, const std::string& path, bool& timed_out,
                               const char* step);

// "exited with status 1", "killed by signal SIGKILL".
std::string describe_status(int status);

}  // namespace polyns::sys
