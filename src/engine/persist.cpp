// persist: join the user's pinned namespace, or build one and pin it; at the
// last close, remove the pin. See polyns/persist.hpp and pam_polyns(8).
//
// Every decision about a user's pin is taken under UID.lock: a session that
// joins is in the namespace (a live process) before a closing session counts
// them, and a closing session removes the pin before a later one looks.
#include "polyns/persist.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "polyns/sys/cpu_placement.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/namespace.hpp"
#include "polyns/sys/path.hpp"
#include "polyns/sys/process.hpp"
#include "polyns/sys/remove_tree.hpp"

namespace polyns {
namespace {


std::string record_name(const std::string& pin) { return pin + sys::pin_record_suffix; }
// The session count of the namespace `ns` pinned for `pin`.
std::string live_name(const std::string& pin, const sys::NamespaceId& ns) {
    return pin + ".live." + std::to_string(ns.ino);
}


// Why the pin cannot be joined; empty when there is no pin at all.
struct JoinOutcome {
    std::optional<SessionState> state;
    std::string why_not;
};

std::vector<MountedPolydir> described_mounts(const Plan& plan) {
    std::vector<MountedPolydir> out;
    for (const MountStep& step : plan.steps) {
        MountedPolydir m;
        m.polydir = step.polydir;
        m.kind = step.kind;
        m.instance = step.kind == MountKind::Tmpfs ? "tmpfs" : step.instance;
        out.push_back(std::move(m));
    }
    return out;
}

std::shared_ptr<PersistLink> make_link(const Plan& plan, const sys::NamespaceId& ns,
                                       std::shared_ptr<sys::UniqueFd> outer) {
    auto link = std::make_shared<PersistLink>();
    link->uid = plan.identity.uid;
    link->gid = plan.identity.gid;
    link->ns = ns;
    link->outer_ns = std::move(outer);
    link->clean = plan.persist_clean;
    for (const MountStep& step : plan.steps) {
        if (step.kind == MountKind::Bind && step.instance_kind == InstanceKind::Named)
            link->instances.push_back({step.template_dir, step.instance_name});
    }
    return link;
}

// Whether a session of the user is open in another namespace of hers (one a
// config edit replaced, whose sessions still use the same instances).
bool sessions_elsewhere(int dir_fd, const std::string& pin, const sys::NamespaceId& ns) {
    auto names = sys::directory_names(dir_fd);
    if (!names) return true;  // unknown: as if there were
    const std::string prefix = pin + ".live.";
    for (const std::string& name : *names) {
        if (name.compare(0, prefix.size(), prefix) != 0 || name == live_name(pin, ns)) continue;
        auto held = sys::sessions_held(dir_fd, name);
        if (!held || *held) return true;
    }
    return false;
}

// Counts this session (UID.live) while UID.lock is held. Without the hold the
// session is still right: its close then asks /proc whether it is the last.
void hold_session(SessionState& state, int dir_fd, const std::string& pin, Log& log) {
    auto live = sys::hold_session(dir_fd, live_name(pin, state.persist->ns));
    if (!live) {
        log.warning("persist: " + live.error().message() + "; the session is counted from /proc when it closes");
        return;
    }
    state.persist->live = std::make_shared<sys::UniqueFd>(std::move(*live));
}

// After setns() into the pin: each polydir must still show the very mount the
// record names (same mount id, same root directory). A user's FUSE mount on a
// polydir, an instance unmounted from inside, a directory swapped under $HOME:
// all differ here.
std::string mounts_differ(const Plan& plan, const PinRecord& record) {
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
        const MountStep& step = plan.steps[i];
        auto fd = sys::open_path(step.polydir, O_PATH | O_DIRECTORY, "check the pinned namespace");
        if (!fd) return step.polydir + ": " + fd.error().message();
        auto pos = sys::mount_position(fd->get(), "check the pinned namespace", step.polydir);
        if (!pos) return step.polydir + ": " + pos.error().message();
        // An instance removed meanwhile (polyns gc, an admin) stays mounted as
        // a deleted directory where nothing can be created: not joinable.
        auto st = sys::stat_fd(fd->get(), "check the pinned namespace", step.polydir);
        if (!st) return step.polydir + ": " + st.error().message();
        if (st->st_nlink == 0) return step.polydir + ": its instance was removed";
        const PinRecord::Mounted& want = record.mounts[i];
        if (!pos->mount_id_known || !pos->is_mount_root || pos->mount_id != want.mount_id || pos->dev != want.dev ||
            pos->ino != want.ino)
            return step.polydir + " no longer has the instance mounted that the namespace was built with";
    }
    return {};
}

// Result: an Error only when the process could not get back to where it was
// (caller_unsafe); otherwise a state (joined) or the reason it did not join.
Result<JoinOutcome> try_join(const Plan& plan, int dir_fd, const std::string& pin, const std::string& key,
                             const std::shared_ptr<sys::UniqueFd>& outer, Log& log) {
    JoinOutcome out;
    auto text = sys::read_small_file(dir_fd, record_name(pin), kMaxRecordSize);
    if (!text) {
        out.why_not = text.error().message();
        return out;
    }
    auto pin_fd = sys::open_pinned_namespace(dir_fd, pin);
    if (!*text) {
        if (!pin_fd && pin_fd.error().err == ENOENT) return out;  // nothing pinned: the first session
        out.why_not = "the pin has no record";
        return out;
    }
    if (!pin_fd) {
        out.why_not = pin_fd.error().err == ENOENT ? "the record has no pin" : pin_fd.error().message();
        return out;
    }
    auto record = parse_pin_record(**text);
    if (!record) {
        out.why_not = record.error().message();
        return out;
    }
    if (record->key != key) {
        out.why_not = "the rules, module options or identity that apply to the user changed since it was built";
        return out;
    }
    auto id = sys::namespace_id(pin_fd->get());
    if (!id) {
        out.why_not = id.error().message();
        return out;
    }
    if (*id != record->ns || record->mounts.size() != plan.steps.size()) {
        out.why_not = "the namespace pinned is not the one recorded";
        return out;
    }

    const std::string cwd = sys::current_directory();
    auto dirs = sys::ProcessDirs::save();
    if (!dirs) {
        out.why_not = dirs.error().message();
        return out;
    }
    if (auto r = sys::enter_mount_namespace(pin_fd->get()); !r) {
        out.why_not = r.error().message();
        return out;
    }
    if (std::string differ = mounts_differ(plan, *record); !differ.empty()) {
        out.why_not = differ;
        auto back = sys::enter_mount_namespace(outer->get());
        if (!back) {
            Error e = back.error();
            e.caller_unsafe = true;
            return e;
        }
        if (auto r = dirs->restore(); !r) {
            Error e = r.error();
            e.caller_unsafe = !dirs->root_is_current();
            if (e.caller_unsafe) return e;
            log.warning(e.message());
        }
        return out;
    }
    sys::change_directory_or_root(cwd);

    SessionState state;
    state.user = plan.identity.user;
    state.namespace_changed = true;
    state.mounted = described_mounts(plan);
    state.persist = make_link(plan, *id, outer);
    state.persist_joined = true;
    out.state = std::move(state);
    return out;
}

// The namespace this thread is in now (built by apply_plan) gets pinned from
// the outer one; the thread comes back with root and cwd as they were.
Result<void> pin_current(const Plan& plan, SessionState& state, int dir_fd, const std::string& pin,
                         const std::shared_ptr<sys::UniqueFd>& outer, const std::string& key, Log& log) {
    auto ns = sys::open_thread_mount_namespace();
    if (!ns) return ns.error();
    auto id = sys::namespace_id(ns->get());
    if (!id) return id.error();
    PinRecord record;
    record.ns = *id;
    record.key = key;
    if (state.mounted.size() != plan.steps.size())
        return make_error("pin the namespace", "", "", 0, "the session did not mount every polydir");
    for (const MountedPolydir& m : state.mounted) {
        if (!m.mount_root_fd) return make_error("pin the namespace", m.polydir, "", 0, "no fd of the mount made");
        auto pos = sys::mount_position(m.mount_root_fd->get(), "pin the namespace", m.polydir);
        if (!pos) return pos.error();
        record.mounts.push_back({pos->mount_id, pos->dev, pos->ino});
    }
    auto dirs = sys::ProcessDirs::save();
    if (!dirs) return dirs.error();

    if (auto r = sys::enter_mount_namespace(outer->get()); !r) return r.error();
    Result<void> pinned = sys::pin_namespace(ns->get(), dir_fd, pin);
    if (pinned) {
        pinned = sys::write_small_file(dir_fd, record_name(pin), format_pin_record(record));
        if (!pinned) (void)sys::unpin_namespace(dir_fd, pin);
    }
    if (auto r = sys::enter_mount_namespace(ns->get()); !r) {
        Error e = r.error();
        e.step = "go back into the session's namespace after pinning it";
        e.caller_unsafe = true;
        return e;
    }
    if (auto r = dirs->restore(); !r) log.warning(r.error().message());
    if (!pinned) return pinned;
    state.persist = make_link(plan, *id, outer);
    return {};
}

}  // namespace

