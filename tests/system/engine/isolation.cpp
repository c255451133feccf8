#include "isolation.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>

#include "polyns/sys/mountinfo.hpp"

namespace polyns::test {

bool ChildChecks::check(bool ok, const char* expr, const char* file, int line, const std::string& info) {
    if (!ok) {
        std::string f = std::string(file) + ":" + std::to_string(line) + ": CHILD_CHECK(" + expr + ") failed";
        if (!info.empty()) f += "\n    " + info;
        failures_.push_back(std::move(f));
    }
    return ok;
}

std::string CollectingLog::all() const {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

namespace {

void enter_scratch_namespace() {
    if (::unshare(CLONE_NEWNS) != 0) throw std::runtime_error(std::string("unshare: ") + std::strerror(errno));
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        throw std::runtime_error(std::string("make / rprivate: ") + std::strerror(errno));
    if (::mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0)
        throw std::runtime_error(std::string("tmpfs on /run: ") + std::strerror(errno));
    if (::mkdir(scratch.c_str(), 0755) != 0)
        throw std::runtime_error(std::string("mkdir scratch: ") + std::strerror(errno));
    if (::mount("tmpfs", scratch.c_str(), "tmpfs", 0, "mode=0755") != 0)
        throw std::runtime_error(std::string("tmpfs on scratch: ") + std::strerror(errno));
    ::umask(022);
}

void write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

void run_isolated(const std::function<void(ChildChecks&)>& body) {
    const auto host_before = mount_table_lines();
    const ino_t host_ns = mount_ns_inode();
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        ChildChecks checks;
        try {
            enter_scratch_namespace();
            body(checks);
        } catch (const std::exception& e) {
            checks.check(false, "no exception", __FILE__, __LINE__, e.what());
        } catch (...) {
            checks.check(false, "no exception", __FILE__, __LINE__, "unknown exception");
        }
        std::string report;
        for (const auto& f : checks.failures()) report += f + '\x1e';
        write_all(fds[1], report);
        ::_exit(checks.failures().empty() ? 0 : 1);
    }
    ::close(fds[1]);
    std::string report;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        report.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::stringstream ss(report);
    std::string failure;
    while (std::getline(ss, failure, '\x1e'))
        if (!failure.empty()) FAIL_CHECK(failure);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    // The runner's side (its own private namespace, main.cpp) saw nothing of it.
    CHECK(mount_ns_inode() == host_ns);
    CHECK(mount_table_lines() == host_before);
}

void make_dir(const std::string& path, mode_t mode, uid_t uid, gid_t gid) {
    std::string partial;
    std::size_t pos = 1;
    while (pos <= path.size()) {
        std::size_t next = path.find('/', pos);
        if (next == std::string::npos) next = path.size();
        partial = path.substr(0, next);
        if (next < path.size()) ::mkdir(partial.c_str(), 0755);
        pos = next + 1;
    }
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
        throw std::runtime_error("mkdir " + path + ": " + std::strerror(errno));
    if (::chown(path.c_str(), uid, gid) != 0 || ::chmod(path.c_str(), mode) != 0)
        throw std::runtime_error("chown/chmod " + path + ": " + std::strerror(errno));
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
    write_all(fd, text);
    ::fchmod(fd, mode);
    ::close(fd);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

struct stat lstat_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) throw std::runtime_error("lstat " + path + ": " + std::strerror(errno));
    return st;
}

ino_t mount_ns_inode() {
    struct stat st {};
    ::stat("/proc/self/ns/mnt", &st);
    return st.st_ino;
}

std::vector<std::string> mount_table_lines() {
    std::vector<std::string> lines;
    auto table = sys::read_mount_table();
    if (!table) return {"cannot read mount table: " + table.error().message()};
    for (const auto& e : *table)
        lines.push_back(std::to_string(e.id) + " " + e.target + " " + e.root + " " + e.fstype + " " + e.source +
                        " " + e.vfs_options);
    return lines;
}

std::size_t mounts_at_count(const std::string& target) {
    auto here = sys::mounts_at(target);
    return here ? here->size() : 0;
}

Witness::Witness() {
    pid = ::fork();
    if (pid == 0) {
        for (;;) ::pause();
    }
}

Witness::~Witness() {
    if (pid > 0) {
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
}

Plan empty_plan(uid_t uid, gid_t gid, const std::string& user) {
    Plan plan;
    plan.identity.user = user;
    plan.identity.uid = uid;
    plan.identity.gid = gid;
    plan.identity.home = "/home/" + user;
    return plan;
}

MountStep bind_step(const std::string& polydir, const std::string& template_dir, const std::string& name,
                    uid_t uid, gid_t gid) {
    MountStep s;
    s.polydir = polydir;
    s.kind = MountKind::Bind;
    s.instance_kind = InstanceKind::Named;
    s.template_dir = template_dir;
    s.instance_name = name;
    s.instance = template_dir + "/" + name;
    s.instance_owner = {uid, gid, 0700};
    return s;
}

MountStep tmpfs_step(const std::string& polydir, unsigned long flags, const std::string& fs_options) {
    MountStep s;
    s.polydir = polydir;
    s.method = Method::Tmpfs;
    s.kind = MountKind::Tmpfs;
    s.instance_kind = InstanceKind::None;
    s.mount_flags = flags;
    s.fs_options = fs_options;
    return s;
}

void make_standard_layout() {
    make_dir(tmp_dir(), 01777);
    make_dir(tmp_template(), 0755);
    make_dir(vartmp_dir(), 01777);
    make_dir(vartmp_template(), 0755);
}

}  // namespace polyns::test
