// polyns-without-new-mount-api CMD...: runs CMD with the new mount API
// (open_tree, move_mount, fsopen, fsconfig, fsmount, fspick, mount_setattr)
// answering ENOSYS, as on a kernel older than 5.2/5.12. The system tests run
// the module through it to prove the legacy /proc/self/fd backend (DESIGN
// invariant 13) on a kernel that has the new one.
//
// A seccomp filter is inherited by every child and survives execve, so the
// PAM driver, the module inside it and nested sessions all see the old kernel.
// Exit status: CMD's; 77 (skip) on an architecture the filter does not know;
// 1 when the filter cannot be installed or does not take effect.
//
// Built a second time with POLYNS_WITHOUT_STATMOUNT as polyns-without-statmount:
// statmount and listmount (Linux 6.8) answer ENOSYS instead, as on Debian 12's
// 6.1, so the module judges nested sessions by the mount table.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

namespace {

#if defined(__x86_64__)
constexpr unsigned native_audit_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned native_audit_arch = AUDIT_ARCH_AARCH64;
#else
constexpr unsigned native_audit_arch = 0;
#endif

// The same numbers on every architecture (unified syscall table, 5.2+).
constexpr unsigned nr_open_tree = 428;
constexpr unsigned nr_move_mount = 429;
constexpr unsigned nr_fsopen = 430;
constexpr unsigned nr_fsconfig = 431;
constexpr unsigned nr_fsmount = 432;
constexpr unsigned nr_fspick = 433;
constexpr unsigned nr_mount_setattr = 442;
constexpr unsigned nr_statmount = 457;
constexpr unsigned nr_listmount = 458;

#if defined(POLYNS_WITHOUT_STATMOUNT)
constexpr const char* program_name = "polyns-without-statmount";
constexpr unsigned nr_probe = nr_statmount;
#else
constexpr const char* program_name = "polyns-without-new-mount-api";
constexpr unsigned nr_probe = nr_fsopen;
#endif

#define DENY_WITH_ENOSYS(nr)                                   \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),           \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA))

int install_filter() {
    sock_filter program[] = {
        // Another architecture's syscall numbers mean other syscalls: allow.
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native_audit_arch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
#if defined(POLYNS_WITHOUT_STATMOUNT)
        DENY_WITH_ENOSYS(nr_statmount),
        DENY_WITH_ENOSYS(nr_listmount),
#else
        DENY_WITH_ENOSYS(nr_open_tree),
        DENY_WITH_ENOSYS(nr_move_mount),
        DENY_WITH_ENOSYS(nr_fsopen),
        DENY_WITH_ENOSYS(nr_fsconfig),
        DENY_WITH_ENOSYS(nr_fsmount),
        DENY_WITH_ENOSYS(nr_fspick),
        DENY_WITH_ENOSYS(nr_mount_setattr),
#endif
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog fprog{static_cast<unsigned short>(sizeof program / sizeof program[0]), program};
    // Root (CAP_SYS_ADMIN) may install a filter without no_new_privs; we do not
    // set it, so set-uid programs in the session behave as they normally would.
    return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CMD...\n", program_name);
        return 64;
    }
    if (native_audit_arch == 0) {
        std::fprintf(stderr, "%s: unsupported architecture\n", program_name);
        return 77;
    }
    if (install_filter() != 0) {
        std::fprintf(stderr, "%s: seccomp: %s\n", program_name, std::strerror(errno));
        return 1;
    }
    // (fsopen("tmpfs", 0) and statmount(NULL, ...) fail otherwise, but not with ENOSYS.)
    if (::syscall(nr_probe, nr_probe == nr_fsopen ? "tmpfs" : nullptr, 0, 0, 0) != -1 || errno != ENOSYS) {
        std::fprintf(stderr, "%s: the filter did not take effect\n", program_name);
        return 1;
    }
    ::execvp(argv[1], argv + 1);
    std::fprintf(stderr, "%s: cannot execute %s: %s\n", program_name, argv[1], std::strerror(errno));
    return 127;
}
