// Engine system tests run as root, but never against the host: every test case
// runs its body in a forked child that first enters a private mount namespace
// (unshare + / rprivate) and mounts a scratch tmpfs; all paths the tests hand to
// the engine lie below that scratch directory. The parent checks afterwards
// that its own (the host's) mount table did not change.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "polyns/engine.hpp"
#include "polyns/plan.hpp"

namespace polyns::test {

// Where the scratch tmpfs is mounted inside each child's namespace. /run itself
// gets a private tmpfs first, so nothing is created on the host's /run.
inline const std::string scratch = "/run/polyns-engine-test";

// Failures found in the child, reported to the parent.
class ChildChecks {
public:
    bool check(bool ok, const char* expr, const char* file, int line, const std::string& info = {});
    const std::vector<std::string>& failures() const { return failures_; }

private:
    std::vector<std::string> failures_;
};

#define CHILD_CHECK(checks, cond) (checks).check((cond), #cond, __FILE__, __LINE__)
#define CHILD_CHECK_INFO(checks, cond, info) (checks).check((cond), #cond, __FILE__, __LINE__, (info))
#define CHILD_REQUIRE(checks, cond) \
    do {                            \
        if (!(checks).check((cond), #cond, __FILE__, __LINE__)) return; \
    } while (0)
#define CHILD_REQUIRE_INFO(checks, cond, info) \
    do {                                       \
        if (!(checks).check((cond), #cond, __FILE__, __LINE__, (info))) return; \
    } while (0)

// Runs `body` in an isolated child (see above) and turns its failures into
// Catch2 failures; also fails if the host's mount table changed.
void run_isolated(const std::function<void(ChildChecks&)>& body);

// A Log that keeps its lines.
class CollectingLog final : public Log {
public:
    void debug(const std::string& line) override { lines.push_back("debug: " + line); }
    void info(const std::string& line) override { lines.push_back("info: " + line); }
    void warning(const std::string& line) override { lines.push_back("warning: " + line); }
    std::string all() const;
    std::vector<std::string> lines;
};

// --- helpers for the child ---------------------------------------------------

// mkdir -p with mode and owner applied to the last component.
void make_dir(const std::string& path, mode_t mode, uid_t uid = 0, gid_t gid = 0);
void write_file(const std::string& path, const std::string& text, mode_t mode = 0644);
std::string read_file(const std::string& path);
bool exists(const std::string& path);
struct stat lstat_of(const std::string& path);
ino_t mount_ns_inode();
// "id target root fstype source" of every mount, for before/after comparisons.
std::vector<std::string> mount_table_lines();
// Number of mounts with exactly this mount point.
std::size_t mounts_at_count(const std::string& target);

// A process that stays in the namespace it was forked in (sleeping) until
// destroyed: /proc/<pid>/mountinfo shows that namespace's mounts.
class Witness {
public:
    Witness();
    ~Witness();
    Witness(const Witness&) = delete;
    Witness& operator=(const Witness&) = delete;
    pid_t pid = -1;
};

// A plan for user alice (1001:1001) with no steps.
Plan empty_plan(uid_t uid = 1001, gid_t gid = 1001, const std::string& user = "alice");
// A bind step: polydir, template, instance name, default 0700 owner uid:gid.
MountStep bind_step(const std::string& polydir, const std::string& template_dir, const std::string& name,
                    uid_t uid = 1001, gid_t gid = 1001);
MountStep tmpfs_step(const std::string& polydir, unsigned long flags, const std::string& fs_options);

// The usual scratch layout: <scratch>/tmp (1777) with template
// <scratch>/tmp/user_tmpl (0755), and the same under <scratch>/var/tmp.
void make_standard_layout();
inline std::string tmp_dir() { return scratch + "/tmp"; }
inline std::string tmp_template() { return scratch + "/tmp/user_tmpl"; }
inline std::string vartmp_dir() { return scratch + "/var/tmp"; }
inline std::string vartmp_template() { return scratch + "/var/tmp/user_tmpl"; }

}  // namespace polyns::test
