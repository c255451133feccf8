// Runner for the engine's system tests: root only (exit 77 = skipped otherwise).
#define CATCH_CONFIG_RUNNER
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

// Can this process make a mount namespace at all (root, not in a locked-down container)?
bool can_unshare() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(::unshare(CLONE_NEWNS) == 0 ? 0 : 1);
    int status = 0;
    return pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (::geteuid() != 0 || !can_unshare()) {
        std::fprintf(stderr, "engine system tests need root and unshare(CLONE_NEWNS); skipped\n");
        return 77;
    }
    // A private mount namespace of our own, as the shell tests' harness has:
    // each case compares this namespace's mount table before and after its
    // child ran (isolation.cpp), and mounts the host makes meanwhile (a
    // service under /run, a busy host's tmpfs under /mnt) must not appear in
    // it. What the code under test mounts here by mistake still does.
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        std::fprintf(stderr, "engine system tests: a private mount namespace: %s\n", std::strerror(errno));
        return 1;
    }
    return Catch::Session().run(argc, argv);
}
