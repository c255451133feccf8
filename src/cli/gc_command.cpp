// `polyns gc`: removes instances of users who no longer exist, or unused for
// longer than DAYS; never one a live namespace uses, never racing a login: the
// template's lock (sys/run_state.hpp) is held exclusively from the last "is it
// mounted anywhere?" to the end of the removal, and a login holds it shared
// from opening the instance to mounting it.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <syslog.h>

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "output.hpp"
#include "polyns/persist.hpp"
#include "polyns/sys/admin_ops.hpp"
#include "polyns/sys/ns_pin.hpp"
#include "polyns/sys/credentials.hpp"
#include "polyns/sys/instance_record.hpp"
#include "polyns/sys/proc_scan.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/path.hpp"
#include "polyns/sys/remove_tree.hpp"
#include "polyns/sys/run_state.hpp"
#include "world.hpp"

namespace polyns::cli {
namespace {

using Json = nlohmann::ordered_json;

struct GcRequest {
    std::string config_file;
    bool dry_run = false;
    bool json = false;
    bool deleted_users = false;
    long older_than_days = -1;
};

struct Outcome {
    std::string path;
    uid_t uid = 0;
    std::string owner;   // user name or "uid N (deleted)"
    std::string reason;  // why it is a candidate
    std::string action;  // "removed", "would remove", "kept"
    std::string detail;
};

constexpr unsigned gc_lock_timeout_ms = 30000;

// Under the template's exclusive lock: the instance is still the one listed
// (same inode and owner), nothing mounts it anywhere, then it goes, emptied
// with its owner's rights (sys::remove_tree_as: what she could not remove
// herself stays) and the empty directory removed by root. `template_dir` is
// the template whose lock the module takes; the instance lies in
// inst.template_dir (the template, or its .polyns-moved-aside directory).
Outcome remove_one(const std::string& template_dir, const InstanceInfo& inst, const sys::Credentials& who,
                   Outcome out) {
    auto lfd = sys::open_path(template_dir, O_PATH | O_DIRECTORY, "open template");
    auto tfd = sys::open_path(inst.template_dir, O_RDONLY | O_DIRECTORY, "open template");
    if (!lfd || !tfd) {
        out.action = "kept";
        out.detail = (!lfd ? lfd.error() : tfd.error()).message();
        return out;
    }
    auto lock = sys::lock_template(lfd->get(), template_dir, sys::LockKind::Exclusive, gc_lock_timeout_ms);
    if (!lock) {
        out.action = "kept";
        out.detail = lock.error().message();
        return out;
    }
    auto fd = sys::open_below(tfd->get(), inst.entry.name, O_PATH | O_DIRECTORY, "open instance", inst.path);
    if (!fd) {
        out.action = "kept";
        out.detail = fd.error().message();
        return out;
    }
    auto st = sys::stat_fd(fd->get(), "open instance", inst.path);
    if (!st || st->st_ino != inst.entry.ino || st->st_uid != inst.entry.uid) {
        out.action = "kept";
        out.detail = "changed since it was listed";
        return out;
    }
    auto own_table = sys::read_mount_table();
    if (!own_table) {
        out.action = "kept";
        out.detail = own_table.error().message();
        return out;
    }
    auto loc = sys::fs_location(inst.path, *own_table);
    if (!loc) {
        out.action = "kept";
        out.detail = loc.error().message();
        return out;
    }
    if (mounted_anywhere(*loc)) {
        out.action = "kept";
        out.detail = "a live mount namespace uses it";
        return out;
    }
    fd = sys::UniqueFd();
    auto removed = sys::remove_tree_as(who, tfd->get(), inst.entry.name, inst.path);
    if (!removed) {
        out.action = "kept";
        out.detail = removed.error().message();
    } else if (!removed->removed_root || !removed->kept.empty()) {
        out.action = "kept";
        out.detail = fmt::format("{} entries removed, {} left that uid {} could not remove (mount points, others' "
                                 "files): look at it",
                                 removed->removed, removed->kept.size(), who.uid);
    } else {
        out.action = "removed";
        out.detail = fmt::format("{} entries, as uid {}", removed->removed, who.uid);
    }
    sys::syslog_line(out.action == "removed" ? LOG_NOTICE : LOG_WARNING,
                     fmt::format("gc {} instance {} of {} ({}): {}", out.action == "removed" ? "removed" : "kept",
                                 out.path, out.owner, out.reason, out.detail));
    return out;
}

int run_gc(GcRequest request) {
    if (!request.deleted_users && request.older_than_days < 0) request.deleted_users = true;
    World w = load_world({request.config_file, true, true});
    if (w.config.has_errors()) {
        std::fprintf(stderr, "polyns gc: the configuration has %zu error(s); run polyns check\n",
                     w.config.error_count());
        return exit_errors;
    }
    const std::time_t now = std::time(nullptr);
    std::vector<Outcome> outcomes;
    // Pinned namespaces (persist) no session holds: what the last close of a
    // crashed session could not remove. First, so what
    // only they kept mounted is free below. Under the module's lock of the user.
    std::vector<Outcome> pins;
    auto listed = list_pins();
    if (!listed) w.problems.push_back(listed.error().message());
    for (const PinStatus& p : listed ? *listed : std::vector<PinStatus>()) {
        if (p.sessions) continue;
        Outcome o;
        o.path = std::string(sys::pin_directory) + "/" + std::to_string(p.uid);
        o.uid = p.uid;
        o.owner = w.user_name(p.uid);
        o.reason = p.problem.empty() ? std::string("pinned namespace with no session left") : p.problem;
        auto removed = remove_stale_pin(p.uid, request.dry_run);
        if (!removed) {
            o.action = "kept";
            o.detail = removed.error().message();
        } else if (!*removed) {
            o.action = "kept";
            o.detail = "a session of the user opened meanwhile";
        } else {
            o.action = request.dry_run ? "would remove" : "removed";
        }
        if (!request.dry_run)
            sys::syslog_line(o.action == "removed" ? LOG_NOTICE : LOG_WARNING,
                             fmt::format("gc {} the pinned namespace of {} ({}){}", o.action, o.owner, o.reason,
                                         o.detail.empty() ? "" : ": " + o.detail));
        pins.push_back(std::move(o));
    }
    for (const auto& [tpath, t] : w.templates) {
        for (const auto& inst : t.instances) {
            // root's entries are the admin's (or root's own instance): never gc's.
            if (inst.entry.uid == 0) continue;
            Outcome o;
            o.path = inst.path;
            o.uid = inst.entry.uid;
            o.owner = inst.owner_name ? *inst.owner_name : fmt::format("uid {} (no such user)", inst.entry.uid);
            if (request.deleted_users && !inst.owner_name) {
                o.reason = "its owner no longer exists";
            } else if (request.older_than_days >= 0 && now - inst.entry.newest > request.older_than_days * 86400L) {
                o.reason = fmt::format("unchanged for more than {} days", request.older_than_days);
            } else {
                continue;
            }
            if (!inst.entry.is_dir) {
                o.action = "kept";
                o.detail = "not a directory: look at it";
            } else if (inst.in_use) {
                o.action = "kept";
                o.detail = "a live mount namespace uses it";
            } else if (request.dry_run) {
                o.action = "would remove";
            } else {
                auto who = sys::credentials_of_uid(inst.entry.uid, inst.entry.gid);
                if (!who) {
                    o.action = "kept";
                    o.detail = who.error().message();
                } else {
                    o = remove_one(tpath, inst, *who, o);
                }
            }
            outcomes.push_back(std::move(o));
        }
        // Instances the module moved aside because their uid or name now
        // belongs to another account (DESIGN invariant 15): the previous
        // account's, gone by definition. Removed with that uid and its
        // primary group only: the new account's groups are not lent to it.
        const std::string aside = tpath + "/" + sys::moved_aside_dir;
        auto entries = sys::list_template(aside, true);
        if (!entries) continue;  // none moved aside (ENOENT) or unreadable: nothing to do
        for (const auto& e : *entries) {
            if (e.uid == 0 || !e.is_dir) continue;
            InstanceInfo inst;
            inst.template_dir = aside;
            inst.path = aside + "/" + e.name;
            inst.entry = e;
            Outcome o;
            o.path = inst.path;
            o.uid = e.uid;
            o.owner = fmt::format("uid {} (a previous account)", e.uid);
            const bool old = request.older_than_days >= 0 && now - e.newest > request.older_than_days * 86400L;
            if (!request.deleted_users && !old) continue;
            o.reason = "moved aside: its uid or name was reused by another account";
            if (request.dry_run) {
                o.action = "would remove";
            } else {
                o = remove_one(tpath, inst, sys::Credentials{e.uid, e.gid, {e.gid}}, o);
            }
            outcomes.push_back(std::move(o));
        }
    }
    bool failed = false;
    for (const auto& o : outcomes)
        if (o.action == "kept" && o.detail != "a live mount namespace uses it") failed = true;
    for (const auto& o : pins)
        if (o.action == "kept" && o.detail != "a session of the user opened meanwhile") failed = true;
    const int status = failed ? exit_warnings : exit_ok;
    if (request.json) {
        Json doc;
        doc["schema"] = "polyns-gc";
        doc["schema_version"] = 1;
        doc["polyns_version"] = polyns_version();
        doc["dry_run"] = request.dry_run;
        doc["instances"] = Json::array();
        for (const auto& o : outcomes)
            doc["instances"].push_back({{"path", o.path}, {"uid", o.uid}, {"owner", o.owner}, {"reason", o.reason},
                                        {"action", o.action}, {"detail", o.detail}});
        doc["pins"] = Json::array();
        for (const auto& o : pins)
            doc["pins"].push_back({{"path", o.path}, {"uid", o.uid}, {"owner", o.owner}, {"reason", o.reason},
                                   {"action", o.action}, {"detail", o.detail}});
        doc["problems"] = w.problems;
        doc["exit_status"] = status;
        print_json(doc);
        return status;
    }
    for (const auto& o : pins)
        put(fmt::format("{} pin {} of {} ({}){}", o.action, o.path, o.owner, o.reason,
                        o.detail.empty() ? "" : ": " + o.detail));
    for (const auto& o : outcomes)
        put(fmt::format("{} {} of {} ({}){}", o.action, o.path, o.owner, o.reason,
                        o.detail.empty() ? "" : ": " + o.detail));
    if (outcomes.empty() && pins.empty()) put("nothing to remove");
    if (!listed) put("problem: " + listed.error().message());
    return status;
}

}  // namespace

void register_gc(CLI::App& app, int& exit_status) {
    auto request = std::make_shared<GcRequest>();
    CLI::App* cmd = app.add_subcommand(
        "gc", "Remove instances of deleted users or unused for DAYS; never one in use or being mounted");
    cmd->add_flag("--dry-run", request->dry_run, "Print what would be removed");
    cmd->add_flag("--json", request->json, "Print as JSON (schema polyns-gc, version 1)");
    cmd->add_flag("--deleted-users", request->deleted_users,
                  "Remove instances whose owner no longer exists (the default when no criterion is given)");
    cmd->add_option("--older-than", request->older_than_days, "Remove instances unchanged for more than DAYS days")
        ->type_name("DAYS")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--config", request->config_file, "Use only this configuration file")->type_name("FILE");
    cmd->callback([request, &exit_status] { exit_status = run_gc(*request); });
}

}  // namespace polyns::cli
