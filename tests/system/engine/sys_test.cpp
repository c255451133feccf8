// The sys pieces the engine builds on, where they are not already covered by
// the engine tests: libmount option parsing, NSS lookups, path resolution.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

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
