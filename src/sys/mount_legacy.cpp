// The legacy backend for kernels without the new mount API: mount(2) on
// /proc/self/fd/N paths, so the target is still the pinned fd and no path is
// resolved again for the mount itself. Flags on a bind need MS_REMOUNT, which
// must name the new mount: it is re-opened by path (no symlinks) and verified
// to be the mount just made before anything is done to it.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>

#include "fault_injection.hpp"
#include "mount_backend.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/path.hpp"

namespace polyns::sys::legacy {
namespace {

// The flags a mount has now, as MS_* (what MS_REMOUNT|MS_BIND must repeat).
unsigned long current_mount_flags(const struct statvfs& sv) {
    unsigned long f = 0;
    if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
    if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
    return f;
}

// Opens what is now at target_path and checks it is the root of a mount other
// than the one target_fd is on, and (bind) the very directory we mounted.
Result<UniqueFd> reopen_new_mount(int target_fd, const std::string& target_path, const struct stat* source,
                                  const std::string& step) {
    auto old_pos = mount_position(target_fd, step, target_path);
    if (!old_pos) return old_pos.error();
    auto fd = open_path(target_path, O_PATH | O_DIRECTORY, step);
    if (!fd) return fd.error();
    auto pos = mount_position(fd->get(), step, target_path);
    if (!pos) return pos.error();
    bool is_new = pos->mount_id_known ? pos->mount_id != old_pos->mount_id
                  : source != nullptr     ? !(pos->dev == old_pos->dev && pos->ino == old_pos->ino)
                                          : pos->dev != old_pos->dev;
    if (pos->mount_root_known) is_new = is_new && pos->is_mount_root;
    if (source != nullptr) is_new = is_new && pos->dev == source->st_dev && pos->ino == source->st_ino;
    if (!is_new)
        return make_error(step, target_path, "", EBUSY,
                          "the path no longer leads to the mount just made (raced?)");
    return fd;
}

// Undo a just-made mount we could not finish; errors are secondary to the first one.
void detach_quietly(int mount_root_fd) { ::umount2(fd_path(mount_root_fd).c_str(), MNT_DETACH); }

}  // namespace

Result<UniqueFd> bind_mount(int source_fd, int target_fd, unsigned long ms_flags,
                            const std::string& source_path, const std::string& target_path) {
    auto source_st = stat_fd(source_fd, "bind mount", source_path);
    if (!source_st) return source_st.error();
    if (::mount(fd_path(source_fd).c_str(), fd_path(target_fd).c_str(), nullptr, MS_BIND, nullptr) != 0)
        return make_error("bind mount", source_path + " on " + target_path, "mount", errno);
    auto root = reopen_new_mount(target_fd, target_path, &*source_st, "bind mount");
    if (!root) return root.error();  // cannot name the new mount safely; the namespace is dropped on rollback
    if (ms_flags == 0) return root;
    struct statvfs sv {};
    if (::fstatvfs(root->get(), &sv) != 0) {
        int err = errno;
        detach_quietly(root->get());
        return make_error("set mount flags on", target_path, "fstatvfs", err);
    }
    unsigned long keep = current_mount_flags(sv);
    if (ms_flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) keep &= ~(MS_NOATIME | MS_RELATIME);
    int injected = injected_fault("mount_setattr");
    if (injected != 0 || ::mount(nullptr, fd_path(root->get()).c_str(), nullptr,
                                 MS_REMOUNT | MS_BIND | keep | ms_flags, nullptr) != 0) {
        int err = injected != 0 ? injected : errno;
        detach_quietly(root->get());
        return make_error("set mount flags on", target_path, "mount", err);
    }
    return root;
}

Result<UniqueFd> mount_tmpfs(int target_fd, unsigned long ms_flags, const std::string& fs_data,
                             const std::string& target_path) {
    if (::mount("polyns", fd_path(target_fd).c_str(), "tmpfs", ms_flags,
                fs_data.empty() ? nullptr : fs_data.c_str()) != 0)
        return make_error("mount tmpfs", target_path, "mount", errno,
                          fs_data.empty() ? "" : "options '" + fs_data + "'");
    auto root = reopen_new_mount(target_fd, target_path, nullptr, "mount tmpfs");
    if (!root) return root.error();
    struct statfs sf {};
    if (::fstatfs(root->get(), &sf) != 0 || sf.f_type != TMPFS_MAGIC) {
        return make_error("mount tmpfs", target_path, "", EBUSY,
                          "the path no longer leads to the tmpfs just mounted (raced?)");
    }
    return root;
}

Result<void> set_propagation_recursive(const std::string& path, Propagation propagation) {
    unsigned long type = propagation == Propagation::Slave ? MS_SLAVE : MS_PRIVATE;
    if (::mount(nullptr, path.c_str(), nullptr, MS_REC | type, nullptr) != 0)
        return make_error(propagation == Propagation::Slave ? "make / slave" : "make / private", path,
                          "mount", errno);
    return {};
}

}  // namespace polyns::sys::legacy
