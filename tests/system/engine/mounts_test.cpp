// Bind and tmpfs mounts, their flags (read back through libmount), both mount
// backends, the empty plan, mirror mode, create=, unmount_on_close.
#include <fcntl.h>
#include <sched.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>

#include <catch2/catch.hpp>

#include "isolation.hpp"
#include "polyns/engine.hpp"
#include "polyns/sys/mount.hpp"
#include "polyns/sys/mountinfo.hpp"
#include "polyns/sys/path.hpp"

using namespace polyns;
using namespace polyns::test;

namespace {

const sys::MountEntry* top_mount(const std::vector<sys::MountEntry>& at) { return at.empty() ? nullptr : &at.back(); }

}  // namespace

TEST_CASE("empty plan changes nothing, not even the namespace", "[engine][empty]") {
    run_isolated([](ChildChecks& checks) {
        auto before_ns = mount_ns_inode();
        auto before = mount_table_lines();
        CollectingLog log;
        auto state = apply_plan(empty_plan(), log);
        CHILD_REQUIRE(checks, state.ok());
        CHILD_CHECK(checks, !state->namespace_changed);
        CHILD_CHECK(checks, state->mounted.empty());
        CHILD_CHECK(checks, mount_ns_inode() == before_ns);
        CHILD_CHECK(checks, mount_table_lines() == before);
    });
}

TEST_CASE("bind mounts of named instances, with flags, on both backends", "[engine][bind]") {
    auto backend = GENERATE(sys::MountBackend::NewApi, sys::MountBackend::Legacy, sys::MountBackend::Auto);
    auto resolver = GENERATE(sys::PathResolver::Openat2, sys::PathResolver::ComponentWalk);
    INFO("backend " << sys::mount_backend_name(backend));
    run_isolated([&](ChildChecks& checks) {
        sys::set_mount_backend(backend);
        sys::set_path_resolver(resolver);
        make_standard_layout();
        CHILD_REQUIRE(checks, ::mount(nullptr, scratch.c_str(), nullptr, MS_SHARED, nullptr) == 0);
        Witness witness;
        auto before_ns = mount_ns_inode();
        Plan plan = empty_plan();
        plan.mount_private = resolver == sys::PathResolver::ComponentWalk;  // both propagation modes
        MountStep tmp = bind_step(tmp_dir(), tmp_template(), "1001");
        tmp.mount_flags = MS_NOSUID | MS_NODEV;
        MountStep vartmp = bind_step(vartmp_dir(), vartmp_template(), "1001");
        vartmp.mount_flags = MS_NOEXEC;
        plan.steps = {tmp, vartmp};
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        CHILD_CHECK(checks, state->namespace_changed);
        CHILD_CHECK(checks, mount_ns_inode() != before_ns);
        CHILD_REQUIRE(checks, state->mounted.size() == 2);
        CHILD_CHECK(checks, state->mounted[0].polydir == tmp_dir());
        CHILD_CHECK(checks, state->mounted[0].instance == tmp_template() + "/1001");
        CHILD_CHECK(checks, state->mounted[0].created);
        CHILD_CHECK(checks, !state->mounted[0].remove_on_close);

        // The polydir now is the instance: alice's, 0700.
        struct stat st = lstat_of(tmp_dir());
        CHILD_CHECK(checks, st.st_uid == 1001 && st.st_gid == 1001 && (st.st_mode & 07777) == 0700);
        write_file(tmp_dir() + "/alice-file", "hi");

        auto at_tmp = sys::mounts_at(tmp_dir());
        CHILD_REQUIRE(checks, at_tmp.ok() && at_tmp->size() == 1);
        const auto* t = top_mount(*at_tmp);
        CHILD_CHECK_INFO(checks, t->root == "/tmp/user_tmpl/1001", t->root);
        CHILD_CHECK_INFO(checks, (t->vfs_flags & MS_NOSUID) && (t->vfs_flags & MS_NODEV) && !(t->vfs_flags & MS_NOEXEC),
                         t->vfs_options);
        auto at_var = sys::mounts_at(vartmp_dir());
        CHILD_REQUIRE(checks, at_var.ok() && at_var->size() == 1);
        CHILD_CHECK_INFO(checks, (at_var->back().vfs_flags & MS_NOEXEC) && !(at_var->back().vfs_flags & MS_NOSUID),
                         at_var->back().vfs_options);

        // No propagation back (invariant 5): the scratch mount was made shared
        // before the session; a process left in the original namespace sees none
        // of the session's mounts.
        auto witness_table = sys::read_mount_table("/proc/" + std::to_string(witness.pid) + "/mountinfo");
        CHILD_REQUIRE(checks, witness_table.ok());
        for (const auto& e : *witness_table)
            CHILD_CHECK_INFO(checks, e.target != tmp_dir() && e.target != vartmp_dir(), "leaked: " + e.target);

        // Closing with unmount_on_close takes both mounts away again.
        SessionState closing = *state;
        closing.unmount_on_close = true;
        auto closed = close_session(closing, log);
        CHILD_CHECK_INFO(checks, closed.ok(), closed ? "" : closed.error().message());
        CHILD_CHECK(checks, mounts_at_count(tmp_dir()) == 0);
        CHILD_CHECK(checks, mounts_at_count(vartmp_dir()) == 0);
        // ... and alice's file is in her instance, under the template.
        CHILD_CHECK(checks, exists(tmp_template() + "/1001/alice-file"));
    });
}

