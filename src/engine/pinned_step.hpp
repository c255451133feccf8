// Engine internals: what one MountStep holds once everything it needs is open.
#pragma once

#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>

#include "polyns/engine.hpp"
#include "polyns/plan.hpp"
#include "polyns/result.hpp"
#include "polyns/sys/run_state.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::engine {

class Rollback;

// Opened before the first mount (DESIGN invariant 11), after unshare (an fd
// opened before it would name mounts of the original namespace).
struct PinnedStep {
    const MountStep* step = nullptr;
    sys::UniqueFd polydir_fd;
    struct stat polydir_st {};
    bool polydir_created = false;
    std::shared_ptr<sys::UniqueFd> template_fd;  // Bind only
    // Held (shared) until the session's open returns, after its mounts: `polyns
    // gc` takes it exclusively to remove an instance (sys/run_state.hpp).
    std::shared_ptr<sys::TemplateLock> template_lock;  // Bind only
    sys::UniqueFd instance_fd;                   // Bind only; O_RDONLY|O_DIRECTORY
    std::string instance_name;                   // actual name (tmpdir: with its random suffix)
    std::string instance_path;                   // template_dir/instance_name, or "tmpfs"
    bool instance_created = false;
    std::string instance_label;                  // SELinux label of a new instance ("": none)
    std::shared_ptr<const sys::UniqueFd> script_fd;  // null: no init script to run
    std::string script_path;
};

// The init scripts opened for one session, by path. Every rule normally names
// the same namespace.init: it is opened and checked once, and each polydir
// runs that same pinned file.
class InitScripts {
public:
    // The step's script, or null when it has none or an optional one is absent.
    Result<std::shared_ptr<const sys::UniqueFd>> open(const MountStep& step, Log& log);

private:
    std::map<std::string, std::shared_ptr<const sys::UniqueFd>> opened_;
};

// Checks the plan's steps before anything is done (names are single components,
// paths absolute, flags known).
Result<void> validate_plan(const Plan& plan);

// Opens (and creates where the plan says so) the polydir, template, instance and
// init script of `step`. What it creates is registered with `rollback`.
Result<PinnedStep> pin_step(const Plan& plan, const MountStep& step, Rollback& rollback, InitScripts& scripts,
                            Log& log);

// unmnt_remnt / unmnt_only: detaches the polyinstantiation mounted on each of
// the plan's polydirs (steps and skipped rules) in this (new) namespace.
// Returns the polydirs it unmounted.
Result<std::vector<std::string>> unmount_previous(const Plan& plan, Log& log);

// Whether the caller sits in an earlier session's view: the topmost mount on
// one of the plan's polydirs (steps and skipped rules) looks polyinstantiated.
// Nested sessions then detach those mounts first, as unmnt_remnt does.
Result<bool> inside_earlier_session(const Plan& plan);

// Whether the topmost mount on a polydir looks like polyinstantiation (ours or
// Linux-PAM's): a bind of a subdirectory (mountinfo root != "/"), or a tmpfs
// mounted by polyns (source "polyns"). The filesystem normally mounted there
// (a host's /tmp tmpfs) is neither, and is never unmounted.
struct MountEntryView {
    std::string root;
    std::string fstype;
    std::string source;
};
bool looks_polyinstantiated(const MountEntryView& entry);

// The one warning line about what a removal of `path` left in place and why
// (entries another user owns, mount points, immutable files ...).
std::string left_in_place_line(const std::string& path, const std::vector<std::string>& kept);

// Sets the polydir on an error about a step.
Error for_polydir(Error e, const std::string& polydir);

}  // namespace polyns::engine
