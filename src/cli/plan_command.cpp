// `polyns plan USER`: the Plan pam_polyns.so would execute for USER, made by
// the same code from the same inputs (configuration, NSS identity, module
// arguments from the service's PAM stack), so what the admin sees is what the
// module does.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "host_files.hpp"
#include "polyns/config.hpp"
#include "polyns/options.hpp"
#include "polyns/pam_service.hpp"
#include "polyns/plan.hpp"
#include <fcntl.h>
#include <sys/stat.h>

#include "polyns/sys/admin_ops.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/mountinfo.hpp"
#include "polyns/sys/path.hpp"
#include "polyns/sys/selinux.hpp"
#include "polyns/sys/trusted_file.hpp"
#include "polyns/sys/users.hpp"
#include "polyns_build_config.h"


namespace polyns::cli {
namespace {

using Json = nlohmann::ordered_json;

struct PlanRequest {
    std::string user;
    std::string service;  // empty: default module options
    std::string config_file;
    std::string pam_dir = "/etc/pam.d";
    bool json = false;
    bool skip_trust_check = false;
    bool config_only = false;
    std::string selinux_context;  // the user's context as pam_selinux would set it
};

// Where the module arguments came from, for the header line.
struct ModuleArgs {
    std::vector<std::string> args;
    std::string origin;  // "/etc/pam.d/login:12" or "defaults (no --service)"
    bool pam_selinux_open_before = false;  // a session pam_selinux.so (open) line comes first
};

bool selinux_enabled() { return sys::selinux::enabled(); }  // same test as the module's

// What `polyns plan` takes as the user's context where the module would ask
// pam_selinux's exec context: --selinux-context, else the default context of
// the user (what pam_selinux open computes for a login without a requested
// level).
class PlanSelinuxContexts final : public SelinuxContexts {
public:
    PlanSelinuxContexts(const std::string& user, const Options& options, std::string given)
        : system_(user, options.use_current_context   ? sys::selinux::UserContextSource::Current
                        : options.use_default_context ? sys::selinux::UserContextSource::Default
                        : given.empty()               ? sys::selinux::UserContextSource::Default
                                                      : sys::selinux::UserContextSource::Exec),
          given_(std::move(given)),
          exec_(!options.use_current_context && !options.use_default_context) {}
    Result<std::string> user_context() const override {
        if (exec_ && !given_.empty()) return given_;
        return system_.user_context();
    }
    Result<std::string> polydir_context(const std::string& polydir, bool will_create) const override {
        return system_.polydir_context(polydir, will_create);
    }
    Result<std::string> member_context(const std::string& user, const std::string& dir) const override {
        return system_.member_context(user, dir);
    }
    Result<std::string> create_context(const std::string& polydir) const override {
        return system_.create_context(polydir);
    }

private:
    sys::selinux::SystemContexts system_;
    std::string given_;
    bool exec_;
};

// The first session line loading pam_polyns.so is the one that runs: the stack
// as libpam reads it (includes and substacks followed, /usr/lib/pam.d where
// /etc/pam.d has no such file), the same reading audit and setup use.
Result<std::optional<ModuleArgs>> find_module_line(const std::string& pam_dir, const std::string& service) {
    const PamStack stack = read_session_stack(pam_dir, service);
    bool selinux_open_seen = false;
    for (const PamModuleUse& u : stack.session) {
        if (is_pam_selinux_open(u)) selinux_open_seen = true;
        if (is_polyns_module(u.module))
            return std::optional<ModuleArgs>{ModuleArgs{u.args, u.file + ":" + std::to_string(u.line), selinux_open_seen}};
    }
    if (!stack.exists)
        return make_error("read PAM service file", service.front() == '/' ? service : pam_dir + "/" + service, "open",
                          ENOENT, "");
    if (!stack.problems.empty())
        return make_error("read PAM service", service, "", 0, stack.problems.front());
    return std::optional<ModuleArgs>{};
}

std::string octal(mode_t mode) { return fmt::format("{:04o}", static_cast<unsigned>(mode)); }

std::vector<std::string> flag_words(unsigned long flags) {
    std::vector<std::string> words;
    if (flags & MS_NOSUID) words.emplace_back("nosuid");
    if (flags & MS_NODEV) words.emplace_back("nodev");
    if (flags & MS_NOEXEC) words.emplace_back("noexec");
    return words;
}

std::string joined(const std::vector<std::string>& items, std::string_view sep = ", ") {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += sep;
        out += item;
    }
    return out;
}

std::string where(const SourceLoc& loc) {
    return loc.line == 0 ? loc.file : fmt::format("{}:{}", loc.file, loc.line);
}

// The instance's SELinux label: computed (level/context), or the polydir's,
// read now for display (the module reads it from the pinned polydir).
std::string label_text(const MountStep& s) {
    const SelinuxLabel& l = *s.selinux;
    if (!l.instance_context.empty())
        return fmt::format("{} (polydir {}, user {})", l.instance_context, l.polydir_context, l.user_context);
    auto polydir = sys::selinux::path_context(s.polydir);
    return fmt::format("the polydir's ({})", polydir ? polydir.value() : std::string("not readable now"));
}

std::string_view kind_name(const MountStep& s) {
    return s.kind == MountKind::Tmpfs ? "tmpfs" : "bind";
}

std::string instance_text(const MountStep& s) {
    switch (s.instance_kind) {
    case InstanceKind::Named: return s.instance;
    case InstanceKind::Unique:
        return (s.template_dir == "/" ? "" : s.template_dir) + "/" + s.instance_name +
               "XXXXXX (new for each session, removed at close)";
    case InstanceKind::None: return "a new tmpfs";
    }
    return {};
}

std::string owner_text(const MountStep& s, const Identity& who) {
    if (s.instance_kind == InstanceKind::None) return "-";
    if (s.mirror_polydir) return "mirror of polydir (instance_mode=mirror)";
    const std::string user =
        s.instance_owner.uid == who.uid ? fmt::format("{}({})", who.user, who.uid)
                                        : std::to_string(s.instance_owner.uid);
    return fmt::format("{}:{} mode {}", user, s.instance_owner.gid, octal(s.instance_owner.mode));
}

std::string init_text(const MountStep& s) {
    if (!s.init_script) return "none (noinit)";
    return *s.init_script + (s.init_script_if_exists ? " (if it exists)" : "");
}

std::string create_text(const MountStep& s) {
    if (!s.create_polydir) return "no";
    const auto& c = *s.create_polydir;
    return fmt::format("if missing: {}:{} mode {}", c.uid, c.gid,
                       c.mode ? octal(*c.mode) : std::string("0777 & ~umask"));
}

// Rules dropped by the parser, as the planner never sees them.
std::vector<SkippedRule> config_error_lines(const Config& config) {
    std::vector<SkippedRule> out;
    std::set<std::pair<std::string, unsigned>> seen;
    for (const auto& d : config.diagnostics) {
        if (d.severity != Severity::Error || d.loc.line == 0) continue;
        if (!seen.insert({d.loc.file, d.loc.line}).second) continue;
        SkippedRule s;
        s.polydir = "(rule not parsed)";
        s.reason = "config error on this line: " + d.message;
        s.source = d.loc;
        out.push_back(std::move(s));
    }
    return out;
}

Json step_json(const MountStep& s) {
    Json owner = nullptr;
    if (s.instance_kind != InstanceKind::None && !s.mirror_polydir) {
        owner = {{"uid", s.instance_owner.uid},
                 {"gid", s.instance_owner.gid},
                 {"mode", octal(s.instance_owner.mode)}};
    }
    Json create = nullptr;
    if (s.create_polydir) {
        create = {{"uid", s.create_polydir->uid},
                  {"gid", s.create_polydir->gid},
                  {"mode", s.create_polydir->mode ? Json(octal(*s.create_polydir->mode))
                                                  : Json(nullptr)}};
    }
    const char* instance_kind = s.instance_kind == InstanceKind::Named    ? "named"
                                : s.instance_kind == InstanceKind::Unique ? "unique"
                                                                          : "none";
    return {
        {"polydir", s.polydir},
        {"method", method_name(s.method)},
        {"kind", kind_name(s)},
        {"instance_kind", instance_kind},
        {"template", s.template_dir.empty() ? Json(nullptr) : Json(s.template_dir)},
        {"instance_name", s.instance_kind == InstanceKind::None ? Json(nullptr) : Json(s.instance_name)},
        {"instance", s.instance.empty() ? Json(nullptr) : Json(s.instance)},
        {"mirror_polydir", s.mirror_polydir},
        {"owner", owner},
        {"create_polydir", create},
        {"mount_flags", flag_words(s.mount_flags)},
        {"tmpfs_options", s.fs_options},
        {"init_script", s.init_script ? Json(*s.init_script) : Json(nullptr)},
        {"init_script_if_exists", s.init_script_if_exists},
        {"user_controlled_root", s.user_controlled_root.empty() ? Json(nullptr) : Json(s.user_controlled_root)},
        {"selinux", s.selinux ? Json{{"instance_context", s.selinux->instance_context.empty()
                                                              ? Json(nullptr)
                                                              : Json(s.selinux->instance_context)},
                                     {"polydir_context", s.selinux->polydir_context.empty()
                                                             ? Json(nullptr)
                                                             : Json(s.selinux->polydir_context)},
                                     {"user_context", s.selinux->user_context.empty()
                                                          ? Json(nullptr)
                                                          : Json(s.selinux->user_context)},
                                     {"label_from_polydir", s.selinux->instance_context.empty()}}
                              : Json(nullptr)},
        {"source", {{"file", s.source.file}, {"line", s.source.line}}},
    };
}

Json skipped_json(const SkippedRule& s) {
    return {{"polydir", s.polydir},
            {"reason", s.reason},
            {"source", {{"file", s.source.file}, {"line", s.source.line}}}};
}

Json diagnostic_json(const Diagnostic& d) {
    return {{"severity", d.severity == Severity::Error ? "error" : "warning"},
            {"location", {{"file", d.loc.file}, {"line", d.loc.line}, {"column", d.loc.col}}},
            {"message", d.message},
            {"text", d.text},
            {"hint", d.hint},
            {"formatted", format_diagnostic(d)}};
}

void put(const std::string& line) {
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
}

// Everything one run found out, printed as text or JSON.
struct PlanReport {
    std::string user;
    std::optional<Identity> identity;
    ModuleArgs module_args;
    Options options;
    Config config;
    bool config_read = false;
    std::optional<Plan> plan;
    std::vector<SkippedRule> config_skipped;
    std::vector<std::string> verdicts;  // why the module would refuse the session
    std::map<std::string, std::vector<std::string>> disk;  // polydir -> what is on disk now
    std::map<std::string, unsigned long> effective_flags;  // polydir -> flags the mount will have
    std::map<std::string, std::string> flags_origin;       // polydir -> "inherited from ..."
    std::optional<Error> error;          // planning / lookup failed
    int exit_status = exit_ok;
};

// Rules the parser dropped and rules the planner skipped, in file order.
std::vector<SkippedRule> all_skipped(const PlanReport& r) {
    std::vector<SkippedRule> out = r.config_skipped;
    if (r.plan) out.insert(out.end(), r.plan->skipped.begin(), r.plan->skipped.end());
    auto file_index = [&r](const std::string& file) {
        const auto it = std::find(r.config.files.begin(), r.config.files.end(), file);
        return static_cast<std::size_t>(it - r.config.files.begin());
    };
    std::stable_sort(out.begin(), out.end(), [&](const SkippedRule& a, const SkippedRule& b) {
        const auto fa = file_index(a.source.file);
        const auto fb = file_index(b.source.file);
        return fa != fb ? fa < fb : a.source.line < b.source.line;
    });
    return out;
}


// The on-disk state the session will meet, judged as the engine does
// (src/engine/pin.cpp): a missing or someone else's template, an instance of
// the wrong owner or mode, a symlink where the instance should be: each one
// fails every login, so `plan` says so and exits 2 with the fix.
void inspect_disk(PlanReport& r, const MountStep& s, const std::vector<sys::MountEntry>* table) {
    std::vector<std::string>& facts = r.disk[s.polydir];
    auto refuse = [&](const std::string& why) {
        r.verdicts.push_back(s.polydir + ": " + why);
        facts.push_back("REFUSED: " + why);
    };
    auto poly = sys::open_path(s.polydir, O_PATH | O_DIRECTORY, "open polydir");
    if (!poly && !(poly.error().err == ENOENT && s.create_polydir))
        refuse(poly.error().message() + (poly.error().err == ENOENT ? " (fix: create it, or add create= to its rule)" : ""));
    unsigned long flags = s.mount_flags;
    if (s.kind == MountKind::Tmpfs) {
        r.effective_flags[s.polydir] = flags;
        r.flags_origin[s.polydir] = "a new tmpfs: only the rule's flags";
        return;
    }
    {
        auto tfd = sys::open_path(s.template_dir, O_PATH | O_DIRECTORY, "open template");
        if (!tfd) {
            refuse(tfd.error().message() +
                   (tfd.error().err == ENOENT ? " (fix: polyns setup, or mkdir -m 0755 " + s.template_dir + ")" : ""));
        } else if (auto st = sys::stat_fd(tfd->get(), "stat template", s.template_dir); st) {
            facts.push_back(fmt::format("template {} uid {} gid {} mode {}", s.template_dir, st->st_uid, st->st_gid,
                                        octal(st->st_mode & 07777)));
            if (st->st_uid != 0)
                refuse(fmt::format("template {} is owned by uid {}, not root (fix: check who made it; chown root:root {})",
                                   s.template_dir, st->st_uid, s.template_dir));
            else if (!r.plan->ignore_instance_parent_mode && (st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
                refuse(fmt::format("template {} has mode {}: writable by group or other (fix: chmod 0755 {})",
                                   s.template_dir, octal(st->st_mode & 07777), s.template_dir));
            if (s.instance_kind == InstanceKind::Named) {
                auto ifd = sys::open_below(tfd->get(), s.instance_name, O_PATH, "open instance", s.instance);
                if (!ifd && ifd.error().err == ENOENT) {
                    facts.push_back("instance " + s.instance + " does not exist yet: the first session creates it");
                } else if (!ifd) {
                    refuse(ifd.error().message() + " (fix: remove " + s.instance + "; the next session recreates it)");
                } else if (auto ist = sys::stat_fd(ifd->get(), "stat instance", s.instance); ist) {
                    std::string label = sys::file_label(s.instance);
                    facts.push_back(fmt::format("instance {} exists: uid {} gid {} mode {}{}", s.instance, ist->st_uid,
                                                ist->st_gid, octal(ist->st_mode & 07777),
                                                label.empty() ? "" : " label " + label));
                    if (!S_ISDIR(ist->st_mode))
                        refuse("instance " + s.instance + " is not a directory (fix: remove it)");
                    else if (!s.mirror_polydir &&
                             (ist->st_uid != s.instance_owner.uid || ist->st_gid != s.instance_owner.gid ||
                              (ist->st_mode & 07777) != (s.instance_owner.mode & 07777)))
                        refuse(fmt::format("instance {} is {}:{} mode {}, the module expects {}:{} mode {} (fix: chown "
                                           "{}:{} {} && chmod {} {}, or remove it if it is not the user's)",
                                           s.instance, ist->st_uid, ist->st_gid, octal(ist->st_mode & 07777),
                                           s.instance_owner.uid, s.instance_owner.gid, octal(s.instance_owner.mode),
                                           s.instance_owner.uid, s.instance_owner.gid, s.instance,
                                           octal(s.instance_owner.mode), s.instance));
                }
            }
        }
    }
    // A bind mount keeps the per-mount flags of the mount it is taken from
    // (both mount backends), and the rule's flags are added on top.
    if (table != nullptr) {
        const sys::MountEntry* best = nullptr;
        const std::string& path = s.template_dir;
        for (const auto& m : *table) {
            const bool prefix = m.target == "/" || (path.compare(0, m.target.size(), m.target) == 0 &&
                                                    (path.size() == m.target.size() || path[m.target.size()] == '/'));
            if (prefix && (best == nullptr || m.target.size() >= best->target.size())) best = &m;
        }
        if (best != nullptr) {
            flags |= best->vfs_flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY);
            r.flags_origin[s.polydir] = "inherited from the mount on " + best->target + " (" + best->vfs_options + ")" +
                                        (s.mount_flags ? " plus the rule's mntopts" : "");
        }
    }
    r.effective_flags[s.polydir] = flags;
}

void print_text(const PlanReport& r) {
    for (const auto& d : r.config.diagnostics) put(format_diagnostic(d));

    if (r.identity) {
        const Identity& who = *r.identity;
        put(fmt::format("plan for {} (uid {}, gid {}, home {}, groups {})", who.user, who.uid,
                        who.gid, who.home, joined(who.group_names, ",")));
    } else {
        put(fmt::format("plan for {}", r.user));
    }
    const std::vector<std::string> args = options_to_args(r.options);
    put(fmt::format("module arguments: {} ({})", args.empty() ? "none" : joined(args, " "),
                    r.module_args.origin));
    for (const auto& u : r.options.unknown) put("  unknown module argument ignored: " + u);
    for (const auto& i : r.options.invalid) put("  invalid module argument, default kept: " + i);
    if (r.config_read) {
        put("configuration: " + (r.config.files.empty() ? std::string("no files")
                                                         : joined(r.config.files)));
    }

    if (r.plan) {
        const Plan& p = *r.plan;
        if (p.steps.empty()) {
            put("no polydir is polyinstantiated for " + p.identity.user +
                (p.empty() ? ": the session keeps the host's namespace" : ""));
        }
        for (const auto& s : p.steps) {
            put("");
            put(fmt::format("{}  ({})", s.polydir, where(s.source)));
            const bool user_fallback = (s.method == Method::Level || s.method == Method::Context) && !s.selinux;
            put(fmt::format("  method         {}{}", method_name(s.method),
                            user_fallback ? " (instances named as by the user method)" : ""));
            put(fmt::format("  kind           {}", kind_name(s)));
            if (s.instance_kind != InstanceKind::None) put("  template       " + s.template_dir);
            put("  instance       " + instance_text(s));
            put("  owner, mode    " + owner_text(s, p.identity));
            if (s.selinux) put("  label          " + label_text(s));
            if (s.create_polydir) put("  create polydir " + create_text(s));
            const auto eff = r.effective_flags.find(s.polydir);
            const auto flags = flag_words(eff != r.effective_flags.end() ? eff->second : s.mount_flags);
            const auto origin = r.flags_origin.find(s.polydir);
            put("  mount flags    " + (flags.empty() ? std::string("-") : joined(flags, ",")) +
                (origin != r.flags_origin.end() ? " (" + origin->second + ")" : ""));
            if (auto d = r.disk.find(s.polydir); d != r.disk.end())
                for (const auto& fact : d->second) put("  on disk        " + fact);
            if (s.kind == MountKind::Tmpfs) {
                put("  tmpfs options  " + (s.fs_options.empty() ? std::string("-") : s.fs_options));
            }
            put("  init script    " + init_text(s));
            if (!s.user_controlled_root.empty()) {
                put("  user-controlled below " + s.user_controlled_root + " (walked by fd)");
            }
        }
        const std::vector<SkippedRule> skipped = all_skipped(r);
        if (!skipped.empty()) {
            put("");
            put("skipped:");
            for (const auto& s : skipped) {
                put(fmt::format("  {}  ({}): {}", s.polydir, where(s.source), s.reason));
            }
        }
        std::vector<std::string> flags;
        if (p.mount_private) flags.emplace_back("mount_private: / is made private, not slave");
        if (p.unmount_previous) flags.emplace_back("unmnt_remnt: polydirs of the previous session are unmounted first");
        if (p.unmount_only) flags.emplace_back("unmnt_only: polydirs are only unmounted, nothing is mounted");
        if (p.unmount_on_close) flags.emplace_back("unmount_on_close: polydirs are unmounted at close");
        if (p.persist)
            flags.emplace_back(std::string("persist: later sessions of the user join her pinned namespace") +
                               (p.persist_clean ? "; her instances are cleaned after her last session" : ""));
        if (p.ignore_instance_parent_mode) flags.emplace_back("ignore_instance_parent_mode: template modes are not checked (owners are)");
        if (!p.steps.empty()) flags.push_back(fmt::format("init scripts time out after {} s", p.init_timeout_seconds));
        if (!p.notices.empty() || !flags.empty()) {
            put("");
            put("notices:");
            for (const auto& n : p.notices) put("  " + n);
            for (const auto& f : flags) put("  " + f);
        }
    }
    for (const auto& v : r.verdicts) {
        put("");
        put("the module would refuse this session: " + v);
    }
    if (r.error) {
        put("");
        put("error: " + r.error->message());
    }
    std::fflush(stdout);
}

void print_json(const PlanReport& r) {
    Json doc;
    doc["polyns_version"] = POLYNS_VERSION;
    doc["user"] = r.user;
    if (r.identity) {
        doc["identity"] = {{"user", r.identity->user},
                           {"uid", r.identity->uid},
                           {"gid", r.identity->gid},
                           {"home", r.identity->home},
                           {"groups", r.identity->group_names}};
    } else {
        doc["identity"] = nullptr;
    }
    doc["module_arguments"] = {{"args", options_to_args(r.options)},
                               {"origin", r.module_args.origin},
                               {"unknown", r.options.unknown},
                               {"invalid", r.options.invalid}};
    doc["config"] = {{"files", r.config.files}, {"diagnostics", Json::array()}};
    for (const auto& d : r.config.diagnostics) doc["config"]["diagnostics"].push_back(diagnostic_json(d));
    doc["steps"] = Json::array();
    doc["skipped"] = Json::array();
    for (const auto& s : all_skipped(r)) doc["skipped"].push_back(skipped_json(s));
    if (r.plan) {
        const Plan& p = *r.plan;
        for (const auto& s : p.steps) {
            Json step = step_json(s);
            const auto eff = r.effective_flags.find(s.polydir);
            step["rule_mount_flags"] = step["mount_flags"];
            if (eff != r.effective_flags.end()) step["mount_flags"] = flag_words(eff->second);
            const auto origin = r.flags_origin.find(s.polydir);
            step["mount_flags_origin"] = origin != r.flags_origin.end() ? Json(origin->second) : Json(nullptr);
            const auto d = r.disk.find(s.polydir);
            step["on_disk"] = d != r.disk.end() ? Json(d->second) : Json::array();
            doc["steps"].push_back(std::move(step));
        }
        doc["notices"] = p.notices;
        doc["flags"] = {{"mount_private", p.mount_private},
                        {"unmount_previous", p.unmount_previous},
                        {"unmount_only", p.unmount_only},
                        {"unmount_on_close", p.unmount_on_close},
                        {"persist", p.persist},
                        {"persist_clean", p.persist_clean},
                        {"ignore_instance_parent_mode", p.ignore_instance_parent_mode},
                        {"init_timeout_seconds", p.init_timeout_seconds}};
        doc["namespace_changes"] = !p.empty();
    } else {
        doc["notices"] = Json::array();
        doc["flags"] = nullptr;
        doc["namespace_changes"] = nullptr;
    }
    doc["refused"] = r.verdicts;
    doc["error"] = r.error ? Json(r.error->message()) : Json(nullptr);
    doc["exit_status"] = r.exit_status;
    put(doc.dump(2, ' ', false, Json::error_handler_t::replace));
    std::fflush(stdout);
}

// With SELinux on, level/context instances take the user's context from the
// exec context pam_selinux open sets: without that line before pam_polyns
// (and without use_*_context) the module fails the session.
void check_pam_selinux_order(PlanReport& r) {
    if (r.module_args.pam_selinux_open_before || r.options.use_current_context || r.options.use_default_context)
        return;
    for (const auto& s : r.plan->steps) {
        if (s.method != Method::Level && s.method != Method::Context) continue;
        r.verdicts.push_back(fmt::format(
            "{} uses method {}, which needs the user's SELinux context, but no `session ... pam_selinux.so open` "
            "line comes before pam_polyns.so ({}): put it first, or add use_default_context",
            s.polydir, method_name(s.method), r.module_args.origin));
        return;
    }
}

int run_plan(const PlanRequest& request) {
    PlanReport r;
    r.user = request.user;

    if (request.service.empty()) {
        r.module_args.origin = "defaults: no --service given";
    } else {
        r.module_args.origin = "service " + request.service + " not read";
        auto found = find_module_line(request.pam_dir, request.service);
        if (!found) {
            r.error = found.error();
        } else if (!found.value()) {
            r.error = make_error("find pam_polyns.so in service", request.service, "", 0,
                                 "no session line loads pam_polyns.so (includes followed)",
                                 "add `session required pam_polyns.so` to " + request.pam_dir +
                                     "/" + request.service);
        } else {
            r.module_args = *found.value();
        }
    }
    std::vector<const char*> argv;
    for (const auto& a : r.module_args.args) argv.push_back(a.c_str());
    r.options = parse_options(static_cast<int>(argv.size()), argv.data());

    if (!r.error) {
        LoadOptions load = default_load_options();
        if (!request.config_file.empty()) {
            load.only_file = request.config_file;
        } else if (r.options.conf) {
            load.only_file = *r.options.conf;
        }
        if (request.skip_trust_check) load.check_trust = false;
        r.config = load_config(load);
        r.config_read = true;
        r.config_skipped = config_error_lines(r.config);
        if (r.config.has_errors() && !r.options.ignore_config_error) {
            r.verdicts.push_back(fmt::format(
                "the configuration has {} error(s) and the module option ignore_config_error "
                "is not set (the plan shown is what it would do with that option)",
                r.config.error_count()));
        }

        const bool selinux = selinux_enabled();
        auto identity = sys::lookup_identity(request.user);
        if (!identity) {
            r.error = identity.error();
        } else {
            r.identity = identity.value();
            const sys::NssNameResolver names;
            std::optional<PlanSelinuxContexts> contexts;
            if (selinux) contexts.emplace(request.user, r.options, request.selinux_context);
            PlanContext context;
            context.security_dir = load.security_dir;
            context.selinux_enabled = selinux;
            context.selinux = contexts ? &*contexts : nullptr;
            auto plan = make_plan(r.config, *r.identity, r.options, names, context);
            if (plan) {
                r.plan = std::move(plan.value());
                if (!request.config_only) {
                    auto table = sys::read_mount_table();
                    for (const auto& step : r.plan->steps)
                        inspect_disk(r, step, table ? &table.value() : nullptr);
                }
                if (selinux && !request.service.empty()) check_pam_selinux_order(r);
            } else {
                r.error = plan.error();
            }
        }
    }

    r.exit_status = (r.error || !r.verdicts.empty()) ? exit_errors : exit_ok;
    if (request.json) {
        print_json(r);
    } else {
        print_text(r);
    }
    return r.exit_status;
}

}  // namespace

void register_plan(CLI::App& app, int& exit_status) {
    auto request = std::make_shared<PlanRequest>();

    CLI::App* plan = app.add_subcommand(
        "plan", "Show what pam_polyns.so would create and mount for USER, and why polydirs are skipped");
    plan->add_option("USER", request->user, "The user whose session to plan")->required();
    plan->add_option("--service", request->service,
                     "Take the module arguments from the pam_polyns.so session line of this "
                     "PAM service (includes and substacks followed)")
        ->type_name("SERVICE");
    plan->add_option("--config", request->config_file,
                     "Use only this configuration file (as the module option conf=)")
        ->type_name("FILE");
    plan->add_option("--pam-dir", request->pam_dir,
                     "Directory of PAM service files (default /etc/pam.d)")
        ->type_name("DIR");
    plan->add_flag("--json", request->json, "Print the plan as JSON");
    plan->add_flag("--config-only", request->config_only,
                   "Plan from the configuration alone: do not look at templates, instances and mounts on this host "
                   "(for drafts and other machines' files)");
    plan->add_option("--selinux-context", request->selinux_context,
                     "With SELinux on: the user's context as pam_selinux would set it (default: the "
                     "user's default context)")
        ->type_name("CONTEXT");
    plan->add_flag("--skip-trust-check", request->skip_trust_check,
                   "Do not require configuration files to be root-owned and not "
                   "group/other-writable (pam_polyns.so always checks)");
    plan->callback([request, &exit_status] { exit_status = run_plan(*request); });
}

}  // namespace polyns::cli