TEST_CASE("an existing valid instance is reused, not recreated", "[engine][bind]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        make_dir(tmp_template() + "/1001", 0700, 1001, 1001);
        write_file(tmp_template() + "/1001/kept", "x");
        Plan plan = empty_plan();
        plan.steps = {bind_step(tmp_dir(), tmp_template(), "1001")};
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        CHILD_CHECK(checks, !state->mounted[0].created);
        CHILD_CHECK(checks, exists(tmp_dir() + "/kept"));
    });
}

TEST_CASE("tmpfs with flags and fs options, on both backends", "[engine][tmpfs]") {
    auto backend = GENERATE(sys::MountBackend::NewApi, sys::MountBackend::Legacy);
    INFO("backend " << sys::mount_backend_name(backend));
    run_isolated([&](ChildChecks& checks) {
        sys::set_mount_backend(backend);
        make_standard_layout();
        Plan plan = empty_plan();
        plan.steps = {tmpfs_step(tmp_dir(), MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1M,nr_inodes=1k,mode=1770")};
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        CHILD_CHECK(checks, state->mounted[0].instance == "tmpfs");
        CHILD_CHECK(checks, state->mounted[0].kind == MountKind::Tmpfs);
        auto at = sys::mounts_at(tmp_dir());
        CHILD_REQUIRE(checks, at.ok() && at->size() == 1);
        const auto& m = at->back();
        CHILD_CHECK_INFO(checks, m.fstype == "tmpfs" && m.source == "polyns", m.fstype + " " + m.source);
        CHILD_CHECK_INFO(checks, (m.vfs_flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC)) == (MS_NOSUID | MS_NODEV | MS_NOEXEC),
                         m.vfs_options);
        CHILD_CHECK_INFO(checks, m.fs_options.find("size=1024k") != std::string::npos, m.fs_options);
        CHILD_CHECK_INFO(checks, m.fs_options.find("nr_inodes=1024") != std::string::npos, m.fs_options);
        CHILD_CHECK_INFO(checks, m.fs_options.find("mode=1770") != std::string::npos, m.fs_options);
        // Per-mount flags written into the option string end up as flags too.
    });
}

TEST_CASE("tmpfs options may carry per-mount flags (split by libmount)", "[engine][tmpfs]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        Plan plan = empty_plan();
        plan.steps = {tmpfs_step(tmp_dir(), 0, "nosuid,size=2M")};
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        auto at = sys::mounts_at(tmp_dir());
        CHILD_REQUIRE(checks, at.ok() && at->size() == 1);
        CHILD_CHECK_INFO(checks, (at->back().vfs_flags & MS_NOSUID) != 0, at->back().vfs_options);
        CHILD_CHECK_INFO(checks, at->back().fs_options.find("size=2048k") != std::string::npos, at->back().fs_options);
    });
}

