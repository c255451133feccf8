// tmpdir cleanup: fd-based, never following a symlink, never crossing a mount,
// iterative (deep trees), and safe against a template reached through a polydir.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "isolation.hpp"
#include "polyns/engine.hpp"
#include "polyns/sys/remove_tree.hpp"
#include "polyns/sys/unique_fd.hpp"

using namespace polyns;
using namespace polyns::test;

namespace {

Plan tmpdir_plan() {
    Plan plan = empty_plan();
    MountStep s = bind_step(tmp_dir(), tmp_template(), "alice-");
    s.method = Method::Tmpdir;
    s.instance_kind = InstanceKind::Unique;
    plan.steps = {s};
    return plan;
}

}  // namespace

TEST_CASE("tmpdir cleanup does not follow a planted symlink", "[engine][cleanup]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        make_dir(scratch + "/precious/dir", 0755);
        write_file(scratch + "/precious/dir/file", "keep me");
        CollectingLog log;
        auto state = apply_plan(tmpdir_plan(), log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        // The user plants symlinks to things they must not get deleted.
        CHILD_REQUIRE(checks, ::symlink((scratch + "/precious").c_str(), (tmp_dir() + "/link").c_str()) == 0);
        CHILD_REQUIRE(checks, ::symlink((scratch + "/precious/dir/file").c_str(), (tmp_dir() + "/flink").c_str()) == 0);
        make_dir(tmp_dir() + "/sub", 0700, 1001, 1001);
        CHILD_REQUIRE(checks, ::symlink("../../../precious", (tmp_dir() + "/sub/up").c_str()) == 0);
        auto closed = close_session(*state, log);
        CHILD_CHECK_INFO(checks, closed.ok(), closed ? "" : closed.error().message());
        CHILD_CHECK(checks, read_file(scratch + "/precious/dir/file") == "keep me");
        CHILD_CHECK(checks, !exists(tmp_template() + "/" + state->mounted[0].instance_name));
    });
}

TEST_CASE("tmpdir cleanup does not cross a mount inside the instance", "[engine][cleanup]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        make_dir(scratch + "/outside", 0755);
        write_file(scratch + "/outside/file", "keep me");
        CollectingLog log;
        auto state = apply_plan(tmpdir_plan(), log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        // The user's own directory (the removal acts with her rights: in a
        // directory of root's she could remove nothing).
        make_dir(tmp_dir() + "/a", 0755, 1001, 1001);
        make_dir(tmp_dir() + "/a/mnt", 0755);
        write_file(tmp_dir() + "/a/other", "x");
        CHILD_REQUIRE(checks, ::mount((scratch + "/outside").c_str(), (tmp_dir() + "/a/mnt").c_str(), nullptr, MS_BIND,
                                      nullptr) == 0);
        auto closed = close_session(*state, log);
        CHILD_CHECK(checks, !closed.ok());  // could not remove everything: the mount point stays
        CHILD_CHECK(checks, read_file(scratch + "/outside/file") == "keep me");
        // Seen from the template, a/mnt is the instance's own directory with a
        // mount on it elsewhere: it cannot be removed (EBUSY) and stays.
        CHILD_CHECK_INFO(checks, log.all().find("a/mnt (") != std::string::npos, log.all());
        CHILD_CHECK(checks, !exists(tmp_dir() + "/a/other"));
    });
}

