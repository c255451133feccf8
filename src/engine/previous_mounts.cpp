// Nested sessions (su, su -, sudo -i, runuser -l from inside a session), and
// unmnt_remnt / unmnt_only: the caller already lives in a polyinstantiated
// namespace; in the new namespace, detach what is mounted on each polydir
// before polyinstantiating for the new user. Without the option this happens
// whenever a polydir's topmost mount looks polyinstantiated: the templates
// and instances are then resolved against the view the host has, never
// inside the outer session's instance (a template under /tmp would be looked
// up in alice's /tmp, which she controls).
//
// MNT_DETACH, not a plain umount: the caller's cwd or open files may well be
// inside the old instance (su from a shell in /tmp), which makes umount fail
// with EBUSY; Linux-PAM chdir()s away to dodge that. Detaching is safe here
// because the namespace is new and private to this process: the old instance
// only disappears from this process's view, and the user's other processes,
// in the namespace we came from, keep theirs.
#include <fcntl.h>

#include <algorithm>
#include <optional>

#include "pinned_step.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/mount.hpp"
#include "polyns/sys/mount_top.hpp"
#include "polyns/sys/mountinfo.hpp"
#include "polyns/sys/path.hpp"

namespace polyns::engine {
namespace {

// Polyinstantiation mounts can be stacked (su twice); never more than this.
constexpr int max_stacked_mounts = 16;

Result<bool> detach_top_instance(const std::string& polydir) {
    auto here = sys::mounts_at(polydir);
    if (!here) return here.error();
    if (here->empty()) return false;
    const sys::MountEntry& top = here->back();
    if (!looks_polyinstantiated({top.root, top.fstype, top.source})) return false;
    // The fd names the topmost mount's root; check it is the entry we judged.
    auto fd = sys::open_path(polydir, O_PATH | O_DIRECTORY, "unmount previous instance on", sys::Links::FollowRootOnly);
    if (!fd) return fd.error();
    auto pos = sys::mount_position(fd->get(), "unmount previous instance on", polydir);
    if (!pos) return pos.error();
    if (pos->mount_id_known && pos->mount_id != static_cast<std::uint64_t>(top.id))
        return make_error("unmount previous instance on", polydir, "", EBUSY,
                          "the mount table changed while looking at it");
    if (auto r = sys::detach_mount(fd->get(), polydir); !r) {
        Error e = r.error();
        e.step = "unmount previous instance on";
        return e;
    }
    return true;
}

}  // namespace

// The polydirs to look at: the plan's steps, and also the rules skipped for
// the new user (su from alice to an excluded root must still take alice's
// /tmp away, as Linux-PAM's unmnt_remnt does). Only absolute paths; a path
// with no mount on it is simply left alone.
std::vector<std::string> candidate_polydirs(const Plan& plan) {
    std::vector<std::string> dirs;
    auto add = [&](const std::string& d) {
        if (!d.empty() && d.front() == '/' && std::find(dirs.begin(), dirs.end(), d) == dirs.end())
            dirs.push_back(d);
    };
    for (const MountStep& step : plan.steps) add(step.polydir);
    for (const SkippedRule& skipped : plan.skipped) add(skipped.polydir);
    return dirs;
}

namespace {

// Whether the kernel alone (statmount, Linux 6.8+) says the caller is inside
// an earlier session; nullopt when it cannot say for one of `dirs` (an older
// kernel, a polydir that is a mount point and no mount source from statmount,
// a path not to be opened): the mount table decides then, as it did before.
// (A mount hidden under a later mount on a parent directory is in the table
// but not on the path: the kernel's answer is the topmost mount the path
// reaches, which is what the session would stack on.)
std::optional<bool> inside_earlier_session_by_kernel(const std::vector<std::string>& dirs) {
    for (const std::string& polydir : dirs) {
        auto top = sys::top_mount_from_kernel(polydir);
        if (!top) return std::nullopt;
        if (!top->mounted_here) continue;
        if (!top->source) return std::nullopt;
        if (looks_polyinstantiated({top->root, top->fstype, *top->source})) return true;
    }
    return false;
}

}  // namespace

Result<bool> inside_earlier_session(const Plan& plan) {
    const std::vector<std::string> dirs = candidate_polydirs(plan);
    if (dirs.empty()) return false;
    if (auto by_kernel = inside_earlier_session_by_kernel(dirs)) return *by_kernel;
    auto table = sys::read_mount_table();
    if (!table) return table.error();
    for (const std::string& polydir : dirs) {
        auto here = sys::mounts_at(*table, polydir);
        if (!here.empty() && looks_polyinstantiated({here.back().root, here.back().fstype, here.back().source}))
            return true;
    }
    return false;
}

Result<std::vector<std::string>> unmount_previous(const Plan& plan, Log& log) {
    std::vector<std::string> unmounted;
    for (const std::string& polydir : candidate_polydirs(plan)) {
        bool any = false;
        for (int round = 0; round < max_stacked_mounts; ++round) {
            auto detached = detach_top_instance(polydir);
            if (!detached) return for_polydir(detached.error(), polydir);
            if (!*detached) break;
            any = true;
            log.debug("unmounted previous instance on " + polydir);
        }
        if (any) unmounted.push_back(polydir);
    }
    return unmounted;
}

}  // namespace polyns::engine