TEST_CASE("mirror mode gives the instance the polydir's owner, group and mode", "[engine][mirror]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        // Mirrored instances may be open to others (/tmp's 1777): their
        // templates must be mode 000, as Linux-PAM requires.
        ::chmod(tmp_template().c_str(), 0);
        make_dir(scratch + "/shared", 02750, 1001, 1002);
        make_dir(scratch + "/shared_tmpl", 0);
        Plan plan = empty_plan();
        MountStep tmp = bind_step(tmp_dir(), tmp_template(), "1001");
        tmp.mirror_polydir = true;
        MountStep shared = bind_step(scratch + "/shared", scratch + "/shared_tmpl", "alice");
        shared.mirror_polydir = true;
        plan.steps = {tmp, shared};
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        struct stat t = lstat_of(tmp_dir());
        CHILD_CHECK(checks, t.st_uid == 0 && t.st_gid == 0 && (t.st_mode & 07777) == 01777);
        struct stat s = lstat_of(scratch + "/shared");
        CHILD_CHECK(checks, s.st_uid == 1001 && s.st_gid == 1002 && (s.st_mode & 07777) == 02750);
    });
}

TEST_CASE("create= makes a missing polydir by fd, with mode and owner", "[engine][create]") {
    run_isolated([](ChildChecks& checks) {
        make_dir(scratch + "/home/alice", 0700, 1001, 1001);
        make_dir(scratch + "/home/alice.inst", 0755);
        make_dir(scratch + "/tmp_tmpl", 0000);
        Plan plan = empty_plan();
        MountStep home_tmp = bind_step(scratch + "/home/alice/tmp", scratch + "/home/alice.inst", "alice");
        home_tmp.create_polydir = PolydirCreate{0750, 1001, 1001};
        home_tmp.user_controlled_root = scratch + "/home/alice";
        MountStep other = bind_step(scratch + "/made/here", scratch + "/tmp_tmpl", "alice");
        other.create_polydir = PolydirCreate{std::nullopt, 0, 0};
        make_dir(scratch + "/made", 0755);
        plan.steps = {home_tmp, other};
        ::umask(027);
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        // In the session the polydir shows the instance; the created polydir
        // itself is visible beneath in the template's view: check via a second
        // look at the parent after unmounting.
        SessionState closing = *state;
        closing.unmount_on_close = true;
        CHILD_REQUIRE(checks, close_session(closing, log).ok());
        struct stat p = lstat_of(scratch + "/home/alice/tmp");
        CHILD_CHECK(checks, S_ISDIR(p.st_mode) && p.st_uid == 1001 && p.st_gid == 1001 && (p.st_mode & 07777) == 0750);
        struct stat q = lstat_of(scratch + "/made/here");
        // The default mode is a fixed 0755, never the caller's umask (issue 12).
        CHILD_CHECK_INFO(checks, (q.st_mode & 07777) == 0755, "default mode is 0755 whatever the umask (027)");
    });
}

TEST_CASE("create= refuses a symlink in a user-controlled polydir path", "[engine][create][refuse]") {
    run_isolated([](ChildChecks& checks) {
        make_dir(scratch + "/home/alice", 0700, 1001, 1001);
        make_dir(scratch + "/elsewhere", 0755);
        make_dir(scratch + "/home/alice.inst", 0755);
        // alice points her "tmp" parent somewhere else
        CHILD_REQUIRE(checks, ::symlink((scratch + "/elsewhere").c_str(), (scratch + "/home/alice/link").c_str()) == 0);
        Plan plan = empty_plan();
        MountStep s = bind_step(scratch + "/home/alice/link/tmp", scratch + "/home/alice.inst", "alice");
        s.create_polydir = PolydirCreate{0700, 1001, 1001};
        plan.steps = {s};
        auto before_ns = mount_ns_inode();
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE(checks, !state.ok());
        CHILD_CHECK_INFO(checks, state.error().err == ELOOP, state.error().message());
        CHILD_CHECK(checks, !exists(scratch + "/elsewhere/tmp"));
        CHILD_CHECK(checks, mount_ns_inode() == before_ns);
    });
}

