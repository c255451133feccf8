#include "polyns/sys/remove_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/path.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys {
namespace {

constexpr const char* step_remove = "remove instance";
// Directories kept open at once (besides the root); deeper ones are re-entered via "..".
constexpr std::size_t open_window = 64;
constexpr std::size_t max_kept_listed = 32;
constexpr int dir_open_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

struct Level {
    std::string name;  // name in the parent level
    dev_t dev = 0;
    ino_t ino = 0;
    DIR* dir = nullptr;          // null while outside the open window
    std::set<std::string> kept;  // entries that stay: skipped when the level is read again
};

class Walk {
public:
    Walk(const std::string& root_path, const MountPosition& root_pos) : root_path_(root_path), root_pos_(root_pos) {}
    ~Walk() {
        for (auto& level : levels_)
            if (level.dir != nullptr) ::closedir(level.dir);
    }
    Walk(const Walk&) = delete;
    Walk& operator=(const Walk&) = delete;

    Result<void> run(UniqueFd root_fd, const struct stat& root_st, RemovalReport& report);

private:
    std::string path_of(const std::string& name) const {
        std::string p = root_path_;
        for (std::size_t i = 1; i < levels_.size(); ++i) p = join_path(p, levels_[i].name);
        return join_path(p, name);
    }
    void keep(const std::string& name, const std::string& why, RemovalReport& report) {
        levels_.back().kept.insert(name);
        if (report.kept.size() < max_kept_listed) report.kept.push_back(path_of(name) + " (" + why + ")");
    }
    bool same_mount(const MountPosition& pos) const {
        if (pos.dev != root_pos_.dev) return false;
        if (pos.mount_id_known && root_pos_.mount_id_known && pos.mount_id != root_pos_.mount_id) return false;
        if (pos.mount_root_known && pos.is_mount_root) return false;
        return true;
    }
    Result<void> enter(const std::string& name, UniqueFd fd, const struct stat& st);
    Result<void> leave(RemovalReport& report);
    void remove_entry(const std::string& name, unsigned char type, RemovalReport& report,
                      Result<void>& failure);

    std::string root_path_;
    MountPosition root_pos_;
    std::vector<Level> levels_;
    std::size_t closed_levels_ = 0;  // levels 1..closed_levels_ have no open DIR
};

Result<void> Walk::enter(const std::string& name, UniqueFd fd, const struct stat& st) {
    DIR* dir = ::fdopendir(fd.get());
    if (dir == nullptr) return make_error(step_remove, path_of(name), "fdopendir", errno);
    fd.release();
    Level level;
    level.name = name;
    level.dev = st.st_dev;
    level.ino = st.st_ino;
    level.dir = dir;
    levels_.push_back(std::move(level));
    // Bound the open fds: close the shallowest open level (never the root).
    std::size_t open_levels = levels_.size() - 1 - closed_levels_;
    if (open_levels > open_window) {
        Level& oldest = levels_[1 + closed_levels_];
        ::closedir(oldest.dir);
        oldest.dir = nullptr;
        ++closed_levels_;
    }
    return {};
}

// Done with the deepest level: go back to its parent (re-entering it through
// ".." when it was closed) and remove the now empty directory.
Result<void> Walk::leave(RemovalReport& report) {
    Level child = std::move(levels_.back());
    levels_.pop_back();
    Level& parent = levels_.back();
    if (parent.dir == nullptr) {
        UniqueFd up(::openat(::dirfd(child.dir), "..", dir_open_flags));
        int err = errno;
        ::closedir(child.dir);
        child.dir = nullptr;
        if (!up) return make_error(step_remove, path_of(""), "openat ..", err);
        struct stat up_st {};
        if (::fstat(up.get(), &up_st) != 0) return make_error(step_remove, path_of(""), "fstat", errno);
        const struct stat* st = &up_st;
        if (st->st_dev != parent.dev || st->st_ino != parent.ino)
            return make_error(step_remove, path_of(""), "", ESTALE,
                              "a directory was moved during removal; stopping");
        parent.dir = ::fdopendir(up.get());
        if (parent.dir == nullptr) return make_error(step_remove, path_of(""), "fdopendir", errno);
        up.release();
        --closed_levels_;
    } else {
        ::closedir(child.dir);
        child.dir = nullptr;
    }
    if (::unlinkat(::dirfd(parent.dir), child.name.c_str(), AT_REMOVEDIR) == 0) {
        ++report.removed;
    } else if (errno != ENOENT) {
        keep(child.name, errno_text(errno), report);
    }
    return {};
}

void Walk::remove_entry(const std::string& name, unsigned char type, RemovalReport& report,
                        Result<void>& failure) {
    int dir_fd = ::dirfd(levels_.back().dir);
    if (type != DT_DIR && type != DT_UNKNOWN) {
        if (::unlinkat(dir_fd, name.c_str(), 0) == 0) {
            ++report.removed;
            return;
        }
        if (errno == ENOENT) return;
        if (errno != EISDIR) {
            keep(name, errno_text(errno), report);
            return;
        }
        // Replaced by a directory since readdir: treat it as one.
    }
    // O_PATH first: crossing into a mount asks its filesystem nothing, and
    // statx without sync neither. A mount is never entered (a user's FUSE
    // mount would hang the logout on an open); only then is it opened for reading.
    UniqueFd where(::openat(dir_fd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!where) {
        if (errno != ENOENT) keep(name, errno_text(errno), report);
        return;
    }
    auto where_pos = mount_position(where.get(), step_remove, root_path_);
    if (!where_pos) {
        keep(name, "cannot stat", report);
        return;
    }
    if (!same_mount(*where_pos)) {
        keep(name, "a mount point; not crossed", report);
        return;
    }
    UniqueFd child(::openat(where.get(), ".", dir_open_flags));
    if (!child) {
        int err = errno;
        if (err == ENOENT) return;
        if (err == ENOTDIR || err == ELOOP) {  // a symlink or a non-directory: unlink it, never follow it
            if (::unlinkat(dir_fd, name.c_str(), 0) == 0) ++report.removed;
            else if (errno != ENOENT) keep(name, errno_text(errno), report);
            return;
        }
        keep(name, errno_text(err), report);
        return;
    }
    // Paths are only spelled out for messages: building one per entry would
    // make a deep tree quadratic.
    auto pos = mount_position(child.get(), step_remove, root_path_);
    auto st = stat_fd(child.get(), step_remove, root_path_);
    if (!pos || !st) {
        keep(name, "cannot stat", report);
        return;
    }
    if (!same_mount(*pos)) {
        keep(name, "a mount point; not crossed", report);
        return;
    }
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) == 0) {  // empty: no need to go in
        ++report.removed;
        return;
    }
    if (errno != ENOTEMPTY && errno != EEXIST) {
        if (errno != ENOENT) keep(name, errno_text(errno), report);
        return;
    }
    if (auto entered = enter(name, std::move(child), *st); !entered) failure = entered.error();
}

