// make_plan: rules, in order, become MountSteps or SkippedRules. Pure: every
// fact about the system comes in through Identity, NameResolver and PlanContext.
#include <charconv>
#include <string>

#include "expand.hpp"
#include "mount_options.hpp"
#include "naming.hpp"
#include "selinux_naming.hpp"
#include "polyns/plan.hpp"
#include "user_list.hpp"

namespace polyns {
namespace {

using planner::Expansion;

std::string where(const SourceLoc& loc) {
    if (loc.line == 0) return loc.file;
    return loc.file + ":" + std::to_string(loc.line);
}

// Every planning error names the rule's line, so the admin can find it.
Error rule_error(const Rule& rule, const std::string& polydir, Error e) {
    e.polydir = polydir.empty() ? rule.polydir : polydir;
    const std::string at = where(rule.loc);
    if (!at.empty()) e.detail = e.detail.empty() ? "rule at " + at : e.detail + " (rule at " + at + ")";
    return e;
}

Error rule_error(const Rule& rule, const std::string& polydir, std::string step, std::string path,
                 std::string detail, std::string hint) {
    return rule_error(rule, polydir,
                      make_error(std::move(step), std::move(path), "", 0, std::move(detail),
                                 std::move(hint)));
}

template <typename Id>
std::optional<Id> parse_numeric_id(const std::string& text) {
    Id id{};
    const char* first = text.data();
    const char* last = first + text.size();
    auto [end, ec] = std::from_chars(first, last, id);
    if (text.empty() || ec != std::errc{} || end != last) return std::nullopt;
    if (id == static_cast<Id>(-1)) return std::nullopt;  // (uid_t)-1 means "no id" to chown
    return id;
}

Result<PolydirCreate> resolve_create(const Rule& rule, const std::string& polydir,
                                     const CreateFlag& flag, const Identity& who,
                                     const NameResolver& names) {
    PolydirCreate create;
    create.mode = flag.mode;
    create.uid = who.uid;
    create.gid = who.gid;
    // Names first, as Linux-PAM (getpwnam/getgrnam) reads them; a number that
    // names no one is taken as an id (a polyns extension).
    if (flag.owner) {
        std::optional<uid_t> uid = names.uid_of(*flag.owner);
        if (!uid) uid = parse_numeric_id<uid_t>(*flag.owner);
        if (!uid) {
            return rule_error(rule, polydir, "resolve create= owner", *flag.owner,
                              "no such user", "name an existing user or a numeric uid");
        }
        create.uid = *uid;
        // Linux-PAM: an owner without a group gets the owner's primary group.
        if (!flag.group) {
            if (auto gid = names.primary_gid_of(*flag.owner)) create.gid = *gid;
        }
    }
    if (flag.group) {
        std::optional<gid_t> gid = names.gid_of(*flag.group);
        if (!gid) gid = parse_numeric_id<gid_t>(*flag.group);
        if (!gid) {
            return rule_error(rule, polydir, "resolve create= group", *flag.group,
                              "no such group", "name an existing group or a numeric gid");
        }
        create.gid = *gid;
    }
    return create;
}

Result<std::optional<std::string>> resolve_init_script(const Rule& rule,
                                                       const std::string& polydir,
                                                       const PlanContext& context,
                                                       bool& if_exists) {
    if_exists = false;
    if (rule.noinit) return std::optional<std::string>{};
    if (!rule.iscript || rule.iscript->empty()) {
        if_exists = true;
        return std::optional<std::string>{context.security_dir + "/namespace.init"};
    }
    std::string path = *rule.iscript;
    if (path.front() != '/') path = context.security_dir + "/namespace.d/" + path;
    auto normal = planner::normalize_path(path, "init script path");
    if (!normal) return rule_error(rule, polydir, normal.error());
    return std::optional<std::string>{normal.value()};
}

// Configurations that cannot work, or would put a polydir among instances:
// refused with the line, never guessed around. Templates may lie under another
// rule's polydir: the engine pins every template before the first mount
// (DESIGN invariant 11).
Result<void> check_step_against_plan(const Rule& rule, const MountStep& step,
                                     const std::vector<MountStep>& earlier) {
    const std::string& p = step.polydir;
    const bool has_template = step.instance_kind != InstanceKind::None;
    if (p == "/") {
        return rule_error(rule, p, "polyinstantiate", p, "the root directory cannot be a polydir",
                          "name the directory to polyinstantiate, e.g. /tmp");
    }
    // Covering /proc (or part of it) takes away what the module itself works
    // through (/proc/self/fd for mounts and unmounts, /proc/self/ns, init
    // scripts run via /proc/self/fd/3): a failed open could not even be
    // rolled back by fd, and every program in the session would break.
    if (planner::is_same_or_below(p, "/proc")) {
        return rule_error(rule, p, "polyinstantiate", p,
                          "/proc cannot be a polydir: the module and every program in the session "
                          "need the kernel's /proc there",
                          "remove this rule");
    }
    if (has_template && planner::is_same_or_below(p, step.template_dir)) {
        return rule_error(rule, p, "polyinstantiate", p,
                          "the polydir is, or lies inside, its own instance parent " +
                              step.template_dir +
                              ": polydirs and instances must not share a directory",
                          "keep instances under a dedicated root-owned directory, e.g. " +
                              (p == "/tmp" ? std::string("/tmp/user_tmpl/%{UID}")
                                           : p + "/user_tmpl/%{UID}"));
    }
    if (step.instance_kind == InstanceKind::Named && planner::is_same_or_below(p, step.instance)) {
        return rule_error(rule, p, "polyinstantiate", p,
                          "the polydir lies inside its own instance " + step.instance,
                          "choose an instance prefix outside the polydir");
    }
    for (const auto& other : earlier) {
        const std::string other_at = " (" + where(other.source) + ")";
        if (other.instance_kind != InstanceKind::None && p == other.template_dir) {
            return rule_error(rule, p, "polyinstantiate", p,
                              "the polydir is the instance parent of polydir " + other.polydir +
                                  other_at,
                              "keep instance parents and polydirs apart");
        }
        if (has_template && step.template_dir == other.polydir) {
            return rule_error(rule, p, "polyinstantiate", p,
                              "the instance parent " + step.template_dir +
                                  " is itself a polydir" + other_at,
                              "keep instance parents and polydirs apart");
        }
        if (planner::is_same_or_below(p, other.polydir)) {
            return rule_error(rule, p, "polyinstantiate", p,
                              "the polydir lies inside polydir " + other.polydir + other_at +
                                  ", whose instance replaces it once mounted",
                              "polyinstantiate only the outer directory");
        }
        if (planner::is_same_or_below(other.polydir, p)) {
            return rule_error(rule, p, "polyinstantiate", p,
                              "the polydir contains polydir " + other.polydir + other_at +
                                  ", which its mount would hide",
                              "polyinstantiate only the outer directory");
        }
    }
    return {};
}

// SELinux labels of a step, as pam_namespace's form_context() computes them.
// level/context need the user's context: without one (no pam_selinux open
// before the module, no use_*_context) the session fails, as with
// pam_namespace; user/tmpdir only copy the polydir's label (read by the
// engine from the pinned polydir).
Result<SelinuxLabel> selinux_label(const Rule& rule, const std::string& polydir, Method method,
                                   const Identity& who, const SelinuxContexts& selinux) {
    SelinuxLabel label;
    if (rule.create) {
        auto created = selinux.create_context(polydir);
        if (!created) return created.error();
        label.create_context = created.value();
    }
    if (method != Method::Level && method != Method::Context) return label;
    auto user = selinux.user_context();
    if (!user) {
        Error e = user.error();
        e.detail = (e.detail.empty() ? "" : e.detail + "; ") + "method " + std::string(method_name(method)) +
                   " names and labels " + who.user + "'s instance by her SELinux context";
        if (e.hint.empty())
            e.hint = "put 'session required pam_selinux.so open' before pam_polyns.so in the PAM stack "
                     "(or add use_default_context / use_current_context)";
        return e;
    }
    auto dir = selinux.polydir_context(polydir, rule.create.has_value());
    if (!dir) return dir.error();
    label.user_context = user.value();
    label.polydir_context = dir.value();
    if (method == Method::Level) {
        label.instance_context = planner::level_context(label.polydir_context, label.user_context);
    } else {
        auto member = selinux.member_context(label.user_context, label.polydir_context);
        if (!member) return member.error();
        label.instance_context = member.value();
    }
    return label;
}

struct RuleOutcome {
    std::optional<MountStep> step;
    std::optional<SkippedRule> skipped;
};

Result<RuleOutcome> plan_rule(const Rule& rule, const Identity& who, const Options& options,
                              const NameResolver& names, const PlanContext& context,
                              const std::vector<MountStep>& earlier,
                              std::vector<std::string>& notices) {
    RuleOutcome outcome;

    // The user list first: an excluded user must never fail on a rule that is
    // not theirs (say, a $HOME expansion that does not work for them).
    const planner::UserListDecision decision = planner::decide_user_list(rule, who, names);
    if (!decision.applies) {
        SkippedRule s;
        s.polydir = rule.polydir;
        if (auto e = planner::expand_variables(rule.polydir, who)) {
            if (auto n = planner::normalize_path(e->text, "polydir")) s.polydir = n.value();
        }
        s.reason = decision.reason;
        s.source = rule.loc;
        outcome.skipped = std::move(s);
        return outcome;
    }

    auto polydir_exp = planner::expand_variables(rule.polydir, who);
    if (!polydir_exp) return rule_error(rule, "", polydir_exp.error());
    auto polydir = planner::normalize_path(polydir_exp->text, "polydir");
    if (!polydir) return rule_error(rule, polydir_exp->text, polydir.error());

    MountStep step;
    step.polydir = polydir.value();
    step.method = rule.method;
    step.source = rule.loc;

    for (const auto& other : earlier) {
        if (other.polydir == step.polydir) {
            // Linux-PAM would mount both, the later over the earlier; polyns
            // keeps the first so one polydir has exactly one instance.
            SkippedRule s;
            s.polydir = step.polydir;
            s.reason = "polydir already planned by " + where(other.source) +
                       " (the first rule for a polydir wins)";
            s.source = rule.loc;
            outcome.skipped = std::move(s);
            return outcome;
        }
    }

    Method effective = rule.method;
    const bool by_context = effective == Method::Level || effective == Method::Context;
    if (by_context && context.selinux == nullptr) {
        if (rule.shared) {
            // poly_name() returns PAM_IGNORE for shared instances without an
            // SELinux context: the polydir is left alone.
            SkippedRule s;
            s.polydir = step.polydir;
            s.reason = "shared " + std::string(method_name(effective)) +
                       " instances need SELinux contexts, and SELinux is off or not built in "
                       "(pam_namespace skips it too)";
            s.source = rule.loc;
            outcome.skipped = std::move(s);
            return outcome;
        }
        notices.push_back(where(rule.loc) + ": method " + std::string(method_name(effective)) +
                          " for " + step.polydir + " uses the user method: SELinux is off or not built in");
        effective = Method::User;
    }

    std::optional<SelinuxLabel> label;
    if (context.selinux != nullptr && effective != Method::Tmpfs) {
        auto l = selinux_label(rule, step.polydir, effective, who, *context.selinux);
        if (!l) return rule_error(rule, step.polydir, l.error());
        label = std::move(l.value());
    }

    Expansion prefix_exp;
    if (effective != Method::Tmpfs) {
        auto e = planner::expand_variables(rule.instance_prefix, who);
        if (!e) return rule_error(rule, step.polydir, e.error());
        prefix_exp = std::move(e.value());
    }

    switch (effective) {
    case Method::Level:
    case Method::Context: {
        // pam_namespace: "<raw context>_<user>" ("<raw context>" if shared),
        // then gen_hash / the 80-character rule.
        auto loc = prefix_exp.names_instance
                       ? planner::locate_named_instance(
                             planner::parent_dir(prefix_exp.text) + "/" +
                                 planner::explicit_instance_name(planner::base_name(prefix_exp.text), effective,
                                                                 label->instance_context),
                             true, who.user, false)
                       : planner::locate_named_instance(
                             prefix_exp.text, false,
                             planner::context_differentiation(label->instance_context, who.user, rule.shared),
                             options.gen_hash);
        if (!loc) return rule_error(rule, step.polydir, loc.error());
        label->check_existing = prefix_exp.names_instance;
        step.kind = MountKind::Bind;
        step.instance_kind = InstanceKind::Named;
        step.template_dir = loc->template_dir;
        step.instance_name = loc->instance_name;
        step.instance = loc->instance;
        break;
    }
    case Method::User: {
        auto loc = planner::locate_named_instance(prefix_exp.text, prefix_exp.names_instance,
                                                  who.user, options.gen_hash);
        if (!loc) return rule_error(rule, step.polydir, loc.error());
        if (prefix_exp.names_instance && options.gen_hash) {
            notices.push_back(where(rule.loc) + ": gen_hash does not rename " +
                              loc->instance + ": the instance prefix names it explicitly");
        }
        step.kind = MountKind::Bind;
        step.instance_kind = InstanceKind::Named;
        step.template_dir = loc->template_dir;
        step.instance_name = loc->instance_name;
        step.instance = loc->instance;
        break;
    }
    case Method::Tmpdir: {
        auto loc = planner::locate_unique_instance(prefix_exp.text);
        if (!loc) return rule_error(rule, step.polydir, loc.error());
        step.kind = MountKind::Bind;
        step.instance_kind = InstanceKind::Unique;
        step.template_dir = loc->template_dir;
        step.instance_name = loc->instance_name;
        break;
    }
    case Method::Tmpfs:
        step.kind = MountKind::Tmpfs;
        step.instance_kind = InstanceKind::None;
        break;
    }
    step.selinux = std::move(label);

    if (options.instance_mode == InstanceMode::Mirror) {
        step.mirror_polydir = true;
    }
    // (uid_t)-1 / (gid_t)-1 mean "leave unchanged" to chown(2): the instance
    // would stay root's (or root's group) while the plan says the user's.
    if (who.uid == static_cast<uid_t>(-1) || who.gid == static_cast<gid_t>(-1)) {
        return rule_error(rule, step.polydir, "polyinstantiate for", who.user,
                          "uid " + std::to_string(who.uid) + " / gid " + std::to_string(who.gid) +
                              ": 4294967295 is (uid_t)-1, which chown reads as 'no change'",
                          "give the user a valid uid and primary gid");
    }
    step.instance_owner = Ownership{who.uid, who.gid, 0700};

    if (rule.create) {
        auto create = resolve_create(rule, step.polydir, *rule.create, who, names);
        if (!create) return create.error();
        step.create_polydir = create.value();
    }

    planner::MountOptions mount_options;
    if (rule.mntopts) {
        auto mo = planner::parse_mount_options(*rule.mntopts, step.kind);
        if (!mo) return rule_error(rule, step.polydir, mo.error());
        mount_options = std::move(mo.value());
    }
    if (step.kind == MountKind::Tmpfs) planner::apply_tmpfs_defaults(mount_options);
    step.mount_flags = mount_options.flags;
    step.fs_options = std::move(mount_options.fs_options);

    bool if_exists = false;
    auto script = resolve_init_script(rule, step.polydir, context, if_exists);
    if (!script) return script.error();
    step.init_script = script.value();
    step.init_script_if_exists = if_exists;

    if (polydir_exp->uses_home || (effective != Method::Tmpfs && prefix_exp.uses_home)) {
        step.user_controlled_root = who.home;
    }

    if (auto checked = check_step_against_plan(rule, step, earlier); !checked) {
        return checked.error();
    }
    outcome.step = std::move(step);
    return outcome;
}

}  // namespace

Result<Plan> make_plan(const Config& config, const Identity& who, const Options& options,
                       const NameResolver& names, const PlanContext& context) {
    if (options.require_selinux && !context.selinux_enabled) {
        return make_error("open session for", who.user, "", 0,
                          "the require_selinux option is set but SELinux is disabled",
                          "enable SELinux or drop require_selinux from the PAM line");
    }

    Plan plan;
    plan.identity = who;
    plan.mount_private = options.mount_private;
    plan.unmount_previous = options.unmnt_remnt;
    plan.unmount_only = options.unmnt_only;
    plan.unmount_on_close = options.unmount_on_close;
    plan.ignore_instance_parent_mode = options.ignore_instance_parent_mode;
    plan.init_timeout_seconds = options.init_timeout_seconds;
    plan.selinux = context.selinux != nullptr;

    for (const Rule& rule : config.rules) {
        auto outcome = plan_rule(rule, who, options, names, context, plan.steps, plan.notices);
        if (!outcome) {
            if (!options.ignore_config_error) return outcome.error();
            // Linux-PAM's ignore_config_error skips a line it cannot use (it
            // resolves create= names while parsing); a rule that cannot be
            // planned for this user is such a line.
            const std::string why = outcome.error().message();
            plan.notices.push_back(why + "; rule skipped (ignore_config_error)");
            plan.skipped.push_back(SkippedRule{rule.polydir, "configuration error (ignore_config_error): " + why, rule.loc});
            continue;
        }
        if (outcome->step) plan.steps.push_back(std::move(*outcome->step));
        if (outcome->skipped) plan.skipped.push_back(std::move(*outcome->skipped));
    }
    return plan;
}

}  // namespace polyns
