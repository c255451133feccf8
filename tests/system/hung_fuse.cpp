// polyns-hung-fuse: a FUSE daemon for issue 6, catalogue entry 19 (a hung or
// slow filesystem where a directory is expected).
//
//   polyns-hung-fuse [--mount-uid UID] [--mount-gid GID] [--owner UID:GID]
//                    [--mode OCTAL] [--answer] [--answer-to COMM]...
//                    [--delay-ms N] [--log FILE] [--no-allow-other] --ready FILE MOUNTPOINT
//
// Mounts a FUSE filesystem at MOUNTPOINT with allow_other, as fusermount3
// would for a user on a host whose /etc/fuse.conf has user_allow_other: the
// mount's user_id=/group_id= are --mount-uid/--mount-gid (0 by default: an
// admin's mount). It answers the kernel's INIT, creates the ready FILE, and
// then never answers another request (getattr, lookup, opendir, statfs, mkdir
// ... all wait): a daemon that stopped answering. Exceptions:
//  - --answer: everyone is answered, --delay-ms late (a slow filesystem);
//  - --answer-to COMM: processes named COMM are answered (the test's own
//    `find` and `stat`, so that its before/after snapshots see the mount
//    point), everyone else still waits forever.
// Answers describe an empty root directory, and an empty directory "sub" in
// it, owned by --owner with --mode. --log FILE gets one line per request:
// "OPCODE PID COMM answered|ignored". --no-allow-other: fusermount3's default
// (only the mounting user may enter; root neither). Killing the daemon (SIGKILL) aborts the
// connection: every waiting request fails with ENOTCONN; then `umount -l`.
//
// It mounts with mount(2) itself (it runs as root in the test harness) and
// hands libfuse the open /dev/fuse as "/dev/fd/N", so that user_id= can name
// the user a real fusermount3 mount would name.
#define FUSE_USE_VERSION 31
#include <fuse3/fuse_lowlevel.h>
#include <linux/fuse.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <thread>

namespace {

struct Settings {
    unsigned mount_uid = 0;
    unsigned mount_gid = 0;
    uid_t owner_uid = 0;
    gid_t owner_gid = 0;
    mode_t mode = 0755;
    bool answer = false;
    bool allow_other = true;
    int delay_ms = 0;
    std::set<std::string> answer_to;
    std::string log_file;
    std::string ready_file;
    std::string mountpoint;
};

Settings g_settings;
bool g_initialized = false;
constexpr fuse_ino_t sub_ino = 2;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "polyns-hung-fuse: %s\n", what.c_str());
    std::exit(1);
}

void mark_ready() {
    int fd = ::open(g_settings.ready_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die("cannot create " + g_settings.ready_file + ": " + std::strerror(errno));
    ::close(fd);
}

void slow_down() {
    if (g_settings.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(g_settings.delay_ms));
}

struct stat attributes_of(fuse_ino_t ino) {
    struct stat st {};
    st.st_ino = ino;
    st.st_mode = S_IFDIR | g_settings.mode;
    st.st_nlink = ino == FUSE_ROOT_ID ? 3 : 2;
    st.st_uid = g_settings.owner_uid;
    st.st_gid = g_settings.owner_gid;
    return st;
}

void on_init(void*, struct fuse_conn_info* conn) {
    // Requests must arrive in memory for main() to read their header.
    conn->want &= ~static_cast<unsigned>(FUSE_CAP_SPLICE_READ);
    g_initialized = true;
    mark_ready();
}

void on_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info*) {
    slow_down();
    if (ino != FUSE_ROOT_ID && ino != sub_ino) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct stat st = attributes_of(ino);
    fuse_reply_attr(req, &st, 0.0);  // never cached: every stat asks the daemon
}

void on_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    slow_down();
    if (parent != FUSE_ROOT_ID || std::strcmp(name, "sub") != 0) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct fuse_entry_param entry {};
    entry.ino = sub_ino;
    entry.attr = attributes_of(sub_ino);
    fuse_reply_entry(req, &entry);
}

void on_opendir(fuse_req_t req, fuse_ino_t, struct fuse_file_info* fi) {
    slow_down();
    fuse_reply_open(req, fi);
}

void on_readdir(fuse_req_t req, fuse_ino_t, size_t, off_t, struct fuse_file_info*) {
    slow_down();
    fuse_reply_buf(req, nullptr, 0);
}

void on_releasedir(fuse_req_t req, fuse_ino_t, struct fuse_file_info*) { fuse_reply_err(req, 0); }

void on_statfs(fuse_req_t req, fuse_ino_t) {
    slow_down();
    struct statvfs sv {};
    sv.f_bsize = 4096;
    sv.f_namemax = 255;
    fuse_reply_statfs(req, &sv);
}

std::string comm_of(std::uint32_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string comm;
    std::getline(in, comm);
    return comm.empty() ? "?" : comm;
}

// Requests the kernel expects no answer to, or that set the connection up.
bool always_processed(std::uint32_t opcode) {
    return opcode == FUSE_INIT || opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET ||
           opcode == FUSE_INTERRUPT || opcode == FUSE_DESTROY;
}

