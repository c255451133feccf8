// The sys pieces the engine builds on, where they are not already covered by
// the engine tests: libmount option parsing, NSS lookups, path resolution.
#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>

#include <csignal>
#include <cstdlib>

#include <catch2/catch.hpp>

#include "isolation.hpp"
#include "polyns/sys/mountinfo.hpp"
#include "polyns/sys/path.hpp"
#include "polyns/sys/users.hpp"

using namespace polyns;
using namespace polyns::test;

TEST_CASE("mount option strings split into flags and fs data", "[sys][options]") {
    auto o = sys::parse_mount_options("nosuid,nodev,size=10M");
    REQUIRE(o.ok());
    CHECK(o->flags == (MS_NOSUID | MS_NODEV));
    CHECK(o->fs_data == "size=10M");
    auto t = sys::parse_mount_options("noexec,mode=1777,nr_inodes=1k");
    REQUIRE(t.ok());
    CHECK(t->flags == MS_NOEXEC);
    CHECK(t->fs_data == "mode=1777,nr_inodes=1k");
    auto e = sys::parse_mount_options("");
    REQUIRE(e.ok());
    CHECK(e->flags == 0);
    CHECK(e->fs_data.empty());
}

TEST_CASE("root's identity comes from NSS", "[sys][users]") {
    auto id = sys::lookup_identity("root");
    REQUIRE(id.ok());
    CHECK(id->uid == 0);
    CHECK(id->gid == 0);
    CHECK(std::find(id->group_names.begin(), id->group_names.end(), "root") != id->group_names.end());
    auto missing = sys::lookup_identity("no-such-user-polyns");
    REQUIRE(!missing.ok());
    CHECK(missing.error().err == ENOENT);
    sys::NssNameResolver names;
    CHECK(names.uid_of("root") == std::optional<uid_t>(0));
    CHECK(names.gid_of("root") == std::optional<gid_t>(0));
    CHECK(names.uid_of("4242") == std::optional<uid_t>(4242));
    CHECK(!names.uid_of("no-such-user-polyns").has_value());
}

TEST_CASE("paths are resolved without symlinks, dots or blocking", "[sys][path]") {
    auto resolver = GENERATE(sys::PathResolver::Openat2, sys::PathResolver::ComponentWalk);
    run_isolated([&](ChildChecks& checks) {
        sys::set_path_resolver(resolver);
        make_dir(scratch + "/a/b", 0755);
        write_file(scratch + "/a/b/file", "x");
        CHILD_REQUIRE(checks, ::symlink((scratch + "/a").c_str(), (scratch + "/link").c_str()) == 0);
        CHILD_REQUIRE(checks, ::symlink("file", (scratch + "/a/b/flink").c_str()) == 0);
        CHILD_REQUIRE(checks, ::mkfifo((scratch + "/a/fifo").c_str(), 0600) == 0);
        CHILD_CHECK(checks, sys::open_path(scratch + "/a/b", O_PATH | O_DIRECTORY, "t").ok());
        CHILD_CHECK(checks, sys::open_path(scratch + "/a/b/file", O_RDONLY, "t").ok());
        auto via_link = sys::open_path(scratch + "/link/b", O_PATH | O_DIRECTORY, "t");
        CHILD_CHECK_INFO(checks, !via_link.ok() && via_link.error().err == ELOOP,
                         via_link ? "opened" : via_link.error().message());
        auto last_link = sys::open_path(scratch + "/a/b/flink", O_PATH, "t");
        CHILD_CHECK_INFO(checks, !last_link.ok() && last_link.error().err == ELOOP,
                         last_link ? "opened" : last_link.error().message());
        auto dotdot = sys::open_path(scratch + "/a/../a/b", O_PATH | O_DIRECTORY, "t");
        CHILD_CHECK(checks, !dotdot.ok() && dotdot.error().err == EINVAL);
        auto relative = sys::open_path("a/b", O_PATH | O_DIRECTORY, "t");
        CHILD_CHECK(checks, !relative.ok() && relative.error().err == EINVAL);
        // A FIFO opened for reading would block without a writer: it does not.
        auto fifo = sys::open_path(scratch + "/a/fifo", O_RDONLY, "t");
        CHILD_CHECK(checks, fifo.ok());
        auto fifo_dir = sys::open_path(scratch + "/a/fifo", O_RDONLY | O_DIRECTORY, "t");
        CHILD_CHECK(checks, !fifo_dir.ok() && fifo_dir.error().err == ENOTDIR);
    });
}

