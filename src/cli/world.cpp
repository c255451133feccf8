#include "world.hpp"

#include <fmt/core.h>
#include <sys/stat.h>

#include <ctime>

#include "polyns/sys/mountinfo.hpp"
#include "polyns/sys/admin_ops.hpp"
#include "polyns/sys/users.hpp"

namespace polyns::cli {
namespace {

struct InstanceKey {
    dev_t dev;
    std::string root;
    bool operator<(const InstanceKey& o) const { return dev != o.dev ? dev < o.dev : root < o.root; }
};

std::string strip_deleted(std::string root) {
    const std::string suffix = "//deleted";
    if (root.size() > suffix.size() && root.compare(root.size() - suffix.size(), suffix.size(), suffix) == 0)
        root.resize(root.size() - suffix.size());
    return root;
}

// The topmost mount on `target` in a table (the last one the kernel lists there
// whose parent is not above it is good enough: stacking lists children after parents).
const sys::MountEntry* topmost(const std::vector<sys::MountEntry>& table, const std::string& target) {
    const sys::MountEntry* top = nullptr;
    for (const auto& m : table)
        if (m.target == target) top = &m;
    return top;
}

void plan_everyone(World& w) {
    const sys::NssNameResolver names;
    PlanContext context;
    context.security_dir = w.load.security_dir;
    context.selinux_enabled = sys::selinux_is_enabled();
    for (const auto& pw : sys::list_users()) {
        if (w.plans.count(pw.uid)) continue;  // first name of a uid wins, as getpwuid
        auto identity = sys::lookup_identity(pw.name);
        if (!identity) continue;
        auto plan = make_plan(w.config, *identity, w.options, names, context);
        if (!plan) {
            w.problems.push_back("cannot plan for " + pw.name + ": " + plan.error().message());
            continue;
        }
        w.plans[pw.uid] = UserPlan{*identity, interactive(pw), std::move(*plan)};
    }
}

}  // namespace

bool interactive(const sys::PasswdEntry& pw) {
    if (pw.uid < 1000 || pw.uid == 65534) return false;
    const std::string& s = pw.shell;
    auto ends = [&](const std::string& tail) {
        return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
    };
    return !(s.empty() || ends("nologin") || ends("/false"));
}

std::string octal(mode_t mode) { return fmt::format("{:04o}", static_cast<unsigned>(mode & 07777)); }

std::string iso_time(long long epoch) {
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string World::user_name(uid_t uid) const {
    auto it = plans.find(uid);
    if (it != plans.end()) return it->second.identity.user;
    return std::to_string(uid);
}

bool World::covered(uid_t uid) const {
    auto it = plans.find(uid);
    return it != plans.end() && !it->second.plan.steps.empty();
}

std::set<std::string> shared_templates(const World& world) {
    std::set<std::string> out;
    for (const auto& [uid, up] : world.plans)
        for (const auto& s : up.plan.steps)
            if (s.kind == MountKind::Bind && !s.template_dir.empty() && s.user_controlled_root.empty())
                out.insert(s.template_dir);
    return out;
}

std::set<std::string> configured_templates(const Config& config, const LoadOptions& load) {
    World w;
    w.load = load;
    w.config = config;
    plan_everyone(w);
    return shared_templates(w);
}

World load_world(const WorldRequest& request) {
    World w;
    w.load = default_load_options();
    if (!request.config_file.empty()) w.load.only_file = request.config_file;
    w.config = load_config(w.load);
    plan_everyone(w);

    // Instances on disk, keyed by what a bind mount of each shows in a mount table.
    auto own_table = sys::read_mount_table();
    if (!own_table) w.problems.push_back(own_table.error().message());
    std::map<InstanceKey, std::pair<std::string, std::size_t>> by_location;
    for (const auto& t : shared_templates(w)) {
        TemplateInfo info;
        info.path = t;
        auto entries = sys::list_template(t, request.measure_instances);
        if (!entries) {
            info.error = entries.error().message();
            w.templates[t] = std::move(info);
            continue;
        }
        std::optional<sys::FsLocation> where;
        if (own_table) {
            auto loc = sys::fs_location(t, *own_table);
            if (loc) where = *loc;
        }
        for (const auto& e : *entries) {
            InstanceInfo i;
            i.template_dir = t;
            i.path = t == "/" ? "/" + e.name : t + "/" + e.name;
            i.entry = e;
            if (auto pw = sys::user_by_uid(e.uid)) i.owner_name = pw->name;
            auto up = w.plans.find(e.uid);
            if (up != w.plans.end()) {
                for (const auto& s : up->second.plan.steps) {
                    if (s.template_dir != t) continue;
                    if (s.instance_kind == InstanceKind::Named && s.instance_name == e.name) i.expected = true;
                    if (s.instance_kind == InstanceKind::Unique && e.name.rfind(s.instance_name, 0) == 0)
                        i.expected = true;
                }
            }
            if (where) {
                std::string root = where->root == "/" ? "/" + e.name : where->root + "/" + e.name;
                by_location[{where->dev, root}] = {t, info.instances.size()};
            }
            info.instances.push_back(std::move(i));
        }
        w.templates[t] = std::move(info);
    }
    if (!request.scan_processes) return w;

    std::set<std::string> polydirs;
    for (const auto& [uid, up] : w.plans)
        for (const auto& s : up.plan.steps) polydirs.insert(s.polydir);

    std::map<unsigned long long, std::vector<sys::ProcessInfo>> by_ns;
    for (auto& p : sys::list_processes()) by_ns[p.mnt_ns].push_back(std::move(p));

    for (auto& [inode, procs] : by_ns) {
        // Any process of the namespace shows its table; the first may be gone.
        std::optional<std::vector<sys::MountEntry>> table;
        for (const auto& p : procs) {
            auto t = sys::process_mount_table(p.pid);
            if (t) {
                table = std::move(*t);
                break;
            }
        }
        if (!table) continue;
        SessionNamespace ns;
        ns.inode = inode;
        std::map<std::string, PolydirMount> seen;  // polydir -> what is on it
        for (const auto& polydir : polydirs) {
            const sys::MountEntry* top = topmost(*table, polydir);
            if (top == nullptr) continue;
            PolydirMount m;
            m.polydir = polydir;
            m.vfs_options = top->vfs_options;
            m.fs_options = top->fs_options;
            if (top->root != "/") {
                const std::string root = strip_deleted(top->root);
                auto hit = by_location.find({top->dev, root});
                if (hit == by_location.end()) continue;  // someone else's bind mount
                InstanceInfo& inst = w.templates[hit->second.first].instances[hit->second.second];
                inst.in_use = true;
                m.kind = "bind";
                m.instance = inst.path;
                m.owner = inst.entry.uid;
            } else if (top->fstype == "tmpfs" && top->source == "polyns") {
                // A polyns tmpfs: ours only if a process here is planned a tmpfs there.
                bool planned = false;
                for (const auto& p : procs) {
                    auto up = w.plans.find(p.uid);
                    if (up == w.plans.end()) continue;
                    for (const auto& s : up->second.plan.steps)
                        if (s.polydir == polydir && s.kind == MountKind::Tmpfs) planned = true;
                }
                if (!planned) continue;
                m.kind = "tmpfs";
                m.instance = "tmpfs";
            } else {
                continue;
            }
            seen[polydir] = m;
            ns.mounts.push_back(std::move(m));
        }
        // Covered users' processes that do not see their own instances.
        for (const auto& p : procs) {
            if (!w.covered(p.uid) || !w.plans.at(p.uid).interactive) continue;
            const UserPlan& up = w.plans.at(p.uid);
            OutsideProcess out{p, up.identity.user, {}};
            for (const auto& s : up.plan.steps) {
                auto it = seen.find(s.polydir);
                bool own = false;
                if (it != seen.end()) {
                    const PolydirMount& m = it->second;
                    if (s.kind == MountKind::Tmpfs) own = m.kind == "tmpfs";
                    else if (s.instance_kind == InstanceKind::Named) own = m.instance == s.instance;
                    else own = m.owner && *m.owner == p.uid;
                }
                if (!own) out.polydirs.push_back(s.polydir);
            }
            if (!out.polydirs.empty()) w.outside.push_back(std::move(out));
        }
        if (ns.mounts.empty()) continue;
        for (const auto& m : ns.mounts)
            if (m.owner) ns.users.insert(w.user_name(*m.owner));
        if (ns.users.empty())
            for (const auto& p : procs)
                if (w.covered(p.uid)) ns.users.insert(w.user_name(p.uid));
        ns.processes = procs;
        w.namespaces.push_back(std::move(ns));
    }
    return w;
}

}  // namespace polyns::cli

namespace polyns::cli {

bool mounted_anywhere(const sys::FsLocation& loc) {
    std::map<unsigned long long, std::vector<pid_t>> by_ns;
    for (const auto& p : sys::list_processes()) by_ns[p.mnt_ns].push_back(p.pid);
    for (const auto& [inode, pids] : by_ns) {
        bool read = false;
        for (pid_t pid : pids) {
            auto table = sys::process_mount_table(pid);
            if (!table) continue;
            read = true;
            for (const auto& m : *table) {
                if (m.dev != loc.dev) continue;
                const std::string root = strip_deleted(m.root);
                if (root == loc.root ||
                    (root.size() > loc.root.size() && root.compare(0, loc.root.size(), loc.root) == 0 &&
                     root[loc.root.size()] == '/'))
                    return true;
            }
            break;
        }
        // !read: every process of it exited between the listing and the read,
        // so the namespace is gone with them.
        (void)read;
    }
    return false;
}

}  // namespace polyns::cli
