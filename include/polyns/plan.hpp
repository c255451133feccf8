// The Plan: pure data saying what a session open will do. Made by the planner
// (no syscalls), printed by `polyns plan`, executed by the engine.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "polyns/config.hpp"
#include "polyns/options.hpp"
#include "polyns/result.hpp"

namespace polyns {

// Who the session is for. Filled by lookup_identity() (NSS, in src/sys) or by tests.
struct Identity {
    std::string user;
    uid_t uid = 0;
    gid_t gid = 0;                         // primary group
    std::string home;
    std::vector<std::string> group_names;  // every group the user is in (for @group)
};

// Name -> id resolution the planner needs for create=...,owner,group.
// The real one uses getpwnam_r/getgrnam_r (src/sys); tests pass a table.
class NameResolver {
public:
    virtual ~NameResolver() = default;
    virtual std::optional<uid_t> uid_of(const std::string& user) const = 0;
    virtual std::optional<gid_t> gid_of(const std::string& group) const = 0;
    // The primary group of a user (getpwnam_r's pw_gid): create=MODE,OWNER
    // without a group gives the polydir OWNER's primary group, as Linux-PAM does.
    // Resolvers that cannot tell return nullopt and the session user's primary
    // group is used.
    virtual std::optional<gid_t> primary_gid_of(const std::string& user) const {
        (void)user;
        return std::nullopt;
    }
};

enum class MountKind { Bind, Tmpfs };

enum class InstanceKind {
    Named,   // instance path fixed by the method (user, level, context, explicit form)
    Unique,  // tmpdir: a fresh directory under `template_dir`, name `instance_name` + 6 random chars
    None,    // tmpfs: nothing on disk
};

struct Ownership {
    uid_t uid = 0;
    gid_t gid = 0;
    mode_t mode = 0700;
};

// create= without a mode: fixed, never the caller's umask (Linux-PAM used
// 0777 & ~umask, so a caller with umask 000 left a world-writable polydir).
inline constexpr mode_t default_created_polydir_mode = 0755;

// A tmpfs instance without size=/nr_blocks= or nr_inodes= in its rule gets
// these (systemd's limits for a nested tmpfs: PrivateTmp=disconnected, nspawn),
// not the kernel's half of RAM and of its pages per session.
inline constexpr const char* default_tmpfs_size = "size=10%";
inline constexpr const char* default_tmpfs_inodes = "nr_inodes=400k";

struct PolydirCreate {
    std::optional<mode_t> mode;  // nullopt: default_created_polydir_mode, whatever the caller's umask
    uid_t uid = 0;
    gid_t gid = 0;
};

// What SELinux adds to a step (only with SELinux on; never for tmpfs, which
// pam_namespace does not label either).
struct SelinuxLabel {
    // level/context: the label computed for the instance, and the polydir's
    // label it was computed from; the engine checks the pinned polydir still
    // has that label. user/tmpdir: both empty, the instance gets the pinned
    // polydir's own label.
    std::string instance_context;
    std::string polydir_context;
    std::string user_context;  // level/context: the user's context it came from
    // The instance name does not carry the context (polyns's explicit form):
    // an existing instance must already have instance_context.
    bool check_existing = false;
    // create=: the polydir is made with file_contexts' label (empty: the
    // policy's default for a new directory).
    std::string create_context;
};

struct MountStep {
    std::string polydir;        // absolute, expanded, no "." / ".." / "//" components
    Method method = Method::User;
    MountKind kind = MountKind::Bind;
    InstanceKind instance_kind = InstanceKind::Named;
    std::string template_dir;   // the instance's parent: root-owned, 0755 or 0000
    std::string instance_name;  // one path component (Named) or the name prefix (Unique)
    std::string instance;       // template_dir + "/" + instance_name (Named); empty otherwise
    bool mirror_polydir = false;  // instance_mode=mirror: owner/group/mode come from the polydir
    Ownership instance_owner;     // used when !mirror_polydir
    std::optional<PolydirCreate> create_polydir;  // create= flag
    unsigned long mount_flags = 0;  // MS_NOSUID | MS_NODEV | MS_NOEXEC from mntopts (tmpfs: nosuid,nodev by default)
    std::string fs_options;         // tmpfs data ("size=10M,nr_inodes=1k,mode=1777")
    std::optional<std::string> init_script;  // absolute path; nullopt with noinit
    bool init_script_if_exists = false;      // the default namespace.init: skipped when absent
    // Non-empty when polydir or instance lie under the user's home: components
    // below this directory are user-controlled and must be walked by fd.
    std::string user_controlled_root;
    std::optional<SelinuxLabel> selinux;  // set iff SELinux is on and the method is not tmpfs
    SourceLoc source;  // the rule this step comes from
};

struct SkippedRule {
    std::string polydir;  // as written (expanded when possible)
    std::string reason;   // "alice is listed in the user list (excluded)"
    SourceLoc source;
};

struct Plan {
    Identity identity;
    std::vector<MountStep> steps;
    std::vector<SkippedRule> skipped;
    std::vector<std::string> notices;  // e.g. "method level falls back to user: SELinux is off"
    bool mount_private = false;
    bool unmount_previous = false;  // unmnt_remnt: undo existing polyinstantiation first
    bool unmount_only = false;      // unmnt_only: undo and stop
    bool unmount_on_close = false;
    bool ignore_instance_parent_mode = false;
    unsigned init_timeout_seconds = 30;
    bool selinux = false;  // SELinux on: labels, and init scripts run with setexeccon(NULL)

    bool empty() const { return steps.empty() && !unmount_previous && !unmount_only; }
};

// The SELinux facts the planner needs. src/sys answers them with libselinux
// (sys::selinux::SystemContexts); tests pass a table.
class SelinuxContexts {
public:
    virtual ~SelinuxContexts() = default;
    // The user's context (raw): the exec context pam_selinux set, getcon()
    // with use_current_context, the default context with use_default_context.
    virtual Result<std::string> user_context() const = 0;
    // The label a polydir has; for a polydir create= will make, the label
    // file_contexts gives it.
    virtual Result<std::string> polydir_context(const std::string& polydir, bool will_create) const = 0;
    // The policy's type_member result for a directory (method context).
    virtual Result<std::string> member_context(const std::string& user_context,
                                               const std::string& polydir_context) const = 0;
    // file_contexts' label for a directory create= makes ("" when none).
    virtual Result<std::string> create_context(const std::string& polydir) const = 0;
};

struct PlanContext {
    std::string security_dir;  // base for relative iscript= and for namespace.init
    bool selinux_enabled = false;
    // Non-null iff selinux_enabled (the module and `polyns plan` set it).
    const SelinuxContexts* selinux = nullptr;
};

// Pure: no syscalls. Config errors are not its business (the caller decides
// about ignore_config_error); rules whose expansion fails become an Error.
Result<Plan> make_plan(const Config& config, const Identity& who, const Options& options,
                       const NameResolver& names, const PlanContext& context);

}  // namespace polyns
