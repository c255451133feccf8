// Runner for the engine's system tests: root only (exit 77 = skipped otherwise).
#define CATCH_CONFIG_RUNNER
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>

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
    return Catch::Session().run(argc, argv);
}
