// apply_plan: DESIGN.md's engine. Order matters:
//   1. nothing for an empty plan. A multithreaded caller (gdm-session-worker
//      and its GLib threads) is served as pam_namespace.so serves it: only the
//      calling thread moves (unshare also gives it its own fs context, so
//      setns back works), and what it forks inherits the namespace;
//   2. keep fds of the original namespace, root and cwd; unshare; / slave or private;
//   3. unmnt_remnt/unmnt_only, or a nested session (the caller sits in an
//      earlier session's view): detach the previous instances (in the new namespace);
//   4. pin every polydir, template, instance and script by fd (invariant 11);
//   5. mount each step, then run its init script;
//   any failure after 2 undoes what was done and setns()es back; if even
//   that fails, the error says so (and, when the caller must not go on,
//   Error::caller_unsafe: see Rollback::undo).
#include <sys/stat.h>

#include <memory>
#include <new>

#include "pinned_step.hpp"
#include "polyns/engine.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/mount.hpp"
#include "polyns/sys/mountinfo.hpp"
#include "polyns/sys/namespace.hpp"
#include "polyns/sys/path.hpp"
#include "polyns/sys/process.hpp"
#include "rollback.hpp"

namespace polyns {
namespace {

using engine::PinnedStep;
using engine::Rollback;

// mntopts= may carry per-mount flags in the fs option string too: split them
// out with libmount so the flags go where flags go.
Result<std::pair<unsigned long, std::string>> tmpfs_options(const MountStep& step) {
    auto parsed = sys::parse_mount_options(step.fs_options);
    if (!parsed) return parsed.error();
    unsigned long flags = step.mount_flags | (parsed->flags & sys::supported_mount_flags);
    if ((parsed->flags & ~sys::supported_mount_flags) != 0)
        return make_error("mount tmpfs", step.polydir, "", EINVAL,
                          "unsupported mount flags in options '" + step.fs_options + "'");
    return std::make_pair(flags, parsed->fs_data);
}

Result<std::shared_ptr<sys::UniqueFd>> mount_step(const PinnedStep& pinned) {
    const MountStep& step = *pinned.step;
    Result<sys::UniqueFd> root = sys::UniqueFd();
    if (step.kind == MountKind::Bind) {
        root = sys::bind_mount(pinned.instance_fd.get(), pinned.polydir_fd.get(), step.mount_flags,
                               pinned.instance_path, step.polydir);
    } else {
        auto options = tmpfs_options(step);
        if (!options) return options.error();
        root = sys::mount_tmpfs(pinned.polydir_fd.get(), options->first, options->second, step.polydir);
    }
    if (!root) return root.error();
    return std::make_shared<sys::UniqueFd>(std::move(*root));
}

std::string flags_text(unsigned long flags) {
    std::string out;
    auto add = [&](unsigned long bit, const char* name) {
        if (flags & bit) out += std::string(out.empty() ? "" : ",") + name;
    };
    add(MS_NOSUID, "nosuid");
    add(MS_NODEV, "nodev");
    add(MS_NOEXEC, "noexec");
    add(MS_RDONLY, "ro");
    return out.empty() ? "" : " (" + out + ")";
}

Result<SessionState> open_in_new_namespace(const Plan& plan, bool nested, Rollback& rollback, Log& log) {
    SessionState state;
    state.user = plan.identity.user;
    state.namespace_changed = true;
    state.unmount_on_close = plan.unmount_on_close;

    auto propagation = plan.mount_private ? sys::Propagation::Private : sys::Propagation::Slave;
    if (auto r = sys::set_namespace_propagation(propagation); !r) return r.error();
    log.debug(std::string("made / recursively ") + (plan.mount_private ? "private" : "slave"));

    if (plan.unmount_previous || plan.unmount_only || nested) {
        auto unmounted = engine::unmount_previous(plan, log);
        if (!unmounted) return unmounted.error();
        state.unmounted_previous = std::move(*unmounted);
        if (!state.unmounted_previous.empty()) rollback.unmounted_previous();
        if (plan.unmount_only || plan.steps.empty()) return state;
    }

    // Pin everything before the first mount. Each mount point on the way is
    // crossed and judged once for all steps (the scope ends before mounting).
    std::vector<PinnedStep> pinned;
    pinned.reserve(plan.steps.size());
    {
        sys::CrossedMountScope crossed_mounts;
        engine::InitScripts scripts;
        for (const MountStep& step : plan.steps) {
            auto p = engine::pin_step(plan, step, rollback, scripts, log);
            if (!p) return engine::for_polydir(p.error(), step.polydir);
            pinned.push_back(std::move(*p));
        }
    }

    log.debug(std::string("mount backend: ") + sys::mount_backend_name(sys::effective_mount_backend()));
    for (PinnedStep& p : pinned) {
        const MountStep& step = *p.step;
        auto root = mount_step(p);
        if (!root) return engine::for_polydir(root.error(), step.polydir);
        rollback.mounted(*root, step.polydir);
        log.debug("mounted " + p.instance_path + " on " + step.polydir + flags_text(step.mount_flags));

        if (p.script_fd) {
            sys::InitScriptFacts facts{step.polydir, p.instance_path, p.instance_created, plan.identity.user,
                                       plan.selinux, step.kind == MountKind::Bind ? p.instance_fd.get() : -1};
            if (auto r = sys::run_init_script(p.script_fd->get(), p.script_path, facts, plan.init_timeout_seconds); !r)
                return engine::for_polydir(r.error(), step.polydir);
            log.debug("ran init script " + p.script_path + " for " + step.polydir);
        }

        MountedPolydir m;
        m.polydir = step.polydir;
        m.instance = p.instance_path;
        m.kind = step.kind;
        m.created = p.instance_created;
        m.remove_on_close = step.instance_kind == InstanceKind::Unique;
        m.template_dir = step.template_dir;
        m.instance_name = p.instance_name;
        m.owner_uid = plan.identity.uid;
        m.owner_gid = plan.identity.gid;
        m.template_fd = p.template_fd;
        m.mount_root_fd = *root;
        state.mounted.push_back(std::move(m));
    }
    return state;
}

}  // namespace

Result<SessionState> apply_plan(const Plan& plan, Log& log) {
    // A nested session (su - bob, sudo -i, runuser -l from inside alice's
    // session) starts from alice's view: her instances sit on the polydirs,
    // and a template below one of them would be looked up inside her
    // instance. Such a session detaches them first, as unmnt_remnt does.
    bool nested = false;
    if (!plan.unmount_previous && !plan.unmount_only && (!plan.steps.empty() || !plan.skipped.empty())) {
        auto inside = engine::inside_earlier_session(plan);
        if (!inside) return inside.error();
        nested = *inside;
    }
    if (plan.empty() && !nested) {
        SessionState state;
        state.user = plan.identity.user;
        log.debug("nothing to polyinstantiate for " + plan.identity.user + "; namespace unchanged");
        return state;
    }
    if (nested) log.debug("the caller is inside an earlier session: its polydir mounts are detached first");
    if (auto r = engine::validate_plan(plan); !r) return r.error();

    auto original_ns = sys::open_mount_namespace();
    if (!original_ns) {
        // SELinux policies that do not let the login domain read nsfs files
        // (Debian 12's refpolicy denies local_login_t): go on without the way
        // back. A failure then removes the session's mounts from the copy,
        // which the caller stays in (as when setns back fails).
        if (!plan.selinux || original_ns.error().err != EACCES) return original_ns.error();
        log.debug("cannot keep the original mount namespace (" + original_ns.error().message() +
                  "); a failure leaves the caller in a copy of it without the session's mounts");
        original_ns = sys::UniqueFd();
    }
    auto dirs = sys::ProcessDirs::save();
    if (!dirs) return dirs.error();
    if (auto r = sys::unshare_mount_namespace(); !r) return r.error();
    // Nothing that can throw between unshare and the journal that undoes it:
    // from here on an exception (std::bad_alloc) unwinds through ~Rollback.
    Rollback rollback(std::move(*original_ns), std::move(*dirs), log);
    // Room for every action up front, so recording one never fails after the
    // thing it records was done.
    rollback.reserve(3 * plan.steps.size());
    log.debug("unshared the mount namespace");
    auto state = open_in_new_namespace(plan, nested, rollback, log);
    if (!state) {
        Error error = std::move(state.error());
        const Rollback::Outcome undone = rollback.undo();
        error.caller_unsafe = undone.caller_unsafe;
        // One LOG_ERR line: the cause, then what the way back could not undo
        // (out of memory, the warnings the rollback logged say it).
        if (!undone.problems.empty()) {
            try {
                error.detail += (error.detail.empty() ? "" : "; ") + std::string("rollback failed: ") + undone.problems;
            } catch (const std::bad_alloc&) {
            }
        }
        return error;
    }
    rollback.commit();
    return state;
}

}  // namespace polyns
