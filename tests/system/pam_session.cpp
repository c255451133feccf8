// polyns-pam-session: open a PAM session through the real libpam, run a
// command inside it, close it. The system tests' stand-in for login/sshd.
//
//   polyns-pam-session [OPTIONS] SERVICE USER [--] CMD...
//   polyns-pam-session [OPTIONS] --no-cmd SERVICE USER
//
// Options:
//   --threads           start a second thread before pam_open_session (the
//                       module must refuse a multithreaded caller)
//   --keep-open-fds N   open N extra fds (on /dev/null, inheritable) before
//                       pam_open_session, to check that init scripts do not
//                       inherit them
//   --print-ns          print the mount namespace before pam_open_session,
//                       after it, and after pam_close_session on stderr, as
//                       "polyns-pam-session: mntns <stage>=mnt:[N]"
//   --no-cmd            open and close the session only
//   --open-twice        call pam_open_session twice on the handle (each
//                       result on stderr as "polyns-pam-session: open N: TEXT");
//                       the session counts as open if either call succeeded
//   --open-twice-as USER
//                       the same, with PAM_USER set to USER before the second
//   --cmd-after-failed-open
//                       when pam_open_session fails, run CMD all the same
//                       (still exit 2): it shows the state the failure left
//                       this process in (its mount table, its cwd)
//
// CMD runs as root (we do not drop privileges: tests need to look around),
// in the session's mount namespace: the module moves this process, and the
// child inherits it.
//
// Exit status: CMD's status (128+N if killed by signal N); 2 when
// pam_open_session fails (PAM's error text on stderr); 3 for any other PAM
// error (pam_start, pam_close_session, pam_end); 4 for a system error
// (fork, wait); 64 for a usage error; 127 when CMD cannot be executed.
#include <fcntl.h>
#include <security/pam_appl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <condition_variable>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr int exit_open_failed = 2;
constexpr int exit_pam_error = 3;
constexpr int exit_system_error = 4;
constexpr int exit_usage = 64;
constexpr int exit_exec_failed = 127;

const char* const program = "polyns-pam-session";

// A session module has nothing to ask; show informational messages, refuse prompts.
int silent_conversation(int count, const pam_message** messages, pam_response** responses, void*) {
    if (count <= 0) return PAM_CONV_ERR;
    auto* replies = static_cast<pam_response*>(std::calloc(static_cast<size_t>(count), sizeof(pam_response)));
    if (replies == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        switch (messages[i]->msg_style) {
        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            std::fprintf(stderr, "%s: conversation: %s\n", program, messages[i]->msg);
            break;
        default:
            std::free(replies);
            return PAM_CONV_ERR;
        }
    }
    *responses = replies;
    return PAM_SUCCESS;
}

std::string mount_namespace() {
    char target[PATH_MAX];
    ssize_t length = ::readlink("/proc/self/ns/mnt", target, sizeof(target) - 1);
    if (length < 0) return "?";
    return std::string(target, static_cast<size_t>(length));
}

int usage() {
    std::fprintf(stderr,
                 "usage: %s [--threads] [--keep-open-fds N] [--print-ns] [--open-twice | --open-twice-as USER] [--cmd-after-failed-open] SERVICE USER [--] CMD...\n"
                 "       %s [--threads] [--keep-open-fds N] [--print-ns] --no-cmd SERVICE USER\n",
                 program, program);
    return exit_usage;
}

// A thread that only waits, so /proc/self/task has two entries.
class IdleThread {
public:
    IdleThread() : thread_([this] {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return done_; });
    }) {}
    IdleThread(const IdleThread&) = delete;
    IdleThread& operator=(const IdleThread&) = delete;
    ~IdleThread() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable wake_;
    bool done_ = false;
    std::thread thread_;
};

int run_command(pam_handle_t* handle, char** command) {
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child < 0) {
        std::fprintf(stderr, "%s: fork: %s\n", program, std::strerror(errno));
        return exit_system_error;
    }
    if (child == 0) {
        // The session's environment (pam_putenv by modules) on top of ours.
        if (char** pam_environment = pam_getenvlist(handle)) {
            for (char** entry = pam_environment; *entry != nullptr; ++entry) ::putenv(*entry);
        }
        ::execvp(command[0], command);
        std::fprintf(stderr, "%s: cannot execute %s: %s\n", program, command[0], std::strerror(errno));
        std::fflush(stderr);
        ::_exit(exit_exec_failed);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            std::fprintf(stderr, "%s: waitpid: %s\n", program, std::strerror(errno));
            return exit_system_error;
        }
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return exit_system_error;
}

}  // namespace

