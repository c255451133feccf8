// The child-process runner for init scripts (DESIGN invariant 8).
#pragma once

#include <string>

#include "polyns/result.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys {

// Opens an init script by fd (no symlinks anywhere on the path, never blocks)
// and checks it: a regular file, owned by root, not writable by group or other,
// executable. A missing script is an Error with err == ENOENT.
Result<UniqueFd> open_init_script(const std::string& path);

// What the script is told. Arguments, as with Linux-PAM: polydir, instance,
// "1" if the instance was created by this session else "0", user name.
struct InitScriptFacts {
    std::string polydir;
    std::string instance;
    bool newly_created = false;
    std::string user;
    // SELinux on: clear the exec context in the child (setexeccon(NULL)), so
    // the script runs in the caller's domain, not the user's.
    bool reset_exec_context = false;
};

// Runs the script opened by open_init_script and waits for it.
//  - environment: exactly PATH=/usr/sbin:/usr/bin:/sbin:/bin,
//    POLYNS_POLYDIR, POLYNS_INSTANCE, POLYNS_NEWLY_CREATED (1/0), POLYNS_USER;
//  - fds 0-2 on /dev/null; fd 3 is the script itself (O_PATH; the interpreter of
//    a #! script reads it through /proc/self/fd/3); every other fd is closed;
//  - signal dispositions reset to default, signal mask empty;
//  - its own process group; after `timeout_seconds` (0 = no limit) the whole
//    group is killed with SIGKILL and the run fails.
// Works whatever the caller did with SIGCHLD (ignored, blocked, handled): it is
// set to SIG_DFL for the duration, and the child is reaped by its pid.
// Fails unless the script exits with status 0.
Result<void> run_init_script(int script_fd, const std::string& script_path, const InitScriptFacts& facts,
                             unsigned timeout_seconds);

}  // namespace polyns::sys