void log_request(std::uint32_t opcode, std::uint32_t pid, const std::string& comm, bool answered) {
    if (g_settings.log_file.empty()) return;
    std::ofstream out(g_settings.log_file, std::ios::app);
    out << opcode << ' ' << pid << ' ' << comm << ' ' << (answered ? "answered" : "ignored") << '\n';
}

unsigned parse_number(const char* text, int base, const char* what) {
    char* end = nullptr;
    errno = 0;
    unsigned long value = std::strtoul(text, &end, base);
    if (errno != 0 || end == text || *end != '\0') die(std::string("bad ") + what + ": " + text);
    return static_cast<unsigned>(value);
}

void parse_args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) die(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--mount-uid") {
            g_settings.mount_uid = parse_number(value(), 10, "uid");
        } else if (arg == "--mount-gid") {
            g_settings.mount_gid = parse_number(value(), 10, "gid");
        } else if (arg == "--owner") {
            std::string owner = value();
            auto colon = owner.find(':');
            if (colon == std::string::npos) die("--owner wants UID:GID");
            g_settings.owner_uid = parse_number(owner.substr(0, colon).c_str(), 10, "uid");
            g_settings.owner_gid = parse_number(owner.substr(colon + 1).c_str(), 10, "gid");
        } else if (arg == "--mode") {
            g_settings.mode = parse_number(value(), 8, "mode") & 07777;
        } else if (arg == "--answer") {
            g_settings.answer = true;
        } else if (arg == "--no-allow-other") {
            g_settings.allow_other = false;
        } else if (arg == "--answer-to") {
            g_settings.answer_to.insert(value());
        } else if (arg == "--log") {
            g_settings.log_file = value();
        } else if (arg == "--delay-ms") {
            g_settings.delay_ms = static_cast<int>(parse_number(value(), 10, "delay"));
        } else if (arg == "--ready") {
            g_settings.ready_file = value();
        } else if (!arg.empty() && arg[0] != '-' && g_settings.mountpoint.empty()) {
            g_settings.mountpoint = arg;
        } else {
            die("unknown argument " + arg);
        }
    }
    if (g_settings.mountpoint.empty() || g_settings.ready_file.empty())
        die("usage: polyns-hung-fuse [options] --ready FILE MOUNTPOINT");
}

}  // namespace

int main(int argc, char** argv) {
    parse_args(argc, argv);
    int dev_fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (dev_fd < 0) die(std::string("cannot open /dev/fuse: ") + std::strerror(errno));

    struct fuse_lowlevel_ops ops {};
    ops.init = on_init;
    ops.getattr = on_getattr;
    ops.lookup = on_lookup;
    ops.opendir = on_opendir;
    ops.readdir = on_readdir;
    ops.releasedir = on_releasedir;
    ops.statfs = on_statfs;
    char program[] = "polyns-hung-fuse";
    char* fuse_argv[] = {program, nullptr};
    struct fuse_args args = FUSE_ARGS_INIT(1, fuse_argv);
    struct fuse_session* session = fuse_session_new(&args, &ops, sizeof ops, nullptr);
    if (session == nullptr) die("fuse_session_new failed");

    char rootmode[32];  // octal, as the kernel reads it
    std::snprintf(rootmode, sizeof rootmode, "%o", static_cast<unsigned>(S_IFDIR | g_settings.mode));
    std::string options = "fd=" + std::to_string(dev_fd) + ",rootmode=" + rootmode +
              ",user_id=" + std::to_string(g_settings.mount_uid) +
              ",group_id=" + std::to_string(g_settings.mount_gid) + (g_settings.allow_other ? ",allow_other" : "");
    if (::mount("polyns-hung", g_settings.mountpoint.c_str(), "fuse.polyns-hung", MS_NOSUID | MS_NODEV,
                options.c_str()) != 0)
        die("mount on " + g_settings.mountpoint + ": " + std::strerror(errno));
    std::string fd_name = "/dev/fd/" + std::to_string(dev_fd);
    if (fuse_session_mount(session, fd_name.c_str()) != 0) die("fuse_session_mount failed");

    // A request that is never processed is never answered: its sender waits
    // (killably) until the daemon dies.
    struct fuse_buf buf {};
    for (;;) {
        int got = fuse_session_receive_buf(session, &buf);
        if (got == -EINTR || got == -EAGAIN) continue;
        if (got <= 0) return got == 0 ? 0 : 1;  // unmounted, or the connection was aborted
        if ((buf.flags & FUSE_BUF_IS_FD) != 0 || buf.size < sizeof(struct fuse_in_header)) {
            fuse_session_process_buf(session, &buf);
            continue;
        }
        const auto* in = static_cast<const struct fuse_in_header*>(buf.mem);
        std::string comm = comm_of(in->pid);
        bool answer = always_processed(in->opcode) || (g_initialized && g_settings.answer) ||
                      g_settings.answer_to.count(comm) != 0;
        if (in->opcode != FUSE_FORGET && in->opcode != FUSE_BATCH_FORGET)
            log_request(in->opcode, in->pid, comm, answer);
        if (answer) fuse_session_process_buf(session, &buf);
    }
}
