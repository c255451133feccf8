// What the engine refuses, and that a refusal leaves the process as it was:
// same mount namespace, same mounts, nothing half-made.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "isolation.hpp"
#include "polyns/engine.hpp"
#include "polyns/sys/namespace.hpp"
#include "polyns/sys/path.hpp"

using namespace polyns;
using namespace polyns::test;

namespace {

// Applies `plan`, expects it to fail, and checks the process is untouched.
// Returns the error message (empty if it unexpectedly succeeded).
Error expect_refused(ChildChecks& checks, const Plan& plan) {
    auto ns = mount_ns_inode();
    auto table = mount_table_lines();
    CollectingLog log;
    auto state = apply_plan(plan, log);
    CHILD_CHECK_INFO(checks, !state.ok(), "expected a refusal; log:\n" + log.all());
    CHILD_CHECK(checks, mount_ns_inode() == ns);
    CHILD_CHECK(checks, mount_table_lines() == table);
    if (state.ok()) return Error{};
    return state.error();
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

Plan tmp_plan() {
    Plan plan = empty_plan();
    plan.steps = {bind_step(tmp_dir(), tmp_template(), "1001")};
    return plan;
}

}  // namespace

TEST_CASE("a 1777 template is refused with the fix in the message", "[engine][refuse][template]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        CHILD_REQUIRE(checks, ::chmod(tmp_template().c_str(), 01777) == 0);
        Error e = expect_refused(checks, tmp_plan());
        std::string msg = e.message();
        CHILD_CHECK_INFO(checks, contains(msg, "chmod 0755 " + tmp_template()), msg);
        CHILD_CHECK_INFO(checks, contains(msg, "1777"), msg);
        CHILD_CHECK(checks, e.polydir == tmp_dir());
        CHILD_CHECK(checks, !exists(tmp_template() + "/1001"));
    });
}

TEST_CASE("a group-writable template is refused, unless ignore_instance_parent_mode", "[engine][refuse][template]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        CHILD_REQUIRE(checks, ::chmod(tmp_template().c_str(), 0775) == 0);
        Error e = expect_refused(checks, tmp_plan());
        CHILD_CHECK_INFO(checks, contains(e.message(), "writable by group or other"), e.message());
        Plan lenient = tmp_plan();
        lenient.ignore_instance_parent_mode = true;
        CollectingLog log;
        auto state = apply_plan(lenient, log);
        CHILD_CHECK_INFO(checks, state.ok(), state ? "" : state.error().message());
    });
}

TEST_CASE("a user-owned template is refused, even with ignore_instance_parent_mode", "[engine][refuse][template]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        CHILD_REQUIRE(checks, ::chown(tmp_template().c_str(), 1001, 1001) == 0);
        Plan plan = tmp_plan();
        plan.ignore_instance_parent_mode = true;
        Error e = expect_refused(checks, plan);
        CHILD_CHECK_INFO(checks, contains(e.message(), "not root") && contains(e.message(), "chown root:root"),
                         e.message());
    });
}

