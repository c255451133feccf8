// unmnt_remnt / unmnt_only: su from alice's session to bob's.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "isolation.hpp"
#include "polyns/engine.hpp"
#include "polyns/sys/mountinfo.hpp"

using namespace polyns;
using namespace polyns::test;

namespace {

Plan user_plan(uid_t uid, const std::string& user) {
    Plan plan = empty_plan(uid, uid, user);
    plan.steps = {bind_step(tmp_dir(), tmp_template(), std::to_string(uid), uid, uid)};
    return plan;
}

}  // namespace

TEST_CASE("unmount_previous replaces alice's instance by bob's, not the tmpfs below", "[engine][unmnt]") {
    auto base_is_tmpfs = GENERATE(false, true);
    run_isolated([&](ChildChecks& checks) {
        make_dir(tmp_dir(), 01777);
        if (base_is_tmpfs)  // like a host whose /tmp is a tmpfs
            CHILD_REQUIRE(checks, ::mount("tmpfs", tmp_dir().c_str(), "tmpfs", 0, "mode=1777") == 0);
        make_dir(tmp_template(), 0755);
        CollectingLog log;
        auto alice = apply_plan(user_plan(1001, "alice"), log);
        CHILD_REQUIRE_INFO(checks, alice.ok(), alice ? "" : alice.error().message());
        write_file(tmp_dir() + "/alice-secret", "a");
        std::size_t base_mounts = base_is_tmpfs ? 1 : 0;
        CHILD_CHECK(checks, mounts_at_count(tmp_dir()) == base_mounts + 1);

        Plan bob = user_plan(1002, "bob");
        bob.unmount_previous = true;
        auto bobs = apply_plan(bob, log);
        CHILD_REQUIRE_INFO(checks, bobs.ok(), bobs ? "" : bobs.error().message() + "\n" + log.all());
        CHILD_CHECK(checks, bobs->unmounted_previous == std::vector<std::string>{tmp_dir()});
        struct stat st = lstat_of(tmp_dir());
        CHILD_CHECK(checks, st.st_uid == 1002 && (st.st_mode & 07777) == 0700);
        CHILD_CHECK(checks, !exists(tmp_dir() + "/alice-secret"));
        auto at = sys::mounts_at(tmp_dir());
        CHILD_REQUIRE(checks, at.ok());
        CHILD_CHECK_INFO(checks, at->size() == base_mounts + 1, std::to_string(at->size()));
        CHILD_CHECK_INFO(checks, at->back().root.find("/user_tmpl/1002") != std::string::npos, at->back().root);

        // su to root, excluded from the rule: the rule is a skipped one.
        Plan only = user_plan(0, "root");
        only.steps.clear();
        only.skipped = {SkippedRule{tmp_dir(), "root is excluded", {}}};
        only.unmount_previous = true;
        auto root = apply_plan(only, log);
        CHILD_REQUIRE_INFO(checks, root.ok(), root ? "" : root.error().message());
        // root sees the real directory again (the tmpfs below stays, if there is one).
        CHILD_CHECK(checks, mounts_at_count(tmp_dir()) == base_mounts);
        struct stat real = lstat_of(tmp_dir());
        CHILD_CHECK(checks, real.st_uid == 0 && (real.st_mode & 07777) == 01777);
    });
}

TEST_CASE("unmount_only without steps still unmounts the plan's polydirs", "[engine][unmnt]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        CollectingLog log;
        auto alice = apply_plan(user_plan(1001, "alice"), log);
        CHILD_REQUIRE(checks, alice.ok());
        Plan only = user_plan(1001, "alice");
        only.unmount_only = true;
        auto state = apply_plan(only, log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        CHILD_CHECK(checks, state->mounted.empty());
        CHILD_CHECK(checks, state->unmounted_previous == std::vector<std::string>{tmp_dir()});
        CHILD_CHECK(checks, mounts_at_count(tmp_dir()) == 0);
    });
}