TEST_CASE("tree removal leaves a mount inside the tree, and what is under it, alone", "[engine][cleanup]") {
    auto bind_from_same_fs = GENERATE(true, false);
    run_isolated([&](ChildChecks& checks) {
        make_dir(scratch + "/parent/inst/a/mnt", 0755);
        write_file(scratch + "/parent/inst/a/file", "x");
        make_dir(scratch + "/outside", 0755);
        write_file(scratch + "/outside/file", "keep me");
        std::string at = scratch + "/parent/inst/a/mnt";
        if (bind_from_same_fs)  // same st_dev: only the mount id tells
            CHILD_REQUIRE(checks, ::mount((scratch + "/outside").c_str(), at.c_str(), nullptr, MS_BIND, nullptr) == 0);
        else
            CHILD_REQUIRE(checks, ::mount("tmpfs", at.c_str(), "tmpfs", 0, "mode=0755") == 0);
        write_file(at + "/inner", "keep me too");
        sys::UniqueFd parent(::open((scratch + "/parent").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        auto report = sys::remove_tree_at(parent.get(), "inst", scratch + "/parent/inst");
        CHILD_REQUIRE_INFO(checks, report.ok(), report ? "" : report.error().message());
        CHILD_CHECK(checks, !report->removed_root);
        std::string kept;
        for (const auto& k : report->kept) kept += k + "\n";
        CHILD_CHECK_INFO(checks, kept.find("a/mnt (a mount point; not crossed)") != std::string::npos, kept);
        CHILD_CHECK(checks, read_file(at + "/inner") == "keep me too");
        CHILD_CHECK(checks, !exists(scratch + "/parent/inst/a/file"));
        if (bind_from_same_fs) CHILD_CHECK(checks, read_file(scratch + "/outside/file") == "keep me");
    });
}

TEST_CASE("tree removal is iterative: a very deep tree goes, with bounded fds", "[engine][cleanup][deep]") {
    run_isolated([](ChildChecks& checks) {
        make_dir(scratch + "/parent", 0755);
        make_dir(scratch + "/parent/deep", 0755);
        constexpr int depth = 100000;
        sys::UniqueFd dir(::open((scratch + "/parent/deep").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        for (int i = 0; i < depth; ++i) {
            CHILD_REQUIRE(checks, ::mkdirat(dir.get(), "d", 0755) == 0);
            if (i % 1000 == 0) {
                int f = ::openat(dir.get(), "file", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                ::close(f);
                CHILD_REQUIRE(checks, ::symlinkat("/etc", dir.get(), "etc-link") == 0);
            }
            sys::UniqueFd next(::openat(dir.get(), "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            CHILD_REQUIRE(checks, next.valid());
            dir = std::move(next);
        }
        dir.reset();
        sys::UniqueFd parent(::open((scratch + "/parent").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        auto start = std::chrono::steady_clock::now();
        auto report = sys::remove_tree_at(parent.get(), "deep", scratch + "/parent/deep");
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        CHILD_REQUIRE_INFO(checks, report.ok(), report ? "" : report.error().message());
        CHILD_CHECK(checks, report->removed_root);
        CHILD_CHECK(checks, report->kept.empty());
        CHILD_CHECK_INFO(checks, report->removed >= static_cast<std::size_t>(depth),
                         std::to_string(report->removed));
        CHILD_CHECK(checks, !exists(scratch + "/parent/deep"));
        CHILD_CHECK(checks, exists("/etc/passwd"));
        WARN("removed a " << depth << "-deep tree in " << took.count() << " ms");
    });
}

TEST_CASE("tree removal refuses a root that is a symlink", "[engine][cleanup]") {
    run_isolated([](ChildChecks& checks) {
        make_dir(scratch + "/parent", 0755);
        make_dir(scratch + "/target", 0755);
        write_file(scratch + "/target/f", "x");
        CHILD_REQUIRE(checks, ::symlink((scratch + "/target").c_str(), (scratch + "/parent/inst").c_str()) == 0);
        sys::UniqueFd parent(::open((scratch + "/parent").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        auto report = sys::remove_tree_at(parent.get(), "inst", scratch + "/parent/inst");
        CHILD_CHECK(checks, !report.ok());
        CHILD_CHECK(checks, exists(scratch + "/target/f"));
    });
}

TEST_CASE("close without pinned fds re-checks the template it finds by path", "[engine][cleanup]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        CollectingLog log;
        auto state = apply_plan(tmpdir_plan(), log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        // In the session, <scratch>/tmp/user_tmpl now resolves inside alice's
        // instance: she can create a look-alike "template" there.
        SessionState unpinned = *state;
        unpinned.mounted[0].template_fd.reset();
        unpinned.mounted[0].mount_root_fd.reset();
        make_dir(tmp_template(), 0755, 1001, 1001);
        make_dir(tmp_template() + "/" + state->mounted[0].instance_name, 0700, 1001, 1001);
        auto closed = close_session(unpinned, log);
        CHILD_CHECK(checks, !closed.ok());
        CHILD_CHECK_INFO(checks, closed ? false : closed.error().message().find("not root-owned") != std::string::npos,
                         closed ? "" : closed.error().message());
        // With the pinned template fd, the real instance goes.
        auto pinned_close = close_session(*state, log);
        CHILD_CHECK_INFO(checks, pinned_close.ok(), pinned_close ? "" : pinned_close.error().message());
    });
}