TEST_CASE("a missing template is created root:root 0000, one whose parent is missing is not",
          "[engine][refuse][template]") {
    run_isolated([](ChildChecks& checks) {
        make_dir(tmp_dir(), 01777);
        Plan plan = empty_plan();
        const std::string deep = tmp_dir() + "/missing/tmpl";
        plan.steps = {bind_step(tmp_dir(), deep, "1001")};
        Error e = expect_refused(checks, plan);
        std::string msg = e.message();
        CHILD_CHECK_INFO(checks, e.err == ENOENT && e.step == "open template parent", msg);
        CHILD_CHECK_INFO(checks, contains(msg, "mkdir -p -m 0755 " + tmp_dir() + "/missing"), msg);
        struct stat st {};
        CHILD_CHECK(checks, ::lstat((tmp_dir() + "/missing").c_str(), &st) != 0);
        CollectingLog log;
        auto state = apply_plan(tmp_plan(), log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        // (/tmp now shows the instance: the template is looked at by its pinned fd.)
        CHILD_REQUIRE(checks, state->mounted.size() == 1 && state->mounted[0].template_fd);
        CHILD_REQUIRE(checks, ::fstat(state->mounted[0].template_fd->get(), &st) == 0);
        CHILD_CHECK(checks, S_ISDIR(st.st_mode) && st.st_uid == 0 && (st.st_mode & 07777) == 0);
        CHILD_CHECK_INFO(checks, contains(log.all(), "created missing template " + tmp_template()), log.all());
    });
}

TEST_CASE("a symlinked template is refused by both resolvers", "[engine][refuse][template]") {
    auto resolver = GENERATE(sys::PathResolver::Openat2, sys::PathResolver::ComponentWalk);
    run_isolated([&](ChildChecks& checks) {
        sys::set_path_resolver(resolver);
        make_dir(tmp_dir(), 01777);
        make_dir(scratch + "/real_tmpl", 0755);
        CHILD_REQUIRE(checks, ::symlink((scratch + "/real_tmpl").c_str(), tmp_template().c_str()) == 0);
        Error e = expect_refused(checks, tmp_plan());
        CHILD_CHECK_INFO(checks, e.err == ELOOP, e.message());
        CHILD_CHECK(checks, !exists(scratch + "/real_tmpl/1001"));
    });
}

TEST_CASE("a FIFO where the template should be does not hang the session", "[engine][refuse][template]") {
    run_isolated([](ChildChecks& checks) {
        make_dir(tmp_dir(), 01777);
        CHILD_REQUIRE(checks, ::mkfifo(tmp_template().c_str(), 0600) == 0);
        Error e = expect_refused(checks, tmp_plan());
        CHILD_CHECK_INFO(checks, e.err == ENOTDIR, e.message());
    });
}

TEST_CASE("bad pre-existing instances fail closed", "[engine][refuse][instance]") {
    auto kind = GENERATE(as<std::string>{}, "symlink", "file", "fifo", "socket", "wrong-owner", "wrong-group",
                         "wrong-mode", "root-0755");
    INFO("instance kind " << kind);
    run_isolated([&](ChildChecks& checks) {
        make_standard_layout();
        std::string inst = tmp_template() + "/1001";
        make_dir(scratch + "/victim", 0700);
        if (kind == "symlink") {
            CHILD_REQUIRE(checks, ::symlink((scratch + "/victim").c_str(), inst.c_str()) == 0);
        } else if (kind == "file") {
            write_file(inst, "x", 0700);
        } else if (kind == "fifo") {
            CHILD_REQUIRE(checks, ::mkfifo(inst.c_str(), 0700) == 0);
        } else if (kind == "socket") {
            CHILD_REQUIRE(checks, ::mknod(inst.c_str(), S_IFSOCK | 0700, 0) == 0);
        } else if (kind == "wrong-owner") {
            make_dir(inst, 0700, 1002, 1001);
        } else if (kind == "wrong-group") {
            make_dir(inst, 0700, 1001, 1002);
        } else if (kind == "wrong-mode") {
            make_dir(inst, 0755, 1001, 1001);
        } else if (kind == "root-0755") {
            make_dir(inst, 0755, 0, 0);
        }
        Error e = expect_refused(checks, tmp_plan());
        CHILD_CHECK_INFO(checks, e.step == "use instance", e.message());
        CHILD_CHECK_INFO(checks, e.polydir == tmp_dir(), e.message());
        struct stat v = lstat_of(scratch + "/victim");
        CHILD_CHECK(checks, v.st_uid == 0 && (v.st_mode & 07777) == 0700);
    });
}

TEST_CASE("instance names must be one path component", "[engine][refuse][instance]") {
    auto name = GENERATE(as<std::string>{}, "..", ".", "a/b", "", "../../etc");
    run_isolated([&](ChildChecks& checks) {
        make_standard_layout();
        Plan plan = empty_plan();
        plan.steps = {bind_step(tmp_dir(), tmp_template(), name)};
        Error e = expect_refused(checks, plan);
        CHILD_CHECK_INFO(checks, e.step == "check plan", e.message());
    });
}

TEST_CASE("error messages say what, where, which syscall and errno", "[engine][refuse][message]") {
    run_isolated([](ChildChecks& checks) {
        make_dir(scratch + "/ro/tmp", 01777);
        make_dir(scratch + "/ro/tmp/user_tmpl", 0755);
        // A read-only mount under the template makes mkdirat fail with EROFS.
        CHILD_REQUIRE(checks, ::mount((scratch + "/ro").c_str(), (scratch + "/ro").c_str(), nullptr, MS_BIND, nullptr) == 0);
        CHILD_REQUIRE(checks, ::mount(nullptr, (scratch + "/ro").c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY,
                                      nullptr) == 0);
        Plan plan = empty_plan();
        plan.steps = {bind_step(scratch + "/ro/tmp", scratch + "/ro/tmp/user_tmpl", "1001")};
        Error e = expect_refused(checks, plan);
        CHILD_CHECK_INFO(checks,
                         e.message() == "cannot create instance " + scratch +
                                            "/ro/tmp/user_tmpl/1001: mkdirat: EROFS (Read-only file system)",
                         e.message());
        CHILD_CHECK(checks, e.polydir == scratch + "/ro/tmp");
    });
}

namespace {
ino_t thread_ns_inode() {
    struct stat st {};
    ::stat("/proc/thread-self/ns/mnt", &st);
    return st.st_ino;
}
}  // namespace

// gdm-session-worker opens the session with GLib threads running: served as
// pam_namespace.so serves it, from the leader and from another thread.
TEST_CASE("a multithreaded caller is served: only the calling thread moves", "[engine][threads]") {
    auto from_worker = GENERATE(false, true);
    run_isolated([&](ChildChecks& checks) {
        make_standard_layout();
        const ino_t before = thread_ns_inode();
        std::mutex mutex;
        std::condition_variable cv;
        int stage = 0;  // 1: ask the bystander for its namespace; 2: let it go
        ino_t bystander_ns = 0;
        std::thread bystander([&] {
            std::unique_lock<std::mutex> lock(mutex);
            cv.wait(lock, [&] { return stage >= 1; });
            bystander_ns = thread_ns_inode();
            stage = 2;
            cv.notify_all();
        });
        bool opened = false, moved = false, failed_stays = false;
        std::string why;
        auto open_here = [&] {
            CollectingLog log;
            auto state = apply_plan(tmp_plan(), log);
            opened = state.ok();
            if (!opened) why = state.error().message();
            moved = thread_ns_inode() != before;
            // A failing open from a thread rolls back to where it was.
            Plan failing = empty_plan(1002, 1002, "bob");
            failing.steps = {bind_step(scratch + "/var/tmp", scratch + "/no/such/template", "1002")};
            const ino_t ns = thread_ns_inode();
            failed_stays = !apply_plan(failing, log).ok() && thread_ns_inode() == ns;
        };
        if (from_worker) {
            std::thread worker(open_here);
            worker.join();
        } else {
            open_here();
        }
        {
            std::unique_lock<std::mutex> lock(mutex);
            stage = 1;
            cv.notify_all();
            cv.wait(lock, [&] { return stage == 2; });
        }
        bystander.join();
        CHILD_CHECK_INFO(checks, opened, why);
        CHILD_CHECK(checks, moved);
        CHILD_CHECK(checks, failed_stays);
        CHILD_CHECK(checks, bystander_ns == before);
    });
}
