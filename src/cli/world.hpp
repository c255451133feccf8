// The host as status, setup, audit and gc see it, made by the module's own
// code: the configuration (loader), each user's Plan (planner), the templates
// and instances those plans name, and which mount namespaces have them mounted
// (from /proc, read through libmount). One model, four commands: what they
// report is what the module does.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "polyns/config.hpp"
#include "polyns/options.hpp"
#include "polyns/plan.hpp"
#include "polyns/sys/proc_scan.hpp"

namespace polyns::cli {

struct UserPlan {
    Identity identity;
    bool interactive = false;
    Plan plan;  // steps empty: the user is not covered
};

struct InstanceInfo {
    std::string template_dir;
    std::string path;
    sys::InstanceEntry entry;
    std::optional<std::string> owner_name;  // nullopt: no account has this uid
    bool expected = false;     // it is the instance the owner's plan names (or a tmpdir one)
    bool in_use = false;       // mounted in a live namespace
};

struct TemplateInfo {
    std::string path;
    std::optional<std::string> error;  // cannot be listed (missing ...)
    std::vector<InstanceInfo> instances;
};

// What is mounted on a polydir in a session namespace.
struct PolydirMount {
    std::string polydir;
    std::string kind;       // "bind" or "tmpfs"
    std::string instance;   // path on disk; "tmpfs" for tmpfs
    std::optional<uid_t> owner;
    std::string vfs_options;
    std::string fs_options;
};

struct SessionNamespace {
    unsigned long long inode = 0;
    std::vector<sys::ProcessInfo> processes;
    std::vector<PolydirMount> mounts;
    std::set<std::string> users;  // owners of what is mounted, else the processes' users
};

// A process of a covered user that does not see its own instances.
struct OutsideProcess {
    sys::ProcessInfo process;
    std::string user;
    std::vector<std::string> polydirs;  // the polydirs it sees unpolyinstantiated
};

struct World {
    LoadOptions load;
    Options options;
    Config config;
    std::map<uid_t, UserPlan> plans;     // every NSS user, planned
    std::map<std::string, TemplateInfo> templates;
    std::vector<SessionNamespace> namespaces;
    std::vector<OutsideProcess> outside;
    std::vector<std::string> problems;   // things that could not be read
    std::string user_name(uid_t uid) const;
    bool covered(uid_t uid) const;
};

struct WorldRequest {
    std::string config_file;  // empty: the effective configuration
    bool scan_processes = true;
    bool measure_instances = true;
};
World load_world(const WorldRequest& request);

// Templates the configuration names for at least one user (bind steps whose
// template is not under a home: those are the user's own business).
std::set<std::string> shared_templates(const World& world);

// shared_templates() for `config` alone (every NSS user planned with it), for
// commands that need no more of the world (check).
std::set<std::string> configured_templates(const Config& config, const LoadOptions& load);

// A person's account: uid >= 1000 (not nobody) with a login shell. Only their
// processes count as "outside a session": a daemon's are judged by audit's
// services check.
bool interactive(const sys::PasswdEntry& pw);

std::string octal(mode_t mode);
std::string iso_time(long long epoch);

}  // namespace polyns::cli

namespace polyns::cli {
// Whether any live mount namespace has `loc` (or a directory below it) mounted:
// every process's namespace is looked at once. Processes that exit meanwhile
// are skipped (a namespace whose processes all exited is gone with them).
bool mounted_anywhere(const sys::FsLocation& loc);
}  // namespace polyns::cli
