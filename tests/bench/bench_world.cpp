#include "bench_world.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace polyns::bench {
namespace {

constexpr const char* bench_root = "/run/polyns-test/bench";

[[noreturn]] void die(const std::string& what, int err = 0) {
    std::fprintf(stderr, "polyns-bench: %s%s%s\n", what.c_str(), err ? ": " : "", err ? std::strerror(err) : "");
    std::exit(2);
}

std::string mount_namespace() {
    char target[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/ns/mnt", target, sizeof target - 1);
    if (n < 0) die("readlink /proc/self/ns/mnt", errno);
    return std::string(target, static_cast<size_t>(n));
}

// mkdir -p, each new component root-owned with `mode` (umask ignored).
void make_dirs(const std::string& path, mode_t mode) {
    std::string partial;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        partial = path.substr(0, pos);
        if (::mkdir(partial.c_str(), mode) == 0) {
            if (::chmod(partial.c_str(), mode) != 0) die("chmod " + partial, errno);
        } else if (errno != EEXIST) {
            die("mkdir " + partial, errno);
        }
    }
}

// Exactly this mode and root ownership, whatever was there before.
void make_dir_exact(const std::string& path, mode_t mode) {
    make_dirs(path, 0755);
    if (::chown(path.c_str(), 0, 0) != 0) die("chown " + path, errno);
    if (::chmod(path.c_str(), mode) != 0) die("chmod " + path, errno);
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
    // O_TRUNC in place: /etc/security and /etc/pam.d are bind mounts of the
    // harness's copies; a rename over a file is fine, but writing in place is simplest.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) die("open " + path, errno);
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) die("write " + path, errno);
        done += static_cast<std::size_t>(n);
    }
    if (::fchown(fd, 0, 0) != 0 || ::fchmod(fd, mode) != 0) die("fchown/fchmod " + path, errno);
    ::close(fd);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::string two_digits(int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d", i);
    return buf;
}

std::string polydir_of(int i) {
    if (i == 0) return "/tmp";
    if (i == 1) return "/var/tmp";
    return std::string(bench_root) + "/pd/" + two_digits(i);
}

// polyns: the seed's templates (root, 0755) with %{UID} instances.
std::string polyns_template_of(int i) {
    if (i == 0) return "/tmp/user_tmpl";
    if (i == 1) return "/var/tmp/user_tmpl";
    return std::string(bench_root) + "/tmpl/" + two_digits(i);
}

// Linux-PAM: its own defaults, i.e. instance parents root-owned mode 000,
// and the prefix form (it does not know %{UID}): PREFIX + user name.
std::string linux_pam_template_of(int i) {
    if (i == 0) return "/tmp/lp_tmpl";
    if (i == 1) return "/var/tmp/lp_tmpl";
    return std::string(bench_root) + "/lptmpl/" + two_digits(i);
}

// The module floor's no-op module, built next to polyns-bench.
std::string noop_module_path() {
    char exe[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) die("readlink /proc/self/exe", errno);
    std::string dir(exe, static_cast<std::size_t>(n));
    dir.erase(dir.rfind('/'));
    std::string path = dir + "/pam_bench_noop.so";
    if (::access(path.c_str(), R_OK) != 0) die(path + " (build it: ninja tests/bench/pam_bench_noop.so)", errno);
    return path;
}

}  // namespace

void require_harness_namespace() {
    const char* expected = std::getenv("POLYNS_HARNESS_NS");
    if (expected == nullptr || mount_namespace() != expected || ::access("/run/polyns-test/.ready", F_OK) != 0) {
        die("refusing to run outside the harness's throwaway namespace "
            "(use tests/bench/run_bench.sh, which enters it)");
    }
    if (::geteuid() != 0) die("needs root (inside the throwaway namespace)");
}