namespace {

// tests/system/hung_fuse.cpp mounted on `dir`; killed (its connection
// aborted, so nothing stays waiting) and unmounted when this goes away.
class FuseDaemon {
public:
    FuseDaemon(const std::string& dir, const std::vector<std::string>& options) : dir_(dir) {
        const char* program = std::getenv("POLYNS_HUNG_FUSE");
        if (program == nullptr) return;
        std::string ready = dir + ".ready";
        std::vector<std::string> args{program, "--ready", ready};
        args.insert(args.end(), options.begin(), options.end());
        args.push_back(dir);
        pid_ = ::fork();
        if (pid_ == 0) {
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(program, argv.data());
            ::_exit(127);
        }
        for (int i = 0; i < 500 && pid_ > 0; ++i) {
            if (exists(ready)) {
                started_ = true;
                break;
            }
            ::usleep(10000);
        }
    }
    ~FuseDaemon() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        ::umount2(dir_.c_str(), MNT_DETACH);
    }
    FuseDaemon(const FuseDaemon&) = delete;
    FuseDaemon& operator=(const FuseDaemon&) = delete;
    bool started() const { return started_; }

private:
    std::string dir_;
    pid_t pid_ = -1;
    bool started_ = false;
};

// statmount(2) answers ENOSYS in this process from now on, as on a kernel
// older than 6.8: the mount is then identified through the mount table.
bool hide_statmount() {
#if defined(__x86_64__)
    constexpr unsigned native_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    constexpr unsigned native_arch = AUDIT_ARCH_AARCH64;
#else
    return false;
#endif
    constexpr unsigned statmount_nr = 457;
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native_arch, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, statmount_nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program {};
    program.len = sizeof filter / sizeof filter[0];
    program.filter = filter;
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) == 0 &&
           ::syscall(statmount_nr, nullptr, nullptr, 0, 0) == -1 && errno == ENOSYS;
}

}  // namespace

TEST_CASE("paths never enter a user's FUSE mount, and never hang on one", "[sys][path][fuse]") {
    if (std::getenv("POLYNS_HUNG_FUSE") == nullptr || ::access("/dev/fuse", R_OK | W_OK) != 0) {
        WARN("no polyns-hung-fuse or /dev/fuse: skipped");
        return;
    }
    auto resolver = GENERATE(sys::PathResolver::Openat2, sys::PathResolver::ComponentWalk);
    bool without_statmount = GENERATE(false, true);
    run_isolated([&](ChildChecks& checks) {
        sys::set_path_resolver(resolver);
        if (without_statmount) CHILD_REQUIRE(checks, hide_statmount());
        ::alarm(60);  // a hang kills the child: reported as a failure, not a stuck suite
        make_dir(scratch + "/alice/hung", 0755, 1001, 1001);
        make_dir(scratch + "/alice/answering", 0755, 1001, 1001);
        make_dir(scratch + "/root", 0755);
        {
            // alice's: one that never answers, one that answers (with anything she likes).
            FuseDaemon hung(scratch + "/alice/hung", {"--mount-uid", "1001", "--mount-gid", "1001"});
            FuseDaemon answering(scratch + "/alice/answering",
                                 {"--mount-uid", "1001", "--mount-gid", "1001", "--answer", "--owner", "0:0"});
            CHILD_REQUIRE(checks, hung.started() && answering.started());
            for (const std::string& dir : {scratch + "/alice/hung", scratch + "/alice/answering"}) {
                for (int flags : {O_PATH | O_DIRECTORY, O_RDONLY | O_DIRECTORY, O_PATH}) {
                    auto at = sys::open_path(dir, flags, "t");
                    CHILD_CHECK_INFO(checks, !at.ok() && at.error().err == EXDEV,
                                     at ? dir + " opened" : at.error().message());
                    if (!at) CHILD_CHECK_INFO(checks, at.error().message().find("FUSE") != std::string::npos,
                                              at.error().message());
                }
                auto below = sys::open_path(dir + "/sub", O_PATH | O_DIRECTORY, "t");
                CHILD_CHECK_INFO(checks, !below.ok() && below.error().err == EXDEV,
                                 below ? "sub opened" : below.error().message());
                auto parent = sys::open_path(scratch + "/alice", O_PATH | O_DIRECTORY, "t");
                CHILD_REQUIRE(checks, parent.ok());
                std::string name = dir.substr(dir.rfind('/') + 1);
                auto by_fd = sys::open_below(parent->get(), name, O_RDONLY | O_DIRECTORY, "t", dir);
                CHILD_CHECK_INFO(checks, !by_fd.ok() && by_fd.error().err == EXDEV,
                                 by_fd ? "opened below" : by_fd.error().message());
            }
            // fusermount3's default, without allow_other: root may not even
            // stat it (EACCES, no request), and is told why.
            make_dir(scratch + "/alice/private", 0755, 1001, 1001);
            FuseDaemon private_mount(scratch + "/alice/private", {"--mount-uid", "1001", "--no-allow-other"});
            CHILD_REQUIRE(checks, private_mount.started());
            auto denied = sys::open_path(scratch + "/alice/private", O_RDONLY | O_DIRECTORY, "t");
            CHILD_CHECK_INFO(checks, !denied.ok() && denied.error().err == EACCES &&
                                         denied.error().message().find("allow_other") != std::string::npos,
                             denied ? "opened" : denied.error().message());
            // The directory next to them is still reached.
            CHILD_CHECK(checks, sys::open_path(scratch + "/alice", O_RDONLY | O_DIRECTORY, "t").ok());
        }
        {
            // root's (user_id=0): entered as any other filesystem.
            FuseDaemon rooted(scratch + "/root", {"--answer", "--owner", "0:0", "--mode", "0755"});
            CHILD_REQUIRE(checks, rooted.started());
            auto sub = sys::open_path(scratch + "/root/sub", O_RDONLY | O_DIRECTORY, "t");
            CHILD_CHECK_INFO(checks, sub.ok(), sub ? "" : sub.error().message());
            auto top = sys::open_path(scratch + "/root", O_RDONLY | O_DIRECTORY, "t");
            CHILD_CHECK_INFO(checks, top.ok(), top ? "" : top.error().message());
            struct stat st {};
            CHILD_CHECK(checks, top && ::fstat(top->get(), &st) == 0 && st.st_uid == 0 && S_ISDIR(st.st_mode));
        }
        ::alarm(0);
    });
}