Result<void> Walk::run(UniqueFd root_fd, const struct stat& root_st, RemovalReport& report) {
    if (auto entered = enter("", std::move(root_fd), root_st); !entered) return entered;
    while (!levels_.empty()) {
        Level& level = levels_.back();
        errno = 0;
        struct dirent* entry = ::readdir(level.dir);
        if (entry == nullptr) {
            if (errno != 0) return make_error(step_remove, path_of(""), "readdir", errno);
            if (levels_.size() == 1) return {};
            if (auto left = leave(report); !left) return left;
            continue;
        }
        std::string name = entry->d_name;
        if (name == "." || name == ".." || level.kept.count(name) != 0) continue;
        Result<void> failure;
        remove_entry(name, entry->d_type, report, failure);
        if (!failure) return failure;
    }
    return {};
}

}  // namespace

Result<RemovalReport> remove_tree_at(int parent_fd, const std::string& name, const std::string& path) {
    auto root = open_below(parent_fd, name, dir_open_flags, step_remove, path);
    if (!root) return root.error();
    auto parent_pos = mount_position(parent_fd, step_remove, path);
    if (!parent_pos) return parent_pos.error();
    auto root_pos = mount_position(root->get(), step_remove, path);
    if (!root_pos) return root_pos.error();
    auto root_st = stat_fd(root->get(), step_remove, path);
    if (!root_st) return root_st.error();
    bool root_is_mount = root_pos->dev != parent_pos->dev ||
                         (root_pos->mount_id_known && root_pos->mount_id != parent_pos->mount_id) ||
                         (root_pos->mount_root_known && root_pos->is_mount_root);
    if (root_is_mount)
        return make_error(step_remove, path, "", EBUSY, "something is mounted on it; not crossing a mount");

    RemovalReport report;
    {
        Walk walk(path, *root_pos);
        if (auto walked = walk.run(std::move(*root), *root_st, report); !walked) return walked.error();
    }
    if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) == 0) {
        ++report.removed;
        report.removed_root = true;
    } else if (errno == ENOENT) {
        report.removed_root = true;
    } else if (report.kept.size() < max_kept_listed) {
        report.kept.push_back(path + " (" + errno_text(errno) + ")");
    }
    return report;
}

}  // namespace polyns::sys