TEST_CASE("tmpdir instances get a unique name and are removed at close", "[engine][tmpdir]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        Plan plan = empty_plan();
        MountStep s = bind_step(tmp_dir(), tmp_template(), "alice-");
        s.method = Method::Tmpdir;
        s.instance_kind = InstanceKind::Unique;
        s.instance.clear();
        plan.steps = {s};
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        const auto& m = state->mounted[0];
        CHILD_CHECK(checks, m.remove_on_close);
        CHILD_CHECK_INFO(checks, m.instance_name.size() == 12 && m.instance_name.rfind("alice-", 0) == 0, m.instance_name);
        CHILD_CHECK(checks, m.instance == tmp_template() + "/" + m.instance_name);
        // Her own tree (the removal acts with her rights).
        for (const char* dir : {"/a", "/a/b", "/a/b/c"}) make_dir(tmp_dir() + dir, 0755, 1001, 1001);
        write_file(tmp_dir() + "/a/b/c/file", "x");
        auto closed = close_session(*state, log);
        CHILD_CHECK_INFO(checks, closed.ok(), closed ? "" : closed.error().message());
        // Still mounted (no unmount_on_close), but the instance is gone from the template.
        CHILD_CHECK(checks, mounts_at_count(tmp_dir()) == 1);
        SessionState again = *state;
        again.mounted[0].remove_on_close = false;
        again.unmount_on_close = true;
        CHILD_REQUIRE(checks, close_session(again, log).ok());
        CHILD_CHECK(checks, !exists(tmp_template() + "/" + m.instance_name));
    });
}

namespace {

// Makes the kernel look old to this process: the new mount API, openat2 and
// pidfd_open answer ENOSYS (seccomp), as on a kernel before 5.2 / 5.6 / 5.3.
bool pretend_old_kernel() {
    const int nrs[] = {SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsconfig, SYS_fsmount,
                       SYS_mount_setattr, SYS_openat2, SYS_pidfd_open};
    std::vector<sock_filter> prog;
    prog.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
    prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
    prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    prog.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
    for (int nr : nrs) {
        prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(nr), 0, 1));
        prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)));
    }
    prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0;
}

}  // namespace

TEST_CASE("auto mode falls back to the legacy backend and the component walk on ENOSYS", "[engine][fallback]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        make_dir(scratch + "/out", 0755);
        write_file(scratch + "/init.sh", "#!/bin/sh\necho \"$1\" > /run/polyns-engine-test/out/ran\n", 0755);
        CHILD_REQUIRE(checks, pretend_old_kernel());
        CHILD_REQUIRE(checks, ::syscall(SYS_open_tree, AT_FDCWD, "/", 0) < 0 && errno == ENOSYS);
        Plan plan = empty_plan();
        MountStep tmp = bind_step(tmp_dir(), tmp_template(), "1001");
        tmp.mount_flags = MS_NOSUID | MS_NOEXEC;
        tmp.init_script = scratch + "/init.sh";
        plan.steps = {tmp, tmpfs_step(vartmp_dir(), MS_NODEV, "size=1M")};
        plan.init_timeout_seconds = 5;
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message() + "\n" + log.all());
        CHILD_CHECK_INFO(checks, log.all().find("mount backend: legacy") != std::string::npos, log.all());
        CHILD_CHECK(checks, sys::effective_mount_backend() == sys::MountBackend::Legacy);
        auto at = sys::mounts_at(tmp_dir());
        CHILD_REQUIRE(checks, at.ok() && at->size() == 1);
        CHILD_CHECK_INFO(checks, (at->back().vfs_flags & (MS_NOSUID | MS_NOEXEC)) == (MS_NOSUID | MS_NOEXEC),
                         at->back().vfs_options);
        auto var = sys::mounts_at(vartmp_dir());
        CHILD_REQUIRE(checks, var.ok() && var->size() == 1);
        CHILD_CHECK(checks, var->back().fstype == "tmpfs" && (var->back().vfs_flags & MS_NODEV));
        CHILD_CHECK(checks, read_file(scratch + "/out/ran") == tmp_dir() + "\n");
        // Rollback works the same way there.
        Plan failing = empty_plan(1002, 1002, "bob");
        // (A template hidden by the session's tmpfs would now be found: a
        // nested session detaches the outer one's tmpfs first.)
        failing.steps = {bind_step(scratch + "/var/tmp", scratch + "/no/such/template", "1002")};
        auto ns = mount_ns_inode();
        auto bad = apply_plan(failing, log);
        CHILD_CHECK(checks, !bad.ok());
        CHILD_CHECK(checks, mount_ns_inode() == ns);
    });
}

