// Rollback: a failure at step k undoes steps 1..k-1 and returns the process to
// its original namespace, root and cwd; nothing half-made is left behind.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "isolation.hpp"
#include "polyns/engine.hpp"
#include "polyns/sys/mount.hpp"

using namespace polyns;
using namespace polyns::test;

namespace {

struct Snapshot {
    ino_t ns;
    std::vector<std::string> mounts;
    std::string cwd;
};

Snapshot snapshot() {
    char buf[4096];
    return {mount_ns_inode(), mount_table_lines(), ::getcwd(buf, sizeof buf) ? buf : ""};
}

void check_unchanged(ChildChecks& checks, const Snapshot& before) {
    Snapshot after = snapshot();
    CHILD_CHECK(checks, after.ns == before.ns);
    CHILD_CHECK(checks, after.mounts == before.mounts);
    CHILD_CHECK_INFO(checks, after.cwd == before.cwd, after.cwd + " vs " + before.cwd);
}

}  // namespace

TEST_CASE("a failing second mount undoes the first and returns to the original namespace", "[engine][rollback]") {
    auto backend = GENERATE(sys::MountBackend::NewApi, sys::MountBackend::Legacy);
    INFO("backend " << sys::mount_backend_name(backend));
    run_isolated([&](ChildChecks& checks) {
        sys::set_mount_backend(backend);
        make_standard_layout();
        make_dir(scratch + "/cwd", 0755);
        CHILD_REQUIRE(checks, ::chdir((scratch + "/cwd").c_str()) == 0);
        Snapshot before = snapshot();
        Plan plan = empty_plan();
        MountStep first = bind_step(tmp_dir(), tmp_template(), "1001");
        first.mount_flags = MS_NOSUID;
        plan.steps = {first, tmpfs_step(vartmp_dir(), 0, "size=bogus")};
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE(checks, !state.ok());
        CHILD_CHECK_INFO(checks, state.error().step == "mount tmpfs", state.error().message());
        CHILD_CHECK(checks, state.error().polydir == vartmp_dir());
        check_unchanged(checks, before);
        // The first instance may stay, but only complete: alice's, 0700.
        struct stat st = lstat_of(tmp_template() + "/1001");
        CHILD_CHECK(checks, st.st_uid == 1001 && st.st_gid == 1001 && (st.st_mode & 07777) == 0700);
        CHILD_CHECK_INFO(checks, log.all().find("rollback: unmounted " + tmp_dir()) != std::string::npos, log.all());
    });
}

TEST_CASE("a missing second template fails before any mount", "[engine][rollback]") {
    run_isolated([](ChildChecks& checks) {
        make_dir(tmp_dir(), 01777);
        make_dir(tmp_template(), 0755);
        make_dir(vartmp_dir(), 01777);
        Snapshot before = snapshot();
        Plan plan = empty_plan();
        // (A missing template is created; one whose parent is missing is not.)
        plan.steps = {bind_step(tmp_dir(), tmp_template(), "1001"),
                      bind_step(vartmp_dir(), vartmp_dir() + "/missing/tmpl", "1001")};
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE(checks, !state.ok());
        CHILD_CHECK_INFO(checks, state.error().step == "open template parent" && state.error().polydir == vartmp_dir(),
                         state.error().message());
        check_unchanged(checks, before);
        CHILD_CHECK_INFO(checks, log.all().find("mounted") == std::string::npos, log.all());
    });
}

TEST_CASE("rollback removes a tmpdir instance and a polydir it created", "[engine][rollback]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        make_dir(scratch + "/made", 0755);
        make_dir(scratch + "/made_tmpl", 0755);
        Snapshot before = snapshot();
        Plan plan = empty_plan();
        MountStep tmpdir = bind_step(tmp_dir(), tmp_template(), "alice-");
        tmpdir.instance_kind = InstanceKind::Unique;
        MountStep created = bind_step(scratch + "/made/poly", scratch + "/made_tmpl", "alice");
        created.create_polydir = PolydirCreate{0755, 0, 0};
        plan.steps = {tmpdir, created, tmpfs_step(vartmp_dir(), 0, "nr_inodes=nonsense")};
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE(checks, !state.ok());
        check_unchanged(checks, before);
        CHILD_CHECK_INFO(checks, ::rmdir(tmp_template().c_str()) == 0, "the template must be empty again");
        CHILD_CHECK(checks, !exists(scratch + "/made/poly"));
        // the named instance of the created polydir is complete and may stay
        struct stat st = lstat_of(scratch + "/made_tmpl/alice");
        CHILD_CHECK(checks, st.st_uid == 1001 && (st.st_mode & 07777) == 0700);
    });
}

TEST_CASE("a failing init script rolls back its mount", "[engine][rollback][init]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        write_file(scratch + "/fail.sh", "#!/bin/sh\nexit 3\n", 0755);
        Snapshot before = snapshot();
        Plan plan = empty_plan();
        MountStep s = bind_step(tmp_dir(), tmp_template(), "1001");
        s.init_script = scratch + "/fail.sh";
        plan.steps = {s};
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_REQUIRE(checks, !state.ok());
        CHILD_CHECK_INFO(checks, state.error().message().find("exited with status 3") != std::string::npos,
                         state.error().message());
        check_unchanged(checks, before);
    });
}

TEST_CASE("a chroot'ed caller keeps its root after a rollback", "[engine][rollback]") {
    run_isolated([](ChildChecks& checks) {
        // The "chroot" is the whole scratch tree: paths below are relative to it.
        make_dir(scratch + "/tmp", 01777);
        make_dir(scratch + "/proc", 0555);
        CHILD_REQUIRE(checks, ::mount("proc", (scratch + "/proc").c_str(), "proc", 0, nullptr) == 0);
        make_dir(scratch + "/dev", 0755);
        write_file(scratch + "/marker", "inside");
        CHILD_REQUIRE(checks, ::chroot(scratch.c_str()) == 0 && ::chdir("/") == 0);
        Plan plan = empty_plan();
        plan.steps = {bind_step("/tmp", "/tmp/missing/tmpl", "1001")};
        CollectingLog log;
        auto state = apply_plan(plan, log);
        CHILD_CHECK(checks, !state.ok());
        CHILD_CHECK_INFO(checks, read_file("/marker") == "inside", "root changed by the rollback");
    });
}
