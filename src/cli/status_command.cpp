// `polyns status [USER]`: the live truth from /proc and the mount tables:
// which namespaces have polydirs polyinstantiated, which processes of covered
// users run outside them, the instances on disk, and a user's last failure.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "output.hpp"
#include "polyns/persist.hpp"
#include "polyns/sys/run_state.hpp"
#include "polyns/sys/users.hpp"
#include "world.hpp"

namespace polyns::cli {
namespace {

using Json = nlohmann::ordered_json;

struct StatusRequest {
    std::string user;
    std::string config_file;
    bool json = false;
};

std::string sizes(unsigned long long bytes) {
    const char* units[] = {"B", "K", "M", "G", "T"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    return u == 0 ? fmt::format("{}B", bytes) : fmt::format("{:.1f}{}", v, units[u]);
}

Json process_json(const sys::ProcessInfo& p, const World& w) {
    return {{"pid", p.pid},
            {"uid", p.uid},
            {"user", w.user_name(p.uid)},
            {"comm", p.comm},
            {"session_id", p.session_id ? Json(*p.session_id) : Json(nullptr)},
            {"cgroup", p.cgroup}};
}

std::string process_text(const sys::ProcessInfo& p, const World& w) {
    return fmt::format("pid {} {} ({}){}", p.pid, w.user_name(p.uid), p.comm,
                       p.session_id ? fmt::format(" session {}", *p.session_id) : std::string());
}

int run_status(const StatusRequest& request) {
    std::optional<uid_t> only;
    if (!request.user.empty()) {
        auto who = sys::lookup_identity(request.user, sys::GroupNames::Skip);
        if (!who) {
            std::fprintf(stderr, "polyns status: %s\n", who.error().message().c_str());
            return exit_errors;
        }
        only = who->uid;
    }
    World w = load_world({request.config_file, true, true});
    auto wanted_proc = [&](const sys::ProcessInfo& p) { return !only || p.uid == *only; };

    std::vector<const SessionNamespace*> namespaces;
    for (const auto& ns : w.namespaces) {
        bool keep = !only || ns.users.count(request.user) != 0;
        for (const auto& p : ns.processes) keep = keep || wanted_proc(p);
        if (keep) namespaces.push_back(&ns);
    }
    std::vector<const OutsideProcess*> outside;
    for (const auto& o : w.outside)
        if (wanted_proc(o.process)) outside.push_back(&o);
    std::optional<sys::LastFailure> failure;
    if (only) {
        auto f = sys::read_last_failure(request.user);
        if (f) failure = *f;
        else w.problems.push_back(f.error().message());
    }
    // persist: the pinned namespaces (checked as far as can be without
    // joining them; the rules and mounts are checked at the next login).
    std::vector<PinStatus> pins;
    if (auto listed = list_pins(); listed) {
        for (auto& p : *listed)
            if (!only || p.uid == *only) pins.push_back(std::move(p));
    } else {
        w.problems.push_back(listed.error().message());
    }
    const int status = outside.empty() ? exit_ok : exit_warnings;

    if (request.json) {
        Json doc;
        doc["schema"] = "polyns-status";
        doc["schema_version"] = 1;
        doc["polyns_version"] = polyns_version();
        doc["user"] = only ? Json(request.user) : Json(nullptr);
        doc["namespaces"] = Json::array();
        for (const auto* ns : namespaces) {
            Json n = {{"inode", ns->inode}, {"users", ns->users}, {"processes", Json::array()},
                      {"polydirs", Json::array()}};
            for (const auto& p : ns->processes) n["processes"].push_back(process_json(p, w));
            for (const auto& m : ns->mounts)
                n["polydirs"].push_back({{"polydir", m.polydir},
                                         {"kind", m.kind},
                                         {"instance", m.instance},
                                         {"owner", m.owner ? Json(w.user_name(*m.owner)) : Json(nullptr)},
                                         {"mount_options", m.vfs_options},
                                         {"fs_options", m.fs_options}});
            doc["namespaces"].push_back(std::move(n));
        }
        doc["outside"] = Json::array();
        for (const auto* o : outside) {
            Json p = process_json(o->process, w);
            p["unprotected_polydirs"] = o->polydirs;
            doc["outside"].push_back(std::move(p));
        }
        doc["templates"] = Json::array();
        for (const auto& [path, t] : w.templates) {
            Json tj = {{"path", path}, {"error", t.error ? Json(*t.error) : Json(nullptr)}, {"instances", Json::array()}};
            for (const auto& i : t.instances) {
                if (only && i.entry.uid != *only) continue;
                tj["instances"].push_back({{"path", i.path},
                                           {"uid", i.entry.uid},
                                           {"owner", i.owner_name ? Json(*i.owner_name) : Json(nullptr)},
                                           {"mode", octal(i.entry.mode)},
                                           {"directory", i.entry.is_dir},
                                           {"bytes", i.entry.bytes},
                                           {"last_change", iso_time(i.entry.newest)},
                                           {"in_use", i.in_use},
                                           {"user_exists", i.owner_name.has_value()},
                                           {"expected", i.expected}});
            }
            doc["templates"].push_back(std::move(tj));
        }
        doc["pins"] = Json::array();
        for (const auto& p : pins)
            doc["pins"].push_back({{"uid", p.uid},
                                   {"user", w.user_name(p.uid)},
                                   {"pinned", p.pinned},
                                   {"inode", p.ns ? Json(p.ns->ino) : Json(nullptr)},
                                   {"age_seconds", p.age_seconds >= 0 ? Json(p.age_seconds) : Json(nullptr)},
                                   {"sessions", p.sessions},
                                   {"processes", p.processes},
                                   {"valid", p.problem.empty() && p.pinned},
                                   {"problem", p.problem.empty() ? Json(nullptr) : Json(p.problem)}});
        if (failure) {
            doc["last_failure"] = {{"time", iso_time(failure->when)}, {"service", failure->service},
                                   {"message", failure->line}};
        } else {
            doc["last_failure"] = nullptr;
        }
        doc["problems"] = w.problems;
        doc["exit_status"] = status;
        print_json(doc);
        return status;
    }

    put(fmt::format("session namespaces with polyinstantiated directories: {}", namespaces.size()));
    for (const auto* ns : namespaces) {
        std::string users;
        for (const auto& u : ns->users) users += (users.empty() ? "" : ",") + u;
        put(fmt::format("mnt:[{}] user {}", ns->inode, users.empty() ? "?" : users));
        for (const auto& m : ns->mounts)
            put(fmt::format("  {} <- {} ({}; {})", m.polydir, m.instance, m.kind, m.vfs_options));
        for (const auto& p : ns->processes) put("  " + process_text(p, w));
    }
    put("");
    put(fmt::format("processes of covered users outside any session namespace: {}", outside.size()));
    for (const auto* o : outside) {
        std::string dirs;
        for (const auto& d : o->polydirs) dirs += (dirs.empty() ? "" : ", ") + d;
        put("  " + process_text(o->process, w) + " sees the shared " + dirs);
    }
    put("");
    put(fmt::format("pinned namespaces (persist): {}", pins.size()));
    for (const auto& p : pins)
        put(fmt::format("  {} mnt:[{}] pinned {}, {}, {}: {}", w.user_name(p.uid), p.ns ? std::to_string(p.ns->ino) : "?",
                        p.age_seconds >= 0 ? fmt::format("{}s ago", p.age_seconds) : std::string("(no record)"),
                        p.sessions ? "sessions open" : "no session open",
                        p.processes ? "processes in it" : "no process in it",
                        !p.problem.empty() ? "broken (" + p.problem + "; the next login replaces it)"
                        : p.sessions ? "valid"
                                                   : "valid, stale (polyns gc removes it)"));
    put("");
    put("instances:");
    for (const auto& [path, t] : w.templates) {
        put("  " + path + (t.error ? ": " + *t.error : std::string()));
        for (const auto& i : t.instances) {
            if (only && i.entry.uid != *only) continue;
            put(fmt::format("    {}  {} {} {}  changed {}  {}{}", i.entry.name,
                            i.owner_name ? *i.owner_name : fmt::format("uid {} (no such user)", i.entry.uid),
                            octal(i.entry.mode), sizes(i.entry.bytes), iso_time(i.entry.newest),
                            i.in_use ? "in use" : "unused", i.expected ? "" : ", not the owner's planned instance"));
        }
    }
    if (only) {
        put("");
        if (failure)
            put(fmt::format("last failure of {}: {} service {}: {}", request.user, iso_time(failure->when),
                            failure->service, failure->line));
        else
            put("last failure of " + request.user + ": none recorded");
    }
    for (const auto& p : w.problems) put("problem: " + p);
    return status;
}

}  // namespace

void register_status(CLI::App& app, int& exit_status) {
    auto request = std::make_shared<StatusRequest>();
    CLI::App* cmd = app.add_subcommand(
        "status", "Show live session namespaces, processes outside them, instances on disk");
    cmd->add_option("USER", request->user, "Only this user's namespaces, processes, instances and last failure");
    cmd->add_option("--config", request->config_file, "Use only this configuration file")->type_name("FILE");
    cmd->add_flag("--json", request->json, "Print as JSON (schema polyns-status, version 1)");
    cmd->callback([request, &exit_status] { exit_status = run_status(*request); });
}

}  // namespace polyns::cli
