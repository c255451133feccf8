// Pinning: every polydir, template, instance and init script is opened (and
// created, where the plan says so) by fd, before the first mount.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <tuple>

#include "labels.hpp"
#include "pinned_step.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/instance_record.hpp"
#include "polyns/sys/mount.hpp"
#include "polyns/sys/path.hpp"
#include "polyns/sys/process.hpp"
#include "rollback.hpp"

namespace polyns::engine {
namespace {

constexpr int dir_rw = O_RDONLY | O_DIRECTORY;  // an fd fchown/fchmod accept
constexpr int unique_name_attempts = 100;
constexpr std::size_t unique_suffix_length = 6;
constexpr unsigned template_lock_timeout_ms = 10000;  // gc holds it for one instance's removal

std::string owner_text(uid_t uid, gid_t gid, mode_t mode) {
    return std::to_string(uid) + ":" + std::to_string(gid) + " mode " + sys::octal_mode(mode);
}

// The directory opened right after mkdirat(..., 0) must be the root-owned
// mode 0 one just made: where others may write the parent, a directory
// renamed onto the name in between is refused, never given away or used.
Result<void> check_just_made(int fd, const std::string& step, const std::string& path, const std::string& hint) {
    auto st = sys::stat_fd(fd, step, path);
    if (!st) return st.error();
    if (st->st_uid == 0 && (st->st_mode & 07777) == 0) return {};
    return make_error(step, path, "", EBUSY,
                      "was replaced by another directory (" + owner_text(st->st_uid, st->st_gid, st->st_mode & 07777) +
                          ") while being created; not touching it",
                      hint);
}

// --- polydir ---------------------------------------------------------------

Result<void> create_polydir(const MountStep& step, PinnedStep& pinned, Rollback& rollback, Log& log) {
    const PolydirCreate& create = *step.create_polydir;
    std::string parent_path, name;
    if (!sys::split_parent(step.polydir, parent_path, name))
        return make_error("create polydir", step.polydir, "", EINVAL, "has no parent directory");
    auto parent = sys::open_path(parent_path, O_PATH | O_DIRECTORY, "open polydir parent", sys::Links::FollowRootOnly);
    if (!parent) return parent.error();
    mode_t mode = create.mode ? *create.mode : default_created_polydir_mode;
    // Made with mode 0 and root-owned, then given away: nobody can get in
    // before owner and mode are final. With SELinux, labelled as
    // file_contexts says (setfscreatecon around the mkdirat only).
    auto made = [&]() -> Result<void> {
        PolydirCreateLabel label;
        if (auto r = label.apply(step); !r) return r;
        return sys::make_dir_at(parent->get(), name, 0, "create polydir", step.polydir);
    }();
    if (!made && made.error().err != EEXIST) return made.error();
    bool created = made.ok();
    auto fd = sys::open_below(parent->get(), name, dir_rw, "open polydir", step.polydir);
    if (!fd) return fd.error();
    if (created) {
        // A user who can write the parent ($HOME/tmp) can rename another
        // directory onto the name between mkdirat and the open (say a
        // root-owned one of the admin's): only the root-owned mode 0
        // directory just made is given away, never what was swapped in.
        if (auto r = check_just_made(fd->get(), "create polydir", step.polydir,
                                     "find out who renames directories in " + parent_path);
            !r)
            return r.error();
        if (auto r = sys::set_owner(fd->get(), create.uid, create.gid, "create polydir", step.polydir); !r) {
            ::unlinkat(parent->get(), name.c_str(), AT_REMOVEDIR);
            return r.error();
        }
        if (auto r = sys::set_mode(fd->get(), mode, "create polydir", step.polydir); !r) {
            ::unlinkat(parent->get(), name.c_str(), AT_REMOVEDIR);
            return r.error();
        }
        log.debug("created polydir " + step.polydir + " (" + owner_text(create.uid, create.gid, mode) + ")");
        rollback.created_polydir(std::move(*parent), name, step.polydir);
    }
    pinned.polydir_created = created;
    pinned.polydir_fd = std::move(*fd);
    return {};
}

Result<void> pin_polydir(const MountStep& step, PinnedStep& pinned, Rollback& rollback, Log& log) {
    auto fd = sys::open_path(step.polydir, O_PATH | O_DIRECTORY, "open polydir", sys::Links::FollowRootOnly);
    if (fd) {
        pinned.polydir_fd = std::move(*fd);
    } else if (fd.error().err == ENOENT && step.create_polydir) {
        if (auto r = create_polydir(step, pinned, rollback, log); !r) return r;
    } else {
        Error e = fd.error();
        if (e.err == ENOENT) e.hint = "create " + step.polydir + ", or add create= to its rule";
        return e;
    }
    auto st = sys::stat_fd(pinned.polydir_fd.get(), "open polydir", step.polydir);
    if (!st) return st.error();
    pinned.polydir_st = *st;
    return {};
}

// --- template --------------------------------------------------------------

// A missing template (instance parent) is created as pam_namespace.so does:
// only its last component, root:root mode 0000 (Linux-PAM's mode, which also
// suits instance_mode=mirror). mkdirat on the parent's fd, then the new
// directory is opened and must be the root-owned mode 0 one just made: where
// others may write the parent, a directory renamed onto the name in between
// is refused, never adopted. It is kept if the session fails later: an empty
// root-only directory, as the admin's `polyns setup` would make it.
Result<sys::UniqueFd> create_template(const std::string& path, Log& log) {
    std::string parent_path, name;
    if (!sys::split_parent(path, parent_path, name))
        return make_error("create template", path, "", EINVAL, "has no parent directory");
    auto parent = sys::open_path(parent_path, O_PATH | O_DIRECTORY, "open template parent", sys::Links::FollowRootOnly);
    if (!parent) {
        Error e = parent.error();
        if (e.err == ENOENT)
            e.hint = "only the last component of a template is created: mkdir -p -m 0755 " + parent_path;
        return e;
    }
    auto made = sys::make_dir_at(parent->get(), name, 0, "create template", path);
    if (!made && made.error().err != EEXIST) return made.error();
    auto fd = sys::open_below(parent->get(), name, O_PATH | O_DIRECTORY, "open template", path);
    if (!fd) return fd.error();
    if (made) {
        if (auto r = check_just_made(fd->get(), "create template", path,
                                     "find out who renames directories in " + parent_path);
            !r)
            return r.error();
        log.info("created missing template " + path + " (0:0 mode 0000)");
    }
    return fd;
}

Result<std::shared_ptr<sys::UniqueFd>> pin_template(const Plan& plan, const MountStep& step, Log& log) {
    const std::string& path = step.template_dir;
    auto fd = sys::open_path(path, O_PATH | O_DIRECTORY, "open template", sys::Links::FollowRootOnly);
    if (!fd && fd.error().err == ENOENT) fd = create_template(path, log);
    if (!fd) {
        Error e = fd.error();
        if (e.err == ENOTDIR) e.hint = path + " must be a directory: mkdir -m 0755 " + path;
        return e;
    }
    auto st = sys::stat_fd(fd->get(), "open template", path);
    if (!st) return st.error();
    if (st->st_uid != 0)
        return make_error("use template", path, "", 0,
                          "owned by uid " + std::to_string(st->st_uid) +
                              ", not root; its owner could swap instances",
                          "chown root:root " + path);
    if (!plan.ignore_instance_parent_mode && (st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return make_error("use template", path, "", 0,
                          "mode " + sys::octal_mode(st->st_mode) +
                              " is writable by group or other; users could plant or replace instances",
                          "chmod 0755 " + path);
    return std::make_shared<sys::UniqueFd>(std::move(*fd));
}

// --- instance --------------------------------------------------------------

struct ExpectedOwner {
    uid_t uid;
    gid_t gid;
    mode_t mode;
};

ExpectedOwner expected_owner(const MountStep& step, const struct stat& polydir_st) {
    if (step.mirror_polydir)  // Linux-PAM: the instance looks like the polydir
        return {polydir_st.st_uid, polydir_st.st_gid, static_cast<mode_t>(polydir_st.st_mode & 07777)};
    return {step.instance_owner.uid, step.instance_owner.gid,
            static_cast<mode_t>(step.instance_owner.mode & 07777)};
}

// instance_mode=mirror gives the instance the polydir's owner and mode. A
// polydir owned by someone else than root or the session's user (squatted in
// a world-writable parent, say) would hand that someone the user's instance.
// Fine only when the rule's create= named that owner.
Result<void> check_mirrored_owner(const Plan& plan, const MountStep& step, const struct stat& polydir_st) {
    if (!step.mirror_polydir) return {};
    uid_t owner = polydir_st.st_uid;
    if (owner == 0 || owner == plan.identity.uid) return {};
    if (step.create_polydir && step.create_polydir->uid == owner) return {};
    return make_error("use polydir", step.polydir, "", 0,
                      "owned by uid " + std::to_string(owner) + ", neither root nor " + plan.identity.user +
                          "; with instance_mode=mirror the instance would be that user's",
                      "chown root " + step.polydir + ", or remove it if it is not the admin's");
}

// With instance_mode=mirror an instance may be open to others (/tmp's 1777).
// Linux-PAM makes that private by requiring mode 000 templates: nobody else
// can reach the instance. A template others can search (0755) would let bob
// plant files and symlinks in alice's "private" /tmp. Refused, unless the
// admin chose ignore_instance_parent_mode, as with Linux-PAM.
Result<void> check_mirrored_reach(const Plan& plan, const MountStep& step, const struct stat& polydir_st,
                                  int template_fd) {
    if (!step.mirror_polydir || plan.ignore_instance_parent_mode) return {};
    if ((polydir_st.st_mode & 0077) == 0) return {};
    auto st = sys::stat_fd(template_fd, "use template", step.template_dir);
    if (!st) return st.error();
    // Judged with the ACL, not the mode bits alone: user:bob:--x or a group
    // (root's too: it has members) may search it as surely as "other" can.
    auto reach = sys::who_else_can_search(template_fd, "use template", step.template_dir);
    if (!reach) return reach.error();
    if (reach->empty()) return {};
    return make_error("use template", step.template_dir, "", 0,
                      "mode " + sys::octal_mode(st->st_mode) + " with " + *reach +
                          " lets other users reach the instances, and with instance_mode=mirror the "
                          "instance of " + step.polydir + " gets mode " + sys::octal_mode(polydir_st.st_mode) +
                          ": they could plant files in it",
                      "chmod 000 " + step.template_dir + " && setfacl -b " + step.template_dir +
                          " (as Linux-PAM requires), or drop instance_mode=mirror");
}

// A filesystem without trusted.* xattrs (NFS ...) cannot hold the record:
// the instance is then used unrecorded, as before records existed.
bool record_unsupported(const Error& e) { return e.err == ENOTSUP || e.err == EOPNOTSUPP; }

sys::InstanceRecord record_of(const Identity& who) {
    sys::InstanceRecord record;
    record.user = who.user;
    record.uid = who.uid;
    record.created = sys::now_seconds();
    std::tie(record.home_dev, record.home_ino) = sys::home_identity(who.home);
    return record;
}

// Owner and mode are set on the fd of a directory made root-owned with mode 0:
// until both are final nobody but root can enter it. On failure it is removed.
// `recorded` says whether the filesystem took the record (no trusted.* on NFS, ramfs ...).
Result<sys::UniqueFd> finish_new_instance(int template_fd, const std::string& name, const std::string& path,
                                          const ExpectedOwner& want, const std::string& label,
                                          const sys::InstanceRecord& record, bool& recorded) {
    auto fd = sys::open_below(template_fd, name, dir_rw, "create instance", path);
    if (!fd) {
        ::unlinkat(template_fd, name.c_str(), AT_REMOVEDIR);
        return fd.error();
    }
    // Where others may rename in the template (group-writable, allowed by
    // ignore_instance_parent_mode), the name may already lead to another
    // directory, say another user's instance: only the root-owned mode 0
    // directory just made is given away. Nothing is removed by name then.
    if (auto r = check_just_made(fd->get(), "create instance", path,
                                 "make the template writable by root only: chmod 0755 " +
                                     path.substr(0, path.size() - name.size()));
        !r)
        return r.error();
    // Labelled before anyone else can use it (DESIGN invariant 14).
    if (auto r = label_new_instance(fd->get(), label, path); !r) {
        ::unlinkat(template_fd, name.c_str(), AT_REMOVEDIR);
        return r.error();
    }
    // Marked as whose it is before anyone else can enter it (DESIGN invariant 15).
    auto written = sys::write_instance_record(fd->get(), record, path);
    if (!written && !record_unsupported(written.error())) {
        ::unlinkat(template_fd, name.c_str(), AT_REMOVEDIR);
        return written.error();
    }
    recorded = static_cast<bool>(written);
    auto owned = sys::set_owner(fd->get(), want.uid, want.gid, "create instance", path);
    auto moded = owned ? sys::set_mode(fd->get(), want.mode, "create instance", path) : Result<void>();
    if (!owned || !moded) {
        ::unlinkat(template_fd, name.c_str(), AT_REMOVEDIR);
        return owned ? moded.error() : owned.error();
    }
    return fd;
}

// A pre-existing instance: a real directory with exactly the expected owner,
// group and mode, or the session fails.
Result<sys::UniqueFd> open_existing_instance(int template_fd, const std::string& name, const std::string& path,
                                             const ExpectedOwner& want, const Identity& who, Log& log) {
    // Mode 0000, root's (between mkdirat and fchown) or already the user's
    // (between fchown and fchmod): a concurrent session of the same user is
    // finishing it. Give it a moment.
    using namespace std::chrono_literals;
    for (int attempt = 0;; ++attempt) {
        auto fd = sys::open_below(template_fd, name, dir_rw, "use instance", path);
        if (!fd) {
            Error e = fd.error();
            if (e.err == ELOOP) {
                e.detail = "is a symlink; refusing it";
                e.hint = "remove " + path + " (it is recreated at the next session)";
            } else if (e.err == ENOTDIR) {
                e.detail = "is not a directory; refusing it";
                e.hint = "remove " + path + " (it is recreated at the next session)";
            }
            return e;
        }
        auto st = sys::stat_fd(fd->get(), "use instance", path);
        if (!st) return st.error();
        mode_t mode = st->st_mode & 07777;
        if (st->st_uid == want.uid && st->st_gid == want.gid && mode == want.mode) return fd;
        bool being_created =
            mode == 0 && (st->st_uid == 0 || (st->st_uid == want.uid && st->st_gid == want.gid));
        if (being_created && attempt < 200) {
            std::this_thread::sleep_for(10ms);
            continue;
        }
        // Nobody finished it: polyns itself left it half-made (the caller
        // was killed between mkdirat and fchmod: a SIGKILLed su). Its record,
        // written before it was given away, says whose it is; only such a
        // directory, of this very account, is finished here. Nobody but root
        // (and, once chowned, its owner) could have entered it meanwhile.
        if (being_created) {
            auto record = sys::read_instance_record(fd->get(), path);
            if (record && *record && (*record)->uid == who.uid && (*record)->user == who.user) {
                if (auto r = sys::set_owner(fd->get(), want.uid, want.gid, "repair instance", path); !r) return r.error();
                if (auto r = sys::set_mode(fd->get(), want.mode, "repair instance", path); !r) return r.error();
                log.warning("instance " + path + " was left half-made by an earlier session of " + who.user +
                            " (" + owner_text(st->st_uid, st->st_gid, mode) + "); finished it");
                return fd;
            }
        }
        std::string fix = "chown " + std::to_string(want.uid) + ":" + std::to_string(want.gid) + " " + path +
                          " && chmod " + sys::octal_mode(want.mode) + " " + path +
                          ", or remove it if it is not the user's";
        // Another uid's, without a record saying whose (made before records,
        // or where trusted.* is not supported): a renumbered account's, or a
        // deleted account's whose name (%{USER}) was reused. Only the admin
        // can tell; neither is guessed here.
        if (st->st_uid != 0 && st->st_uid != want.uid && want.uid == who.uid)
            fix = "if it is " + who.user + "'s from before a uid change (usermod -u): chown -hR " +
                  std::to_string(want.uid) + ":" + std::to_string(want.gid) + " " + path + " && chmod " +
                  sys::octal_mode(want.mode) + " " + path + "; if it is another account's (a name reused by a new "
                  "account): move it out of the way, e.g. mv " + path + " " + path + ".uid" +
                  std::to_string(st->st_uid) + " (a new one is made at the next session)";
        return make_error("use instance", path, "", 0,
                          "is " + owner_text(st->st_uid, st->st_gid, mode) + ", expected " +
                              owner_text(want.uid, want.gid, want.mode) + "; refusing it",
                          fix);
    }
}

// What an existing instance's record says about it for this session's user.
enum class RecordVerdict {
    Ours,        // made for this account
    Unrecorded,  // made before records existed (or on a filesystem without them): adopted if the owner matches
    Renamed,     // same uid, another name, and the home directory is the same one: usermod -l
    NotOurs,     // another account's (a reused uid or name): moved aside
};

RecordVerdict judge_record(const std::optional<sys::InstanceRecord>& record, const Identity& who) {
    if (!record) return RecordVerdict::Unrecorded;
    if (record->uid != who.uid) return RecordVerdict::NotOurs;
    if (record->user == who.user) return RecordVerdict::Ours;
    if (record->home_ino == 0) return RecordVerdict::NotOurs;
    auto home = sys::home_identity(who.home);
    if (home.first == record->home_dev && home.second == record->home_ino) return RecordVerdict::Renamed;
    return RecordVerdict::NotOurs;
}

std::string record_text(const sys::InstanceRecord& r) {
    return r.user + " (uid " + std::to_string(r.uid) + ", created at " + std::to_string(r.created) + ")";
}

// An existing instance's record, read before its owner is checked: a uid or
// name reused by a new account finds the old account's instance and must not
// get it (DESIGN invariant 15). Another account's is moved aside (root-only,
// logged) and the caller makes a new one. nullopt: no instance to look at.
Result<std::optional<RecordVerdict>> check_record(const Plan& plan, const std::string& template_dir,
                                                  int template_fd, const std::string& name,
                                                  const std::string& path, Log& log) {
    auto probe = sys::open_below(template_fd, name, dir_rw, "use instance", path);
    if (!probe) return std::optional<RecordVerdict>();  // open_existing_instance says why
    auto record = sys::read_instance_record(probe->get(), path);
    if (!record) {
        if (record_unsupported(record.error())) return std::optional<RecordVerdict>(RecordVerdict::Unrecorded);
        return record.error();
    }
    RecordVerdict verdict = judge_record(*record, plan.identity);
    if (verdict != RecordVerdict::NotOurs) return std::optional<RecordVerdict>(verdict);
    auto moved = sys::move_instance_aside(template_fd, template_dir, name, **record, plan.identity.user,
                                          plan.identity.uid);
    if (!moved) return moved.error();
    log.warning("instance " + path + " was made for " + record_text(**record) + ", not for " +
                plan.identity.user + " (uid " + std::to_string(plan.identity.uid) + "): moved aside to " + *moved +
                " (root-only) and a new one made; if " + plan.identity.user +
                " is that account renamed, put it back: mv " + *moved + " " + path + " && setfattr -x " +
                sys::instance_record_xattr + " " + path);
    return std::optional<RecordVerdict>(RecordVerdict::NotOurs);
}

Result<void> pin_named_instance(const Plan& plan, const MountStep& step, PinnedStep& pinned, Log& log) {
    const std::string& name = step.instance_name;
    std::string path = sys::join_path(step.template_dir, name);
    ExpectedOwner want = expected_owner(step, pinned.polydir_st);
    int template_fd = pinned.template_fd->get();
    auto made = sys::make_dir_at(template_fd, name, 0, "create instance", path);
    std::optional<RecordVerdict> verdict;
    if (!made && made.error().err == EEXIST) {
        auto checked = check_record(plan, step.template_dir, template_fd, name, path, log);
        if (!checked) return checked.error();
        verdict = *checked;
        if (verdict == RecordVerdict::NotOurs) made = sys::make_dir_at(template_fd, name, 0, "create instance", path);
    }
    if (made) {
        bool recorded = false;
        auto fd = finish_new_instance(template_fd, name, path, want, pinned.instance_label, record_of(plan.identity),
                                      recorded);
        if (!fd) return fd.error();
        pinned.instance_fd = std::move(*fd);
        pinned.instance_created = true;
        log.debug("created instance " + path + " (" + owner_text(want.uid, want.gid, want.mode) + ")");
        // Said once, when the instance is made: without a record, the next
        // account given this uid is given this instance too (SECURITY.md).
        if (!recorded)
            log.info("instance " + path + " is on a filesystem without trusted.* extended attributes: it carries "
                     "no owner record: a later account with uid " + std::to_string(plan.identity.uid) +
                     " that reaches this name gets it too; remove a deleted account's instances (`polyns gc --deleted-users`) before "
                     "its uid is reused");
    } else if (made.error().err == EEXIST) {
        auto fd = open_existing_instance(template_fd, name, path, want, plan.identity, log);
        if (!fd) return fd.error();
        if (auto r = check_existing_instance_label(step, fd->get(), path); !r) return r.error();
        if (verdict == RecordVerdict::Unrecorded || verdict == RecordVerdict::Renamed) {
            // Adopted: an instance of this uid from before records existed
            // (trusted on first use), or the same account under its new name.
            auto r = sys::write_instance_record(fd->get(), record_of(plan.identity), path);
            if (!r && !record_unsupported(r.error())) return r.error();
            if (r && verdict == RecordVerdict::Renamed)
                log.info("instance " + path + " was made for " + plan.identity.user +
                         " under another name (same uid, same home directory): kept, record updated");
        }
        pinned.instance_fd = std::move(*fd);
        log.debug("using existing instance " + path);
    } else {
        return made.error();
    }
    pinned.instance_name = name;
    pinned.instance_path = path;
    return {};
}

Result<void> pin_unique_instance(const Plan& plan, const MountStep& step, PinnedStep& pinned, Rollback& rollback,
                                 Log& log) {
    ExpectedOwner want = expected_owner(step, pinned.polydir_st);
    int template_fd = pinned.template_fd->get();
    for (int attempt = 0; attempt < unique_name_attempts; ++attempt) {
        auto suffix = sys::random_name_suffix(unique_suffix_length);
        if (!suffix) return suffix.error();
        std::string name = step.instance_name + *suffix;
        std::string path = sys::join_path(step.template_dir, name);
        auto made = sys::make_dir_at(template_fd, name, 0, "create instance", path);
        if (!made) {
            if (made.error().err == EEXIST) continue;
            return made.error();
        }
        bool recorded = false;  // a tmpdir instance is removed at close: nobody can inherit it
        auto fd = finish_new_instance(template_fd, name, path, want, pinned.instance_label, record_of(plan.identity),
                                      recorded);
        if (!fd) return fd.error();
        rollback.created_unique_instance(pinned.template_fd, name, path, plan.identity.uid, plan.identity.gid);
        pinned.instance_fd = std::move(*fd);
        pinned.instance_created = true;
        pinned.instance_name = name;
        pinned.instance_path = path;
        log.debug("created temporary instance " + path);
        return {};
    }
    return make_error("create instance", sys::join_path(step.template_dir, step.instance_name + "XXXXXX"),
                      "mkdirat", EEXIST, "no free name after " + std::to_string(unique_name_attempts) + " tries");
}

// --- init script -----------------------------------------------------------

}  // namespace

Result<std::shared_ptr<const sys::UniqueFd>> InitScripts::open(const MountStep& step, Log& log) {
    if (!step.init_script) return std::shared_ptr<const sys::UniqueFd>();
    const std::string& path = *step.init_script;
    if (auto known = opened_.find(path); known != opened_.end()) return known->second;
    std::shared_ptr<const sys::UniqueFd> script;
    auto fd = sys::open_init_script(path);
    if (fd) {
        script = std::make_shared<const sys::UniqueFd>(std::move(*fd));
    } else if (fd.error().err == ENOENT && step.init_script_if_exists) {
        log.debug("no init script " + path + "; skipped");
    } else {
        return fd.error();
    }
    opened_.emplace(path, script);
    return script;
}

std::string left_in_place_line(const std::string& path, const std::vector<std::string>& kept) {
    std::string line = "removing " + path + " left in place what its owner may not remove or a mount point: ";
    for (std::size_t i = 0; i < kept.size(); ++i) line += (i == 0 ? "" : "; ") + kept[i];
    return line;
}

Error for_polydir(Error e, const std::string& polydir) {
    if (e.polydir.empty()) e.polydir = polydir;
    return e;
}

bool looks_polyinstantiated(const MountEntryView& entry) {
    if (!entry.root.empty() && entry.root != "/") return true;
    return entry.fstype == "tmpfs" && entry.source == "polyns";
}

Result<void> validate_plan(const Plan& plan) {
    for (const MountStep& step : plan.steps) {
        auto bad = [&](const std::string& what) {
            return for_polydir(make_error("check plan", step.polydir, "", EINVAL, what), step.polydir);
        };
        if (step.polydir.empty() || step.polydir.front() != '/' || step.polydir == "/")
            return bad("the polydir must be an absolute path other than /");
        if ((step.mount_flags & ~sys::supported_mount_flags) != 0)
            return bad("unsupported mount flags");
        if (step.kind == MountKind::Bind) {
            if (step.instance_kind == InstanceKind::None) return bad("a bind mount needs an instance");
            if (step.template_dir.empty() || step.template_dir.front() != '/')
                return bad("the template (instance parent) must be an absolute path");
            // A tmpdir prefix may be empty (the name is then all random); a
            // named instance is exactly one path component.
            bool name_ok = step.instance_kind == InstanceKind::Unique
                               ? (step.instance_name.empty() || sys::is_single_component(step.instance_name))
                               : sys::is_single_component(step.instance_name);
            if (!name_ok) return bad("instance name '" + step.instance_name + "' is not a single path component");
        }
        if (step.init_script && (step.init_script->empty() || step.init_script->front() != '/'))
            return bad("the init script must be an absolute path");
    }
    return {};
}

Result<PinnedStep> pin_step(const Plan& plan, const MountStep& step, Rollback& rollback, InitScripts& scripts,
                            Log& log) {
    PinnedStep pinned;
    pinned.step = &step;
    if (auto r = pin_polydir(step, pinned, rollback, log); !r) return r.error();
    if (step.kind == MountKind::Bind) {
        if (auto r = check_mirrored_owner(plan, step, pinned.polydir_st); !r) return r.error();
        auto tmpl = pin_template(plan, step, log);
        if (!tmpl) return tmpl.error();
        pinned.template_fd = std::move(*tmpl);
        // Before the instance is looked at: gc must not remove it between
        // here and the mount (it would be mounted deleted, or emptied).
        auto lock = sys::lock_template(pinned.template_fd->get(), step.template_dir, sys::LockKind::Shared,
                                       template_lock_timeout_ms);
        if (lock) {
            pinned.template_lock = std::make_shared<sys::TemplateLock>(std::move(*lock));
        } else if (lock.error().err == EWOULDBLOCK) {
            return lock.error();  // gc is removing an instance of this template
        } else {
            // The lock only keeps `polyns gc` away while this session pins and
            // mounts; it is no boundary against users. Where the module cannot
            // keep its lock file (the SELinux policy denies the login domain
            // /run/polyns, as Debian's does local_login_t; a read-only /run),
            // the session goes on without it rather than fail every login.
            log.warning("template " + step.template_dir + ": " + lock.error().message() +
                        "; going on without the template lock (a polyns gc running now could race this login)");
        }
        if (auto r = check_mirrored_reach(plan, step, pinned.polydir_st, pinned.template_fd->get()); !r)
            return r.error();
        auto label = instance_label(step, pinned);
        if (!label) return label.error();
        pinned.instance_label = std::move(*label);
        auto r = step.instance_kind == InstanceKind::Unique ? pin_unique_instance(plan, step, pinned, rollback, log)
                                                            : pin_named_instance(plan, step, pinned, log);
        if (!r) return r.error();
    } else {
        pinned.instance_path = "tmpfs";
        pinned.instance_created = true;
    }
    auto script = scripts.open(step, log);
    if (!script) return script.error();
    pinned.script_fd = std::move(*script);
    if (pinned.script_fd) pinned.script_path = *step.init_script;
    return pinned;
}

}  // namespace polyns::engine
