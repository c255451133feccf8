// The engine executes a Plan: new mount namespace, templates and instances
// pinned by fd, bind/tmpfs mounts, init scripts; on any failure it undoes what
// it did and returns the process to its original mount namespace.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "polyns/plan.hpp"
#include "polyns/result.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns {

// Where the engine's words go. The PAM layer writes them with pam_syslog; the
// CLI and tests collect them. Errors are not logged by the engine: they are
// returned, and the caller writes the one LOG_ERR line.
class Log {
public:
    virtual ~Log() = default;
    virtual void debug(const std::string& line) = 0;   // only shown with `debug`
    virtual void info(const std::string& line) = 0;
    virtual void warning(const std::string& line) = 0;
};

// What a successful open did, kept (pam_set_data) until close.
struct MountedPolydir {
    std::string polydir;
    std::string instance;      // path of the instance dir; "tmpfs" for tmpfs
    MountKind kind = MountKind::Bind;
    bool created = false;      // the instance was created by this session
    bool remove_on_close = false;  // tmpdir method
    std::string template_dir;  // for tmpdir removal: parent of the instance
    std::string instance_name; // for tmpdir removal: the instance's name in template_dir
    uid_t owner_uid = 0;       // for tmpdir removal: done with this account's rights
    gid_t owner_gid = 0;
    // Pinned by apply_plan, for close_session in the same process: the template
    // as opened before any mount of the session covered it (a template under a
    // polydir is unreachable by path afterwards, or worse, user-controlled), and
    // the root of the mount made on the polydir (unmounts exactly that mount).
    // Null when the state was not made by apply_plan here; close then resolves
    // paths and re-checks what it finds.
    std::shared_ptr<sys::UniqueFd> template_fd;
    std::shared_ptr<sys::UniqueFd> mount_root_fd;
};

struct PersistLink;  // polyns/persist.hpp

struct SessionState {
    std::string user;
    bool namespace_changed = false;
    bool unmount_on_close = false;  // copied from the plan
    std::vector<MountedPolydir> mounted;
    std::vector<std::string> unmounted_previous;  // polydirs unmounted by unmnt_remnt/unmnt_only
    // Set when the session runs in the user's pinned namespace (persist):
    // close then ends the pin after the last session instead of unmounting.
    std::shared_ptr<PersistLink> persist;
    bool persist_joined = false;  // joined a pinned namespace (else built one)
};

// Opens the session. An empty plan does nothing at all (no unshare).
Result<SessionState> apply_plan(const Plan& plan, Log& log);

// Closes it: removes tmpdir instances (by fd, never following symlinks or
// crossing a mount) and, with unmount_on_close, unmounts the polydirs.
Result<void> close_session(const SessionState& state, Log& log);

}  // namespace polyns