std::vector<BenchUser> bench_users(int count) {
    std::vector<BenchUser> users;
    for (int i = 0; i < count; ++i) {
        std::string name = "bench" + two_digits(i);
        struct passwd pw {};
        struct passwd* found = nullptr;
        char buf[4096];
        if (::getpwnam_r(name.c_str(), &pw, buf, sizeof buf, &found) != 0 || found == nullptr)
            die("user " + name + " not found (the wrapper adds them with add_user)");
        users.push_back({name, pw.pw_uid, pw.pw_gid});
    }
    return users;
}

int mount_table_size() {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    int n = 0;
    while (std::getline(in, line)) ++n;
    return n;
}

World::World(std::string module_path) : module_path_(std::move(module_path)) {
    saved_init_script_ = read_file(init_script_path);
    init_script_present_ = !saved_init_script_.empty();
    make_dir_exact(bench_root, 0755);
}

void World::configure(int polydirs) {
    polydirs_ = polydirs;
    std::string polyns_conf = "# polyns-bench: the seed's config, one line per polydir\n";
    std::string linux_pam_conf = "# polyns-bench: the same polydirs for Linux-PAM pam_namespace.so\n";
    for (int i = 0; i < polydirs; ++i) {
        std::string polydir = polydir_of(i);
        if (i >= 2) make_dir_exact(polydir, 01777);
        make_dir_exact(polyns_template_of(i), 0755);
        make_dir_exact(linux_pam_template_of(i), 0000);
        polyns_conf += polydir + " " + polyns_template_of(i) + "/%{UID} user\n";
        linux_pam_conf += polydir + " " + linux_pam_template_of(i) + "/ user\n";
    }
    write_file(polyns_config_path, polyns_conf, 0644);
    write_file(linux_pam_config_path, linux_pam_conf, 0644);

    write_file(std::string("/etc/pam.d/") + service_pam_floor, "session required pam_permit.so\n", 0644);
    write_file(std::string("/etc/pam.d/") + service_module_floor,
               "session required pam_permit.so\nsession required " + noop_module_path() + "\n", 0644);
    write_file(std::string("/etc/pam.d/") + service_linux_pam, "session required pam_namespace.so\n", 0644);
    write_file(std::string("/etc/pam.d/") + service_polyns,
               "session required " + module_path_ + " conf=" + polyns_config_path + "\n", 0644);
    write_file(std::string("/etc/pam.d/") + service_polyns_persist,
               "session required " + module_path_ + " conf=" + polyns_config_path + " persist\n", 0644);
    write_file(std::string("/etc/pam.d/") + service_polyns_loop,
               "session required " + module_path_ + " conf=" + polyns_config_path + " unmount_on_close\n",
               0644);
}

void World::set_init_script(bool present) {
    if (present) {
        if (saved_init_script_.empty()) die("no namespace.init to restore (the host has none)");
        write_file(init_script_path, saved_init_script_, 0755);
    } else if (::unlink(init_script_path) != 0 && errno != ENOENT) {
        die(std::string("unlink ") + init_script_path, errno);
    }
    init_script_present_ = present;
}

int World::grow_mount_table(int count) {
    int size = mount_table_size();
    if (size >= count) return size;
    std::string dir = std::string(bench_root) + "/mnt";
    make_dir_exact(dir, 0755);
    for (; size < count; ++size, ++extra_mounts_) {
        std::string target = dir + "/" + std::to_string(extra_mounts_);
        if (::mkdir(target.c_str(), 0755) != 0 && errno != EEXIST) die("mkdir " + target, errno);
        if (::mount("bench", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k") != 0)
            die("mount tmpfs on " + target, errno);
    }
    return mount_table_size();
}

std::vector<KernelStep> World::kernel_steps(const BenchUser& user) const {
    std::vector<KernelStep> steps;
    for (int i = 0; i < polydirs_; ++i)
        steps.push_back({polydir_of(i), polyns_template_of(i), std::to_string(user.uid), user.uid, user.gid});
    return steps;
}

}  // namespace polyns::bench