Result<SessionState> open_persistent_session(const Plan& plan, Log& log) {
    const std::string& user = plan.identity.user;
    auto threads = sys::thread_count();
    if (!threads || *threads != 1) {
        log.debug("persist: the caller is multithreaded; " + user + " gets a namespace of this session's own");
        return apply_plan(plan, log);
    }
    auto dir = sys::open_pin_directory(true);
    sys::UniqueFd lock;
    if (dir) {
        auto locked = sys::lock_in_directory(dir->get(), std::to_string(plan.identity.uid) + ".lock");
        if (locked) lock = std::move(*locked);
        else dir = locked.error();
    }
    if (!dir) {
        const std::string line = "persist: " + dir.error().message() + "; the session of " + user +
                                 " gets a namespace of its own";
        // EXDEV: a nested session (su inside another session): expected, not a problem.
        if (dir.error().err == EXDEV) log.debug(line);
        else log.warning(line);
        return apply_plan(plan, log);
    }
    auto outer_fd = sys::open_thread_mount_namespace();
    if (!outer_fd) return outer_fd.error();
    auto outer = std::make_shared<sys::UniqueFd>(std::move(*outer_fd));

    const std::string pin = std::to_string(plan.identity.uid);
    const std::string key = persist_key(plan);
    auto joined = try_join(plan, dir->get(), pin, key, outer, log);
    if (!joined) return joined.error();
    if (joined->state) {
        hold_session(*joined->state, dir->get(), pin, log);
        log.debug("persist: joined the pinned namespace of " + user);
        return std::move(*joined->state);
    }
    if (!joined->why_not.empty()) {
        log.info("persist: not joining the pinned namespace of " + user + " (" + joined->why_not +
                 "); building a new one and replacing the pin");
        (void)sys::remove_file_at(dir->get(), record_name(pin));
        if (auto r = sys::unpin_namespace(dir->get(), pin); !r) log.warning("persist: " + r.error().message());
    }

    // The kernel refuses to bind a namespace whose id is lower than the
    // binder's (its loop check), and ids come from per-CPU batches: a
    // namespace made on one CPU can be "older" than the outer one made on
    // another (seen in young outer namespaces, never under the host's). So on
    // EINVAL the namespace is built again on each other CPU in turn.
    auto dirs = sys::ProcessDirs::save();
    if (!dirs) return dirs.error();
    const sys::CpuPlacement placement = sys::CpuPlacement::save();
    const int kBuilds = 1 + static_cast<int>(std::min(placement.count(), 8u));
    struct RestorePlacement {
        const sys::CpuPlacement& p;
        bool moved = false;
        ~RestorePlacement() {
            if (moved) p.restore();
        }
    } restore_placement{placement};
    for (int build = 1;; ++build) {
        auto state = apply_plan(plan, log);
        if (!state) return state;
        auto pinned = pin_current(plan, *state, dir->get(), pin, outer, key, log);
        if (pinned) {
            hold_session(*state, dir->get(), pin, log);
            log.debug("persist: pinned the new namespace of " + user);
            return state;
        }
        if (pinned.error().caller_unsafe) return pinned.error();
        if (pinned.error().err != EINVAL || build == kBuilds) {
            log.warning("persist: cannot pin the namespace of " + user + ": " + pinned.error().message() +
                        "; this session is not shared with the user's next ones");
            return state;
        }
        // Leave the namespace just built (nothing holds it: it goes away) and build another.
        log.debug("persist: the kernel refused to pin the new namespace of " + user + " (EINVAL); building another");
        if (auto r = sys::enter_mount_namespace(outer->get()); !r) {
            log.warning("persist: cannot pin the namespace of " + user + ": " + pinned.error().message() +
                        "; this session is not shared with the user's next ones");
            return state;
        }
        if (auto r = dirs->restore(); !r) {
            Error e = r.error();
            e.caller_unsafe = !dirs->root_is_current();
            if (e.caller_unsafe) return e;
            log.warning(e.message());
        }
        restore_placement.moved = placement.move_to(static_cast<unsigned>(build - 1)) || restore_placement.moved;
    }
}

