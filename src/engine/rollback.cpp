#include "rollback.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "polyns/sys/mount.hpp"
#include "polyns/sys/remove_tree.hpp"

namespace polyns::engine {

void Rollback::mounted(std::shared_ptr<sys::UniqueFd> mount_root, std::string path) {
    actions_.push_back({Action::Kind::Mount, std::move(mount_root), {}, std::move(path)});
}

void Rollback::created_unique_instance(std::shared_ptr<sys::UniqueFd> template_fd, std::string name,
                                       std::string path) {
    actions_.push_back({Action::Kind::UniqueInstance, std::move(template_fd), std::move(name), std::move(path)});
}

void Rollback::created_polydir(sys::UniqueFd parent_fd, std::string name, std::string path) {
    actions_.push_back({Action::Kind::Polydir, std::make_shared<sys::UniqueFd>(std::move(parent_fd)),
                        std::move(name), std::move(path)});
}

void Rollback::undo_action(const Action& action) {
    switch (action.kind) {
    case Action::Kind::Mount:
        if (auto r = sys::detach_mount(action.fd->get(), action.path); !r)
            log_.warning("rollback: " + r.error().message());
        else
            log_.debug("rollback: unmounted " + action.path);
        break;
    case Action::Kind::UniqueInstance: {
        auto r = sys::remove_tree_at(action.fd->get(), action.name, action.path);
        if (!r) log_.warning("rollback: " + r.error().message());
        else if (!r->removed_root) log_.warning("rollback: could not remove all of " + action.path);
        else log_.debug("rollback: removed " + action.path);
        break;
    }
    case Action::Kind::Polydir:
        if (::unlinkat(action.fd->get(), action.name.c_str(), AT_REMOVEDIR) != 0)
            log_.warning("rollback: cannot remove created polydir " + action.path + ": rmdir: " + errno_text(errno));
        else
            log_.debug("rollback: removed created polydir " + action.path);
        break;
    }
}

void Rollback::undo() noexcept {
    armed_ = false;
    // Reverse order: a mount may sit on a polydir created earlier, an instance
    // may be the source of a mount made later. A mount whose undo fails (even
    // for want of memory) still goes away with the namespace we leave below.
    for (auto it = actions_.rbegin(); it != actions_.rend(); ++it) {
        try {
            undo_action(*it);
        } catch (...) {
        }
    }
    actions_.clear();
    // enter/restore allocate only to describe a failure; if even that fails,
    // the failure is all there is to know.
    try {
        auto back = sys::enter_mount_namespace(original_ns_.get());
        if (!back.ok()) {
            log_.warning("rollback: " + back.error().message());
            return;
        }
    } catch (...) {
        return;
    }
    try {
        auto restored = dirs_.restore();
        if (!restored.ok()) log_.warning("rollback: " + restored.error().message());
        else log_.debug("rollback: back in the original mount namespace");
    } catch (...) {
    }
}

}  // namespace polyns::engine
