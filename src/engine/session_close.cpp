// close_session: remove tmpdir instances, then (unmount_on_close) unmount.
#include <fcntl.h>
#include <sys/stat.h>

#include "pinned_step.hpp"
#include "polyns/engine.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/mount.hpp"
#include "polyns/sys/mountinfo.hpp"
#include "polyns/sys/path.hpp"
#include "polyns/sys/remove_tree.hpp"
#include "polyns/sys/users.hpp"

namespace polyns {
namespace {

// Without the fd pinned at open, the template is found by path again. In the
// session's namespace that path may lead into a user's instance (a template
// under a polydir), so what is found must pass the template checks: a
// user-made directory is not root-owned and is refused.
Result<std::shared_ptr<sys::UniqueFd>> reopen_template(const MountedPolydir& m) {
    auto fd = sys::open_path(m.template_dir, O_PATH | O_DIRECTORY, "open template", sys::Links::FollowRootOnly);
    if (!fd) return fd.error();
    auto st = sys::stat_fd(fd->get(), "open template", m.template_dir);
    if (!st) return st.error();
    if (st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return make_error("use template", m.template_dir, "", 0,
                          "not root-owned or writable by group/other now; not removing anything in it");
    return std::make_shared<sys::UniqueFd>(std::move(*fd));
}

Result<void> remove_temporary_instance(const MountedPolydir& m, Log& log) {
    std::string path = sys::join_path(m.template_dir, m.instance_name);
    if (!sys::is_single_component(m.instance_name))
        return make_error("remove instance", path, "", EINVAL, "not a single path component");
    auto tmpl = m.template_fd ? Result<std::shared_ptr<sys::UniqueFd>>(m.template_fd) : reopen_template(m);
    if (!tmpl) return tmpl.error();
    // With the session user's rights, never root's: she may have renamed
    // into her instance a directory of someone else's that she could move
    // but not empty (DESIGN invariant 9).
    auto owner = sys::credentials_of_uid(m.owner_uid, m.owner_gid);
    if (!owner) return owner.error();
    auto report = sys::remove_tree_as(*owner, (*tmpl)->get(), m.instance_name, path);
    if (!report) {
        if (report.error().err == ENOENT) return {};  // already gone
        return report.error();
    }
    if (!report->kept.empty()) log.warning(engine::left_in_place_line(path, report->kept));
    if (!report->removed_root)
        return make_error("remove instance", path, "", 0,
                          "could not remove everything (" + std::to_string(report->kept.size()) +
                              " entries left, named in the warning before: what its owner may not remove, "
                              "mount points, which are never crossed)");
    log.debug("removed temporary instance " + path + " (" + std::to_string(report->removed) + " entries)");
    return {};
}

// Unmount by path (state not pinned here): only a mount that looks like
// polyinstantiation, never the filesystem normally mounted on the polydir.
Result<void> unmount_by_path(const std::string& polydir) {
    auto here = sys::mounts_at(polydir);
    if (!here) return here.error();
    if (here->empty()) return {};
    const sys::MountEntry& top = here->back();
    if (!engine::looks_polyinstantiated({top.root, top.fstype, top.source})) return {};
    auto fd = sys::open_path(polydir, O_PATH | O_DIRECTORY, "unmount", sys::Links::FollowRootOnly);
    if (!fd) return fd.error();
    auto pos = sys::mount_position(fd->get(), "unmount", polydir);
    if (!pos) return pos.error();
    if (pos->mount_id_known && pos->mount_id != static_cast<std::uint64_t>(top.id))
        return make_error("unmount", polydir, "", EBUSY, "the mount table changed while looking at it");
    return sys::detach_mount(fd->get(), polydir);
}

}  // namespace

Result<void> close_session(const SessionState& state, Log& log) {
    Result<void> first_error;
    auto keep_first = [&](Result<void> r, const std::string& polydir) {
        if (!r && first_error) first_error = engine::for_polydir(r.error(), polydir);
        else if (!r) log.warning(engine::for_polydir(r.error(), polydir).message());
    };
    for (const MountedPolydir& m : state.mounted) {
        if (m.remove_on_close) keep_first(remove_temporary_instance(m, log), m.polydir);
    }
    if (state.unmount_on_close) {
        for (auto it = state.mounted.rbegin(); it != state.mounted.rend(); ++it) {
            Result<void> r = it->mount_root_fd ? sys::detach_mount(it->mount_root_fd->get(), it->polydir)
                                               : unmount_by_path(it->polydir);
            if (r) log.debug("unmounted " + it->polydir);
            keep_first(std::move(r), it->polydir);
        }
    }
    return first_error;
}

}  // namespace polyns
