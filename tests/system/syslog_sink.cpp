// polyns-syslog-sink PATH_SOCKET OUTFILE
//
// A minimal syslog receiver for the system-test namespace: binds an AF_UNIX
// datagram socket (normally the private /dev/log of the harness) and appends
// every datagram, one per line, to OUTFILE. Each line is written with a single
// O_APPEND write(2), so readers never see half a line and `syslog_clear`
// (truncating OUTFILE) is safe while the sink runs.
//
// Exits on SIGTERM/SIGINT, and when its parent (the test script) dies, so a
// test killed by a timeout never leaves a sink behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t stop_requested = 0;

void request_stop(int) { stop_requested = 1; }

int die(const char* what, const char* path) {
    std::fprintf(stderr, "polyns-syslog-sink: %s %s: %s\n", what, path, std::strerror(errno));
    return 1;
}

bool write_all(int fd, const char* data, size_t size) {
    while (size > 0) {
        ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += written;
        size -= static_cast<size_t>(written);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: polyns-syslog-sink PATH_SOCKET OUTFILE\n");
        return 2;
    }
    const char* socket_path = argv[1];
    const char* out_path = argv[2];

    const pid_t parent = ::getppid();
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) return 0;  // parent already gone

    // No SA_RESTART: recv() must return EINTR so the loop sees the stop flag.
    struct sigaction action {};
    action.sa_handler = request_stop;
    ::sigemptyset(&action.sa_mask);
    ::sigaction(SIGTERM, &action, nullptr);
    ::sigaction(SIGINT, &action, nullptr);

    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (std::strlen(socket_path) >= sizeof(address.sun_path)) {
        std::fprintf(stderr, "polyns-syslog-sink: socket path too long: %s\n", socket_path);
        return 2;
    }
    std::strncpy(address.sun_path, socket_path, sizeof(address.sun_path) - 1);

    // Replace a stale socket, never anything else.
    struct stat existing {};
    if (::lstat(socket_path, &existing) == 0) {
        if (!S_ISSOCK(existing.st_mode)) {
            std::fprintf(stderr, "polyns-syslog-sink: %s exists and is not a socket\n", socket_path);
            return 1;
        }
        if (::unlink(socket_path) != 0) return die("cannot unlink stale socket", socket_path);
    }

    int out_fd = ::open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out_fd < 0) return die("cannot open", out_path);

    int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return die("socket", socket_path);
    // Large receive queue: 20 parallel logins log in bursts.
    int buffer_size = 4 * 1024 * 1024;
    ::setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof(buffer_size));
    mode_t old_umask = ::umask(0);  // everyone may log, as with a real /dev/log
    int bound = ::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::umask(old_umask);
    if (bound != 0) return die("cannot bind", socket_path);

    std::vector<char> buffer(64 * 1024);
    while (!stop_requested) {
        ssize_t received = ::recv(sock, buffer.data(), buffer.size() - 1, 0);
        if (received < 0) {
            if (errno == EINTR) continue;
            die("recv on", socket_path);
            break;
        }
        std::string line(buffer.data(), static_cast<size_t>(received));
        while (!line.empty() && (line.back() == '\n' || line.back() == '\0')) line.pop_back();
        for (char& c : line)
            if (c == '\n' || c == '\0') c = ' ';
        line.push_back('\n');
        if (!write_all(out_fd, line.data(), line.size())) {
            die("cannot write", out_path);
            break;
        }
    }
    ::unlink(socket_path);
    ::close(sock);
    ::close(out_fd);
    return 0;
}