namespace {

int open_fd_count() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d) != nullptr) ++n;
        ::closedir(d);
    }
    return n;
}

ino_t inode_of(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

}  // namespace

TEST_CASE("a session's crossed mounts are reused, with the same rules below them", "[sys][path][scope]") {
    auto resolver = GENERATE(sys::PathResolver::Openat2, sys::PathResolver::ComponentWalk);
    run_isolated([&](ChildChecks& checks) {
        sys::set_path_resolver(resolver);
        make_dir(scratch + "/m", 0755);
        CHILD_REQUIRE(checks, ::mount("polyns-test", (scratch + "/m").c_str(), "tmpfs", 0, "mode=0755") == 0);
        make_dir(scratch + "/m/a/b", 0755);
        make_dir(scratch + "/m/n", 0755);
        CHILD_REQUIRE(checks, ::mount("polyns-test", (scratch + "/m/n").c_str(), "tmpfs", 0, "mode=0700") == 0);
        make_dir(scratch + "/m/n/c", 0755);
        CHILD_REQUIRE(checks, ::symlink((scratch + "/m/a").c_str(), (scratch + "/m/link").c_str()) == 0);
        const int fds_before = open_fd_count();
        {
            sys::CrossedMountScope scope;
            // Crosses scratch's and m's mounts; both are kept.
            auto m = sys::open_path(scratch + "/m", O_PATH | O_DIRECTORY, "t");
            CHILD_REQUIRE(checks, m.ok());
            // Below a kept mount point: started there, the same directory as without the scope.
            auto b = sys::open_path(scratch + "/m/a/b", O_RDONLY | O_DIRECTORY, "t");
            CHILD_REQUIRE(checks, b.ok());
            struct stat direct {};
            CHILD_CHECK(checks, ::stat((scratch + "/m/a/b").c_str(), &direct) == 0 && inode_of(b->get()) == direct.st_ino);
            // The rules hold below it: symlinks, dots, a further mount crossed and judged.
            auto link = sys::open_path(scratch + "/m/link/b", O_PATH | O_DIRECTORY, "t");
            CHILD_CHECK_INFO(checks, !link.ok() && link.error().err == ELOOP, link ? "opened" : link.error().message());
            auto dots = sys::open_path(scratch + "/m/a/../a", O_PATH | O_DIRECTORY, "t");
            CHILD_CHECK(checks, !dots.ok() && dots.error().err == EINVAL);
            auto c = sys::open_path(scratch + "/m/n/c", O_PATH | O_DIRECTORY, "t");
            CHILD_CHECK_INFO(checks, c.ok(), c ? "" : c.error().message());
            struct stat c_direct {};
            CHILD_CHECK(checks, c && ::stat((scratch + "/m/n/c").c_str(), &c_direct) == 0 &&
                                    inode_of(c->get()) == c_direct.st_ino);
            // A mount point itself, opened again, and a name that is not there.
            CHILD_CHECK(checks, sys::open_path(scratch + "/m", O_RDONLY | O_DIRECTORY, "t").ok());
            auto missing = sys::open_path(scratch + "/m/nothing", O_PATH | O_DIRECTORY, "t");
            CHILD_CHECK(checks, !missing.ok() && missing.error().err == ENOENT);
            // A scope inside a scope changes nothing.
            sys::CrossedMountScope inner;
            CHILD_CHECK(checks, sys::open_path(scratch + "/m/a", O_PATH | O_DIRECTORY, "t").ok());
            // Paths start from the kept fd: the mount as first crossed, even
            // once it is gone from the tree (the session's pinning sees one view).
            CHILD_REQUIRE(checks, ::umount2((scratch + "/m").c_str(), MNT_DETACH) == 0);
            CHILD_CHECK(checks, sys::open_path(scratch + "/m/a/b", O_PATH | O_DIRECTORY, "t").ok());
        }
        // Without a scope the walk starts from "/" again, and the fds are gone.
        auto gone = sys::open_path(scratch + "/m/a/b", O_PATH | O_DIRECTORY, "t");
        CHILD_CHECK(checks, !gone.ok() && gone.error().err == ENOENT);
        CHILD_CHECK(checks, open_fd_count() == fds_before);
    });
}

