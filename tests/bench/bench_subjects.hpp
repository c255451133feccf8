// What is measured: one cycle of a subject = fork -> (the subject's work in
// the child) -> exit -> reap, timed in the parent from before fork to after
// waitpid.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench_world.hpp"

namespace polyns::bench {

enum class SubjectKind {
    Fork,      // the child exits at once
    PamFloor,  // pam_start, open, close, pam_end on a pam_permit-only service
    ModuleFloor,  // the PAM floor plus a module that does nothing (noop_module.cpp)
    Kernel,    // the syscalls polyns needs, without PAM
    LinuxPam,  // Linux-PAM's pam_namespace.so
    Polyns,    // pam_polyns.so
    PersistRepeat,  // pam_polyns.so persist, while another session of the user is open (joins)
    PersistFirst,   // pam_polyns.so persist, the user's only session (builds, pins, unpins)
};

struct Subject {
    SubjectKind kind;
    std::string name;     // "fork", "pam-floor", "module-floor", "kernel", "linux-pam", "polyns"
    std::string service;  // PAM service for the PAM subjects
    std::string user;     // when set, this user instead of the run's (persist-1st: one nobody holds)
};

// A session of `user` opened through `service` in a child process and held
// open until release_holder(): persist's "another session of the user".
struct Holder {
    pid_t pid = -1;
    int release_fd = -1;
};
Holder start_holder(const std::string& service, const std::string& user);
// Closes the held session and reaps the child; false when it failed.
bool release_holder(Holder& holder);

Subject subject(SubjectKind kind);

struct CycleResult {
    std::int64_t nanoseconds = 0;      // wall clock, fork to reap
    std::int64_t cpu_nanoseconds = 0;  // the child's user + system CPU time
    int exit_code = 0;  // 0 = the session opened and closed
};

// Child exit codes: what failed.
std::string describe_exit_code(int code);

// One cycle. `steps` is the kernel floor's work (ignored by other subjects).
CycleResult run_cycle(const Subject& s, const std::string& user, const std::vector<KernelStep>& steps);

// The child's part of a PAM cycle, also used by the storm's workers.
int pam_cycle(const std::string& service, const std::string& user);

}  // namespace polyns::bench
