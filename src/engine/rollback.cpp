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

void Rollback::undo() {
    armed_ = false;
    // Reverse order: a mount may sit on a polydir created earlier, an instance
    // may be the source of a mount made later.
    for (auto it = actions_.rbegin(); it != actions_.rend(); ++it) {
        switch (it->kind) {
        case Action::Kind::Mount:
            if (auto r = sys::detach_mount(it->fd->get(), it->path); !r)
                log_.warning("rollback: " + r.error().message());
            else
                log_.debug("rollback: unmounted " + it->path);
            break;
        case Action::Kind::UniqueInstance: {
            auto r = sys::remove_tree_at(it->fd->get(), it->name, it->path);
            if (!r) log_.warning("rollback: " + r.error().message());
            else if (!r->removed_root) log_.warning("rollback: could not remove all of " + it->path);
            else log_.debug("rollback: removed " + it->path);
            break;
        }
        case Action::Kind::Polydir:
            if (::unlinkat(it->fd->get(), it->name.c_str(), AT_REMOVEDIR) != 0)
                log_.warning("rollback: cannot remove created polydir " + it->path + ": rmdir: " +
                             errno_text(errno));
            else
                log_.debug("rollback: removed created polydir " + it->path);
            break;
        }
    }
    actions_.clear();
    if (auto r = sys::enter_mount_namespace(original_ns_.get()); !r) {
        log_.warning("rollback: " + r.error().message());
        return;
    }
    if (auto r = dirs_.restore(); !r) log_.warning("rollback: " + r.error().message());
    log_.debug("rollback: back in the original mount namespace");
}

}  // namespace polyns::engine