// Issue 13, item 3: OSTree's /home -> var/home. Configured paths follow a
// symlink only where no user could have planted or swapped it.
TEST_CASE("configured paths follow only root-owned symlinks in root-only directories", "[sys][path][links]") {
    auto resolver = GENERATE(sys::PathResolver::Openat2, sys::PathResolver::ComponentWalk);
    run_isolated([&](ChildChecks& checks) {
        sys::set_path_resolver(resolver);
        const auto follow = sys::Links::FollowRootOnly;
        make_dir(scratch + "/os/var/home/alice/tmp", 0755);
        make_dir(scratch + "/os/run", 0755);
        make_dir(scratch + "/os/var/tmp", 01777);
        CHILD_REQUIRE(checks, ::chown((scratch + "/os/var/home/alice").c_str(), 1001, 1001) == 0);
        CHILD_REQUIRE(checks, ::symlink("var/home", (scratch + "/os/home").c_str()) == 0);
        CHILD_REQUIRE(checks, ::symlink("../run", (scratch + "/os/var/run").c_str()) == 0);
        struct stat real {};
        CHILD_REQUIRE(checks, ::stat((scratch + "/os/var/home/alice/tmp").c_str(), &real) == 0);
        // Followed: root's links in root-only directories, relative and with "..".
        auto home = sys::open_path(scratch + "/os/home/alice/tmp", O_PATH | O_DIRECTORY, "t", follow);
        CHILD_CHECK_INFO(checks, home.ok() && inode_of(home->get()) == real.st_ino, home ? "" : home.error().message());
        auto run = sys::open_path(scratch + "/os/var/run", O_PATH | O_DIRECTORY, "t", follow);
        CHILD_CHECK_INFO(checks, run.ok(), run ? "" : run.error().message());
        // Never without the option.
        auto strict = sys::open_path(scratch + "/os/home/alice/tmp", O_PATH | O_DIRECTORY, "t");
        CHILD_CHECK(checks, !strict.ok() && strict.error().err == ELOOP);
        // A link below alice's directory (even a root-owned one): refused.
        CHILD_REQUIRE(checks, ::symlink("/etc", (scratch + "/os/var/home/alice/etc").c_str()) == 0);
        auto below_user = sys::open_path(scratch + "/os/home/alice/etc", O_PATH | O_DIRECTORY, "t", follow);
        CHILD_CHECK_INFO(checks, !below_user.ok() && below_user.error().err == ELOOP,
                         below_user ? "opened" : below_user.error().message());
        // A root-owned link in a world-writable directory: refused.
        CHILD_REQUIRE(checks, ::symlink("/etc", (scratch + "/os/var/tmp/etc").c_str()) == 0);
        auto in_sticky = sys::open_path(scratch + "/os/var/tmp/etc", O_PATH | O_DIRECTORY, "t", follow);
        CHILD_CHECK(checks, !in_sticky.ok() && in_sticky.error().err == ELOOP);
        // A user-owned link in a root-only directory: refused.
        CHILD_REQUIRE(checks, ::symlink("var/home", (scratch + "/os/home2").c_str()) == 0);
        CHILD_REQUIRE(checks, ::lchown((scratch + "/os/home2").c_str(), 1001, 1001) == 0);
        auto user_link = sys::open_path(scratch + "/os/home2/alice/tmp", O_PATH | O_DIRECTORY, "t", follow);
        CHILD_CHECK_INFO(checks, !user_link.ok() && user_link.error().err == ELOOP &&
                                     user_link.error().message().find("owned by uid 1001") != std::string::npos,
                         user_link ? "opened" : user_link.error().message());
        // A loop ends.
        CHILD_REQUIRE(checks, ::symlink("loop", (scratch + "/os/loop").c_str()) == 0);
        auto loop = sys::open_path(scratch + "/os/loop", O_PATH | O_DIRECTORY, "t", follow);
        CHILD_CHECK(checks, !loop.ok() && loop.error().err == ELOOP);
    });
}
