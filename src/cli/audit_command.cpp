// `polyns audit`: checks the running system, one line per check (id, title,
// reference, pass / fail / n/a, evidence, fix). Judged from the parsed
// configuration, the planner's answer for each user, the parsed PAM stacks
// and the live mount tables: never from regular expressions over text.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "host_files.hpp"
#include "output.hpp"
#include "polyns/pam_service.hpp"
#include "polyns/sys/admin_ops.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/mountinfo.hpp"
#include "polyns/sys/path.hpp"
#include "world.hpp"

namespace polyns::cli {
namespace {

using Json = nlohmann::ordered_json;

struct AuditRequest {
    std::string config_file;
    std::string profile = "all";
    std::string pam_dir = "/etc/pam.d";
    int host_pid = 1;
    bool json = false;
};

enum class Verdict { Pass, Fail, NotApplicable };
const char* verdict_name(Verdict v) { return v == Verdict::Pass ? "pass" : v == Verdict::Fail ? "fail" : "n/a"; }

struct Check {
    std::string id;
    std::string title;
    std::string reference;
    std::vector<std::string> profiles;  // "stig", "anssi"
    Verdict verdict = Verdict::Pass;
    std::vector<std::string> evidence;
    std::string fix;
};

constexpr const char* anssi_r39 = "ANSSI BP-028 R39 (private temporary directory per account)";

void fail(Check& c, const std::string& evidence) {
    c.verdict = Verdict::Fail;
    c.evidence.push_back(evidence);
}

Check check_templates(const World& w) {
    Check c{"templates-owner-mode", "templates are root's and not writable by group or other",
            "seed A3; pam_polyns(8)", {"stig", "anssi"}, Verdict::Pass, {}, ""};
    const auto templates = shared_templates(w);
    if (templates.empty()) {
        c.verdict = Verdict::NotApplicable;
        c.evidence.push_back("the configuration names no template");
        return c;
    }
    for (const auto& t : templates) {
        auto fd = sys::open_path(t, O_PATH | O_DIRECTORY, "open template");
        if (!fd) {
            fail(c, t + ": " + fd.error().message());
            continue;
        }
        auto st = sys::stat_fd(fd->get(), "stat template", t);
        if (!st) {
            fail(c, st.error().message());
            continue;
        }
        std::string line = fmt::format("{} uid {} gid {} mode {}", t, st->st_uid, st->st_gid, octal(st->st_mode));
        if (st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
            fail(c, line);
        else
            c.evidence.push_back(line);
    }
    c.fix = "polyns setup (creates missing templates; a template of someone else's is reported, not adopted)";
    return c;
}

Check check_tmpfiles(const World& w) {
    Check c{"templates-tmpfiles", "templates are recreated at boot by tmpfiles.d and excluded from ageing",
            "systemd tmpfiles.d(5): x; seed A3", {"stig", "anssi"}, Verdict::Pass, {}, "polyns setup"};
    const auto templates = shared_templates(w);
    if (templates.empty()) {
        c.verdict = Verdict::NotApplicable;
        c.evidence.push_back("the configuration names no template");
        return c;
    }
    const auto lines = read_tmpfiles();
    for (const auto& t : templates) {
        auto tf = tmpfiles_for(lines, t);
        if (!tf.ok())
            fail(c, t + ": " + tf.problem());
        else
            c.evidence.push_back(fmt::format("{}: {}:{} and {}:{}", t, tf.create->file, tf.create->line,
                                             tf.exclude->file, tf.exclude->line));
    }
    return c;
}

Check check_polydir(const World& w, const std::string& polydir, const std::string& ref) {
    Check c{"rule-" + (polydir == "/tmp" ? std::string("tmp") : std::string("var-tmp")),
            polydir + " is polyinstantiated for every interactive user (root may be excluded)", ref, {"stig", "anssi"},
            Verdict::Pass, {}, ""};
    std::size_t users = 0;
    std::vector<std::string> missing;
    for (const auto& pw : sys::list_users()) {
        if (!interactive(pw)) continue;
        ++users;
        auto it = w.plans.find(pw.uid);
        bool has = false;
        if (it != w.plans.end())
            for (const auto& s : it->second.plan.steps) has = has || s.polydir == polydir;
        if (!has) missing.push_back(pw.name);
    }
    if (users == 0) {
        c.verdict = Verdict::NotApplicable;
        c.evidence.push_back("no interactive user (uid >= 1000 with a login shell)");
        return c;
    }
    if (!missing.empty()) {
        std::string names;
        for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
        fail(c, "not polyinstantiated for: " + names + " (polyns plan USER says why)");
        c.fix = "add a rule for " + polydir + " to namespace.conf, e.g. `" + polydir + " " +
                (polydir == "/tmp" ? "/tmp/user_tmpl/%{UID}" : "/var/tmp/user_tmpl/%{UID}") + " level root`";
    } else {
        c.evidence.push_back(fmt::format("planned for all {} interactive users", users));
    }
    return c;
}

// The session stack of each service that starts user sessions.
std::vector<Check> check_pam(const AuditRequest& r) {
    std::vector<Check> out;
    struct Service {
        const char* name;
        bool required;  // checked even when the file is absent
    };
    const Service services[] = {{"sshd", false}, {"login", true},          {"su", false},
                                {"su-l", false}, {"systemd-user", false}, {"gdm-password", false},
                                {"gdm-autologin", false}};
    for (const auto& svc : services) {
        Check c{std::string("pam-") + svc.name, std::string("pam_polyns.so runs in the session stack of ") + svc.name,
                std::string(anssi_r39) + "; seed A6", {"anssi", "stig"}, Verdict::Pass, {}, ""};
        PamStack stack = read_session_stack(r.pam_dir, svc.name);
        if (!stack.exists) {
            c.verdict = Verdict::NotApplicable;
            c.evidence.push_back(r.pam_dir + "/" + svc.name + " does not exist");
            out.push_back(std::move(c));
            continue;
        }
        int polyns = -1, selinux_open = -1, systemd = -1, namespace_mod = -1;
        for (std::size_t i = 0; i < stack.session.size(); ++i) {
            const auto& u = stack.session[i];
            if (is_polyns_module(u.module) && polyns < 0) polyns = static_cast<int>(i);
            if (is_module(u, "pam_namespace") && namespace_mod < 0) namespace_mod = static_cast<int>(i);
            if (is_module(u, "pam_systemd") && systemd < 0) systemd = static_cast<int>(i);
            if (is_module(u, "pam_selinux") && std::find(u.args.begin(), u.args.end(), "open") != u.args.end())
                selinux_open = static_cast<int>(i);
        }
        auto where = [&](int i) { return fmt::format("{}:{}", stack.session[i].file, stack.session[i].line); };
        for (const auto& p : stack.problems) fail(c, p);
        if (polyns < 0) {
            fail(c, "no session line loads pam_polyns.so (includes and substacks followed)");
            c.fix = std::string(svc.name) == "systemd-user"
                        ? "add `session required pam_polyns.so` to /etc/pam.d/systemd-user (else user services see "
                          "the shared /tmp)"
                        : "polyns setup --enable-pam, or add `session required pam_polyns.so` to " + r.pam_dir + "/" +
                              svc.name;
        } else {
            c.evidence.push_back("pam_polyns.so at " + where(polyns));
            if (selinux_open > polyns) {
                fail(c, "before pam_selinux.so open (" + where(selinux_open) +
                            "): level/context would use the wrong SELinux context");
                c.fix = "move the pam_polyns.so line after `session ... pam_selinux.so open`";
            }
            if (systemd >= 0 && systemd < polyns) {
                fail(c, "after pam_systemd.so (" + where(systemd) + "): the user manager starts outside the namespace");
                c.fix = "move the pam_polyns.so line before pam_systemd.so";
            }
        }
        if (namespace_mod >= 0 && polyns >= 0) {
            fail(c, "pam_namespace.so runs too (" + where(namespace_mod) + "): both would polyinstantiate");
            c.fix = "remove the pam_namespace.so session line";
        }
        out.push_back(std::move(c));
    }
    return out;
}

Check check_selinux_boolean() {
    Check c{"selinux-polyinstantiation", "SELinux boolean polyinstantiation_enabled is on",
            "RHEL pam_namespace(8) notes", {"stig", "anssi"}, Verdict::Pass, {}, ""};
    if (!sys::selinux_is_enabled()) {
        c.verdict = Verdict::NotApplicable;
        c.evidence.push_back("SELinux is not enabled");
        return c;
    }
    auto b = sys::polyinstantiation_boolean();
    if (!b) {
        c.verdict = Verdict::NotApplicable;
        c.evidence.push_back("the policy has no polyinstantiation boolean");
    } else if (!b->on) {
        fail(c, b->name + " is off: only root can log in");
        c.fix = "setsebool -P " + b->name + " on";
    } else {
        c.evidence.push_back(b->name + " is on");
    }
    return c;
}

std::vector<Check> check_mount_options(const AuditRequest& r) {
    std::vector<Check> out;
    struct Want {
        const char* path;
        const char* option;
        unsigned long flag;
        const char* ref;
    };
    const Want wants[] = {
        {"/tmp", "noexec", MS_NOEXEC, "CCE-80844-1"},   {"/tmp", "nosuid", MS_NOSUID, "CCE-80845-8"},
        {"/tmp", "nodev", MS_NODEV, "CCE-80846-6"},     {"/var/tmp", "noexec", MS_NOEXEC, "CCE-80847-4"},
        {"/var/tmp", "nosuid", MS_NOSUID, "CCE-80847-4"}, {"/var/tmp", "nodev", MS_NODEV, "CCE-80847-4"},
        {"/dev/shm", "noexec", MS_NOEXEC, "STIG /dev/shm"}, {"/dev/shm", "nosuid", MS_NOSUID, "STIG /dev/shm"},
        {"/dev/shm", "nodev", MS_NODEV, "STIG /dev/shm"},
    };
    auto table = sys::process_mount_table(r.host_pid);
    for (const auto& want : wants) {
        std::string id = std::string("mount-") + (want.path + 1) + "-" + want.option;
        std::replace(id.begin(), id.end(), '/', '-');
        Check c{id, std::string(want.path) + " is mounted " + want.option, std::string("STIG ") + want.ref, {"stig"},
                Verdict::Pass, {}, ""};
        if (!table) {
            fail(c, table.error().message());
            out.push_back(std::move(c));
            continue;
        }
        const sys::MountEntry* top = nullptr;
        for (const auto& m : *table)
            if (m.target == want.path) top = &m;
        if (top == nullptr) {
            fail(c, std::string(want.path) + " is not a mount point (it has the options of /)");
            c.fix = fmt::format("mount {} as its own filesystem with {} (fstab, or systemd tmp.mount)", want.path,
                                want.option);
        } else if ((top->vfs_flags & want.flag) == 0) {
            fail(c, fmt::format("{} is mounted {}", want.path, top->vfs_options));
            c.fix = fmt::format("add {} to the options of {} in /etc/fstab, then mount -o remount {}", want.option,
                                want.path, want.path);
        } else {
            c.evidence.push_back(fmt::format("{} is mounted {}", want.path, top->vfs_options));
        }
        out.push_back(std::move(c));
    }
    return out;
}

std::string unit_of(const std::string& cgroup) {
    auto slash = cgroup.rfind('/');
    std::string last = slash == std::string::npos ? cgroup : cgroup.substr(slash + 1);
    if (last.size() > 8 && last.compare(last.size() - 8, 8, ".service") == 0) return last;
    return {};
}

// Services that share the host's /tmp (seed part B): a process of a systemd
// service (its cgroup names a .service unit, or its environment carries the
// INVOCATION_ID systemd gives each service run) whose /tmp is the same mount
// as the host's. The unit polyns itself runs in is not judged.
Check check_services(const AuditRequest& r) {
    Check c{"services-private-tmp", "system services do not share the host's /tmp (PrivateTmp=yes)",
            "seed B1-B5; CM-7(2)", {"stig"}, Verdict::Pass, {}, ""};
    auto host = sys::process_mount_table(r.host_pid);
    if (!host) {
        c.verdict = Verdict::NotApplicable;
        c.evidence.push_back("cannot read the host's mount table: " + host.error().message());
        return c;
    }
    auto tmp_of = [](const std::vector<sys::MountEntry>& t) -> std::pair<dev_t, std::string> {
        const sys::MountEntry* top = nullptr;
        for (const auto& m : t)
            if (m.target == "/tmp") top = &m;
        if (top == nullptr)
            for (const auto& m : t)
                if (m.target == "/") top = &m;
        return top ? std::make_pair(top->dev, top->root) : std::make_pair(dev_t(0), std::string());
    };
    const auto host_tmp = tmp_of(*host);
    const auto self = sys::list_processes();
    std::string own_cgroup, own_invocation;
    const pid_t me = ::getpid();
    for (const auto& p : self)
        if (p.pid == me) own_cgroup = p.cgroup;
    if (auto v = sys::process_environ_value(me, "INVOCATION_ID")) own_invocation = *v;
    const std::string own_unit = unit_of(own_cgroup);
    std::map<std::string, std::vector<pid_t>> sharing;  // unit -> pids
    std::size_t services = 0;
    std::map<unsigned long long, std::optional<std::pair<dev_t, std::string>>> ns_tmp;
    for (const auto& p : self) {
        if (p.pid == 1 || p.session_id) continue;
        std::string unit = unit_of(p.cgroup);
        auto invocation = sys::process_environ_value(p.pid, "INVOCATION_ID");
        if (invocation && !invocation->empty()) {
            if (*invocation == own_invocation) continue;
            if (unit.empty() || unit == own_unit) unit = "unit of INVOCATION_ID " + *invocation;
        } else if (unit.empty() || unit == own_unit) {
            continue;
        }
        ++services;
        auto it = ns_tmp.find(p.mnt_ns);
        if (it == ns_tmp.end()) {
            auto t = sys::process_mount_table(p.pid);
            it = ns_tmp.emplace(p.mnt_ns, t ? std::optional(tmp_of(*t)) : std::nullopt).first;
        }
        if (it->second && *it->second == host_tmp) sharing[unit].push_back(p.pid);
    }
    if (services == 0) {
        c.verdict = Verdict::NotApplicable;
        c.evidence.push_back("no running service process found");
        return c;
    }
    for (const auto& [unit, pids] : sharing) {
        std::string list;
        for (pid_t pid : pids) list += (list.empty() ? "" : ",") + std::to_string(pid);
        fail(c, fmt::format("{} (pid {}) uses the host's /tmp", unit, list));
    }
    if (!sharing.empty()) {
        const std::string unit = unit_of(sharing.begin()->first).empty() ? "UNIT.service" : sharing.begin()->first;
        c.fix = fmt::format("mkdir -p /etc/systemd/system/{0}.d && printf '[Service]\\nPrivateTmp=yes\\n' > "
                            "/etc/systemd/system/{0}.d/10-privatetmp.conf && systemctl daemon-reload && systemctl "
                            "restart {0}",
                            unit);
    } else {
        c.evidence.push_back(fmt::format("{} service processes, none on the host's /tmp", services));
    }
    return c;
}

Check check_outside(const World& w) {
    Check c{"sessions-outside", "no process of a covered user runs outside its session namespace",
            anssi_r39, {"anssi", "stig"}, Verdict::Pass, {}, ""};
    for (const auto& o : w.outside) {
        std::string dirs;
        for (const auto& d : o.polydirs) dirs += (dirs.empty() ? "" : ",") + d;
        fail(c, fmt::format("pid {} {} ({}) sees the shared {}", o.process.pid, o.user, o.process.comm, dirs));
    }
    if (c.verdict == Verdict::Fail)
        c.fix = "end those processes (sessions opened before the module was enabled, or jobs started outside PAM); "
                "`polyns status` lists them";
    else
        c.evidence.push_back("none (polyns status)");
    return c;
}

int run_audit(const AuditRequest& r) {
    World w = load_world({r.config_file, true, false});
    std::vector<Check> checks;
    checks.push_back(check_templates(w));
    checks.push_back(check_tmpfiles(w));
    checks.push_back(check_polydir(w, "/tmp", std::string(anssi_r39) + "; CCE-80844-1..80846-6 (compensating)"));
    checks.push_back(check_polydir(w, "/var/tmp", std::string(anssi_r39) + "; CCE-80847-4 (compensating)"));
    for (auto& c : check_pam(r)) checks.push_back(std::move(c));
    checks.push_back(check_selinux_boolean());
    for (auto& c : check_mount_options(r)) checks.push_back(std::move(c));
    checks.push_back(check_services(r));
    checks.push_back(check_outside(w));
    if (w.config.has_errors()) {
        Check c{"config", "the namespace configuration has no errors", "polyns check", {"stig", "anssi"},
                Verdict::Fail, {fmt::format("{} error(s)", w.config.error_count())}, "polyns check"};
        checks.insert(checks.begin(), std::move(c));
    }
    std::vector<const Check*> selected;
    for (const auto& c : checks)
        if (r.profile == "all" || std::find(c.profiles.begin(), c.profiles.end(), r.profile) != c.profiles.end())
            selected.push_back(&c);
    bool failed = false;
    for (const auto* c : selected) failed = failed || c->verdict == Verdict::Fail;
    const int status = failed ? exit_warnings : exit_ok;
    if (r.json) {
        Json doc;
        doc["schema"] = "polyns-audit";
        doc["schema_version"] = 1;
        doc["polyns_version"] = polyns_version();
        doc["profile"] = r.profile;
        doc["checks"] = Json::array();
        for (const auto* c : selected)
            doc["checks"].push_back({{"id", c->id}, {"title", c->title}, {"reference", c->reference},
                                     {"profiles", c->profiles}, {"result", verdict_name(c->verdict)},
                                     {"evidence", c->evidence}, {"fix", c->fix.empty() ? Json(nullptr) : Json(c->fix)}});
        std::size_t pass = 0, fails = 0, na = 0;
        for (const auto* c : selected)
            (c->verdict == Verdict::Pass ? pass : c->verdict == Verdict::Fail ? fails : na)++;
        doc["summary"] = {{"pass", pass}, {"fail", fails}, {"not_applicable", na}};
        doc["exit_status"] = status;
        print_json(doc);
        return status;
    }
    for (const auto* c : selected) {
        std::string evidence;
        for (const auto& e : c->evidence) evidence += (evidence.empty() ? "" : "; ") + e;
        put(fmt::format("{:<4} {}: {} [{}]{}{}", verdict_name(c->verdict), c->id, c->title, c->reference,
                        evidence.empty() ? "" : " -- " + evidence,
                        c->verdict == Verdict::Fail && !c->fix.empty() ? " (fix: " + c->fix + ")" : ""));
    }
    return status;
}

}  // namespace

void register_audit(CLI::App& app, int& exit_status) {
    auto request = std::make_shared<AuditRequest>();
    CLI::App* cmd = app.add_subcommand("audit", "Check the running system against STIG / ANSSI items, one line per check");
    cmd->add_flag("--json", request->json, "Print as JSON (schema polyns-audit, version 1)");
    cmd->add_option("--profile", request->profile, "stig, anssi or all (default)")
        ->check(CLI::IsMember({"stig", "anssi", "all"}));
    cmd->add_option("--config", request->config_file, "Use only this configuration file")->type_name("FILE");
    cmd->add_option("--pam-dir", request->pam_dir, "Directory of PAM service files (default /etc/pam.d)")
        ->type_name("DIR");
    cmd->add_option("--host-pid", request->host_pid,
                    "A process whose mount namespace is the host's (default 1; for containers and tests)")
        ->type_name("PID");
    cmd->callback([request, &exit_status] { exit_status = run_audit(*request); });
}

}  // namespace polyns::cli