int main(int argc, char** argv) {
    bool with_thread = false;
    bool print_ns = false;
    bool no_command = false;
    bool open_twice = false;
    const char* second_user = nullptr;
    bool cmd_after_failed_open = false;
    long extra_fds = 0;

    int index = 1;
    for (; index < argc; ++index) {
        std::string_view argument = argv[index];
        if (argument == "--threads") {
            with_thread = true;
        } else if (argument == "--print-ns") {
            print_ns = true;
        } else if (argument == "--cmd-after-failed-open") {
            cmd_after_failed_open = true;
        } else if (argument == "--open-twice") {
            open_twice = true;
        } else if (argument == "--open-twice-as") {
            if (index + 1 >= argc) return usage();
            open_twice = true;
            second_user = argv[++index];
        } else if (argument == "--no-cmd") {
            no_command = true;
        } else if (argument == "--keep-open-fds") {
            if (index + 1 >= argc) return usage();
            char* end = nullptr;
            extra_fds = std::strtol(argv[++index], &end, 10);
            if (*end != '\0' || extra_fds < 0 || extra_fds > 1000) return usage();
        } else if (argument == "--help" || argument == "-h") {
            usage();
            return 0;
        } else if (argument.starts_with("--") && argument != "--") {
            std::fprintf(stderr, "%s: unknown option %s\n", program, argv[index]);
            return usage();
        } else {
            break;
        }
    }
    if (argc - index < 2) return usage();
    const char* service = argv[index++];
    const char* user = argv[index++];
    if (index < argc && std::string_view(argv[index]) == "--") ++index;
    char** command = argv + index;
    if (no_command && index != argc) return usage();
    if (!no_command && index == argc) return usage();

    std::vector<int> kept_fds;
    for (long i = 0; i < extra_fds; ++i) {
        int fd = ::open("/dev/null", O_RDONLY);  // inheritable on purpose
        if (fd < 0) {
            std::fprintf(stderr, "%s: open /dev/null: %s\n", program, std::strerror(errno));
            return exit_system_error;
        }
        kept_fds.push_back(fd);
    }

    if (print_ns) std::fprintf(stderr, "%s: mntns before=%s\n", program, mount_namespace().c_str());

    const pam_conv conversation{silent_conversation, nullptr};
    pam_handle_t* handle = nullptr;
    int status = pam_start(service, user, &conversation, &handle);
    if (status != PAM_SUCCESS) {
        std::fprintf(stderr, "%s: pam_start(%s, %s): %s\n", program, service, user,
                     pam_strerror(handle, status));
        return exit_pam_error;
    }

    int exit_code = 0;
    {
        std::unique_ptr<IdleThread> second_thread;
        if (with_thread) second_thread = std::make_unique<IdleThread>();
        status = pam_open_session(handle, 0);
    }
    if (open_twice) {
        std::fprintf(stderr, "%s: open 1: %s\n", program, pam_strerror(handle, status));
        if (second_user != nullptr && pam_set_item(handle, PAM_USER, second_user) != PAM_SUCCESS) {
            std::fprintf(stderr, "%s: pam_set_item(PAM_USER, %s) failed\n", program, second_user);
            pam_end(handle, status);
            return exit_pam_error;
        }
        int second = pam_open_session(handle, 0);
        std::fprintf(stderr, "%s: open 2: %s\n", program, pam_strerror(handle, second));
        if (status != PAM_SUCCESS) status = second;
    }
    if (print_ns) std::fprintf(stderr, "%s: mntns after_open=%s\n", program, mount_namespace().c_str());
    if (status != PAM_SUCCESS) {
        std::fprintf(stderr, "%s: pam_open_session(%s, %s): %s\n", program, service, user,
                     pam_strerror(handle, status));
        if (cmd_after_failed_open && !no_command) run_command(handle, command);
        pam_end(handle, status);
        return exit_open_failed;
    }

    if (!no_command) exit_code = run_command(handle, command);

    status = pam_close_session(handle, 0);
    if (print_ns) std::fprintf(stderr, "%s: mntns after_close=%s\n", program, mount_namespace().c_str());
    if (status != PAM_SUCCESS) {
        std::fprintf(stderr, "%s: pam_close_session(%s, %s): %s\n", program, service, user,
                     pam_strerror(handle, status));
        exit_code = exit_pam_error;
    }
    int end_status = pam_end(handle, status);
    if (end_status != PAM_SUCCESS) {
        std::fprintf(stderr, "%s: pam_end: %s\n", program, pam_strerror(nullptr, end_status));
        exit_code = exit_pam_error;
    }
    for (int fd : kept_fds) ::close(fd);
    return exit_code;
}