Result<void> close_persistent_session(const SessionState& state, Log& log) {
    PersistLink& link = *state.persist;
    const std::string pin = std::to_string(link.uid);
    // In the session's namespace the pin directory is the same directory
    // (without the pins): the lock, the count and the record are there.
    auto dir = sys::open_pin_directory(false);
    if (!dir) return dir.error().err == ENOENT ? Result<void>() : Result<void>(dir.error());
    auto lock = sys::lock_in_directory(dir->get(), pin + ".lock");
    if (!lock) return lock.error();
    // This session stops counting; the others (and crashed ones: the kernel
    // released theirs) answer with their holds.
    link.live.reset();
    // The count decides; /proc (a walk of every process, costly on a busy
    // host) is read only when the count cannot answer, or before persist_clean
    // removes files a process left behind (nohup, tmux, the shell of a killed
    // caller) may still use.
    std::optional<bool> processes;
    auto held = sys::sessions_held(dir->get(), live_name(pin, link.ns));
    if (!held) {
        log.warning("persist: " + held.error().message() + "; asking /proc whether other sessions are open");
        auto others = sys::other_process_in_namespace(link.ns, ::getpid());
        if (!others) return others.error();
        processes = *others;
    }
    if ((held && *held) || (!held && *processes)) {
        log.debug("persist: another session of " + state.user + " is open; the pin stays");
        return {};
    }
    bool clean = link.clean;
    if (clean && !processes) {
        auto others = sys::other_process_in_namespace(link.ns, ::getpid());
        if (!others) log.warning("persist_clean: " + others.error().message());
        processes = others ? *others : true;
    }
    if (clean && *processes) {
        log.info("persist_clean: processes of " + state.user +
                 "'s last session are left in its namespace; her instances are not cleaned");
        clean = false;
    }
    if (clean && sessions_elsewhere(dir->get(), pin, link.ns)) {
        log.info("persist_clean: " + state.user +
                 " has sessions open in a namespace built before a configuration change; her instances are not cleaned");
        clean = false;
    }
    // The namespace's last session: its count goes, whatever is pinned now.
    (void)sys::remove_file_at(dir->get(), live_name(pin, link.ns));
    auto text = sys::read_small_file(dir->get(), record_name(pin), kMaxRecordSize);
    if (!text) return text.error();
    std::optional<PinRecord> record;
    if (*text) {
        if (auto parsed = parse_pin_record(**text); parsed) record = std::move(*parsed);
    }
    if (!record || record->ns != link.ns) {
        log.debug("persist: the pin of " + state.user + " names another namespace now; nothing to remove");
        return {};
    }

    auto here = sys::open_thread_mount_namespace();
    if (!here) return here.error();
    auto dirs = sys::ProcessDirs::save();
    if (!dirs) return dirs.error();
    if (auto r = sys::enter_mount_namespace(link.outer_ns->get()); !r) return r.error();
    Result<void> result;
    auto outer_dir = sys::open_pin_directory(false);
    if (!outer_dir) {
        result = outer_dir.error();
    } else {
        result = sys::unpin_user(outer_dir->get(), pin, "");
        if (result) log.info("persist: last session of " + state.user + " closed; its namespace is unpinned");
    }
    if (result && clean) {
        for (const auto& inst : link.instances) {
            const std::string path = sys::join_path(inst.template_dir, inst.name);
            auto tmpl = sys::open_path(inst.template_dir, O_PATH | O_DIRECTORY, "open template");
            if (!tmpl) {
                log.warning("persist_clean: " + tmpl.error().message());
                continue;
            }
            auto st = sys::stat_fd(tmpl->get(), "open template", inst.template_dir);
            if (!st || st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
                log.warning("persist_clean: template " + inst.template_dir +
                            " is not root-owned and closed to others now; " + path + " left in place");
                continue;
            }
            auto who = sys::credentials_of_uid(link.uid, link.gid);
            if (!who) {
                log.warning("persist_clean: " + who.error().message());
                continue;
            }
            auto left = sys::empty_and_remove_as(tmpl->get(), inst.name, path, *who);
            if (!left) log.warning("persist_clean: " + left.error().message());
            else if (*left > 0) log.warning("persist_clean: " + path + " could not be emptied completely");
            else log.debug("persist_clean: removed " + path);
        }
    }
    if (auto r = sys::enter_mount_namespace(here->get()); !r) return r;
    if (auto r = dirs->restore(); !r) log.warning(r.error().message());
    return result;
}

void drop_stale_pin(uid_t uid, Log& log) {
    auto dir = sys::open_pin_directory(false);
    if (!dir) return;
    const std::string pin = std::to_string(uid);
    // Most users never had a pin: no lock file is made for them.
    if (::faccessat(dir->get(), record_name(pin).c_str(), F_OK, AT_SYMLINK_NOFOLLOW) != 0) return;
    auto lock = sys::lock_in_directory(dir->get(), pin + ".lock");
    if (!lock) return;
    auto text = sys::read_small_file(dir->get(), record_name(pin), kMaxRecordSize);
    if (!text || !*text) return;
    (void)sys::remove_file_at(dir->get(), record_name(pin));
    if (auto r = sys::unpin_namespace(dir->get(), pin); !r) {
        log.warning("persist: " + r.error().message());
        return;
    }
    log.info("persist: no rule applies to uid " + pin + " any more; its pinned namespace is removed");
}

}  // namespace polyns