TEST_CASE("unmount_on_close without pinned fds unmounts by path, only polyinstantiation", "[engine][close]") {
    run_isolated([](ChildChecks& checks) {
        make_dir(tmp_dir(), 01777);
        CHILD_REQUIRE(checks, ::mount("tmpfs", tmp_dir().c_str(), "tmpfs", 0, "mode=1777") == 0);
        make_dir(tmp_template(), 0755);
        Plan plan = empty_plan();
        plan.steps = {bind_step(tmp_dir(), tmp_template(), "1001")};
        plan.unmount_on_close = true;
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        CHILD_CHECK(checks, mounts_at_count(tmp_dir()) == 2);
        SessionState unpinned = *state;
        for (auto& m : unpinned.mounted) m.mount_root_fd.reset(), m.template_fd.reset();
        auto closed = close_session(unpinned, log);
        CHILD_CHECK_INFO(checks, closed.ok(), closed ? "" : closed.error().message());
        CHILD_CHECK(checks, mounts_at_count(tmp_dir()) == 1);  // the tmpfs below stays
        auto again = close_session(unpinned, log);
        CHILD_CHECK(checks, again.ok());
        CHILD_CHECK(checks, mounts_at_count(tmp_dir()) == 1);
    });
}

TEST_CASE("concurrent sessions of one user share one instance", "[engine][bind][concurrent]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        constexpr int sessions = 8;
        int go[2];
        CHILD_REQUIRE(checks, ::pipe(go) == 0);
        std::vector<pid_t> pids;
        for (int i = 0; i < sessions; ++i) {
            pid_t pid = ::fork();
            if (pid == 0) {
                ::close(go[1]);
                char byte;
                while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
                }
                Plan plan = empty_plan();
                plan.steps = {bind_step(tmp_dir(), tmp_template(), "1001")};
                CollectingLog log;
                auto state = apply_plan(plan, log);
                if (!state.ok()) ::_exit(1);
                struct stat st {};
                ::stat(tmp_dir().c_str(), &st);
                ::_exit(st.st_uid == 1001 && (st.st_mode & 07777) == 0700 ? (state->mounted[0].created ? 10 : 11) : 2);
            }
            pids.push_back(pid);
        }
        ::close(go[0]);
        ::close(go[1]);  // EOF: all start at once
        int created = 0, reused = 0;
        for (pid_t pid : pids) {
            int status = 0;
            ::waitpid(pid, &status, 0);
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            CHILD_CHECK_INFO(checks, code == 10 || code == 11, "session exit code " + std::to_string(code));
            created += code == 10;
            reused += code == 11;
        }
        CHILD_CHECK_INFO(checks, created == 1 && reused == sessions - 1,
                         std::to_string(created) + " created, " + std::to_string(reused) + " reused");
    });
}

// Not run by default ("[.]"): how long one session open takes, for the report.
TEST_CASE("timing of apply_plan with two bind steps", "[.][timing]") {
    auto backend = GENERATE(sys::MountBackend::NewApi, sys::MountBackend::Legacy);
    run_isolated([&](ChildChecks& checks) {
        sys::set_mount_backend(backend);
        make_standard_layout();
        int home_ns = ::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        Plan plan = empty_plan();
        plan.steps = {bind_step(tmp_dir(), tmp_template(), "1001"), bind_step(vartmp_dir(), vartmp_template(), "1001")};
        plan.steps[0].mount_flags = MS_NOSUID | MS_NODEV;
        constexpr int rounds = 500;
        std::chrono::nanoseconds total{0};
        for (int i = 0; i < rounds; ++i) {
            CollectingLog log;
            auto start = std::chrono::steady_clock::now();
            auto state = apply_plan(plan, log);
            total += std::chrono::steady_clock::now() - start;
            CHILD_REQUIRE(checks, state.ok());
            CHILD_REQUIRE(checks, ::setns(home_ns, CLONE_NEWNS) == 0);
        }
        WARN(sys::mount_backend_name(backend) << ": apply_plan (2 bind steps, existing instances) "
             << std::chrono::duration_cast<std::chrono::microseconds>(total).count() / rounds << " us on average");
    });
}
