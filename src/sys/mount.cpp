#include "polyns/sys/mount.hpp"

#include <cerrno>
#include <atomic>

#include "fault_injection.hpp"
#include "mount_backend.hpp"

namespace polyns::sys {
namespace {

std::atomic<MountBackend> g_backend{MountBackend::Auto};
// Set when the new API answered ENOSYS under Auto; legacy from then on.
std::atomic<bool> g_new_api_missing{false};

bool use_new_api() {
    switch (g_backend.load()) {
    case MountBackend::NewApi: return true;
    case MountBackend::Legacy: return false;
    case MountBackend::Auto: break;
    }
    return !g_new_api_missing.load();
}

// Under Auto, ENOSYS from the new API means "old kernel": retry with legacy.
template <typename T, typename NewFn, typename LegacyFn>
Result<T> dispatch(NewFn&& new_fn, LegacyFn&& legacy_fn) {
    if (use_new_api()) {
        Result<T> r = new_fn();
        if (r.ok() || r.error().err != ENOSYS || g_backend.load() != MountBackend::Auto) return r;
        g_new_api_missing.store(true);
    }
    return legacy_fn();
}

}  // namespace

void set_mount_backend(MountBackend backend) { g_backend.store(backend); }
MountBackend mount_backend() { return g_backend.load(); }
MountBackend effective_mount_backend() {
    return use_new_api() ? MountBackend::NewApi : MountBackend::Legacy;
}

const char* mount_backend_name(MountBackend backend) {
    switch (backend) {
    case MountBackend::Auto: return "auto";
    case MountBackend::NewApi: return "new-api";
    case MountBackend::Legacy: return "legacy";
    }
    return "?";
}

std::string fd_path(int fd) { return "/proc/thread-self/fd/" + std::to_string(fd); }

Result<UniqueFd> bind_mount(int source_fd, int target_fd, unsigned long ms_flags,
                            const std::string& source_path, const std::string& target_path) {
    if ((ms_flags & ~supported_mount_flags) != 0)
        return make_error("bind mount", target_path, "", EINVAL, "unsupported mount flags");
    if (int err = injected_fault("mount")) return make_error("bind mount", source_path + " on " + target_path, "mount", err);
    return dispatch<UniqueFd>(
        [&] { return new_api::bind_mount(source_fd, target_fd, ms_flags, source_path, target_path); },
        [&] { return legacy::bind_mount(source_fd, target_fd, ms_flags, source_path, target_path); });
}

Result<UniqueFd> mount_tmpfs(int target_fd, unsigned long ms_flags, const std::string& fs_data,
                             const std::string& target_path) {
    if ((ms_flags & ~supported_mount_flags) != 0)
        return make_error("mount tmpfs", target_path, "", EINVAL, "unsupported mount flags");
    if (int err = injected_fault("mount")) return make_error("mount tmpfs", target_path, "mount", err);
    return dispatch<UniqueFd>(
        [&] { return new_api::mount_tmpfs(target_fd, ms_flags, fs_data, target_path); },
        [&] { return legacy::mount_tmpfs(target_fd, ms_flags, fs_data, target_path); });
}

Result<void> set_propagation_recursive(const std::string& path, Propagation propagation) {
    if (int err = injected_fault("propagation"))
        return make_error(propagation == Propagation::Slave ? "make / slave" : "make / private", path,
                          "mount_setattr", err);
    return dispatch<void>([&] { return new_api::set_propagation_recursive(path, propagation); },
                          [&] { return legacy::set_propagation_recursive(path, propagation); });
}

Result<void> detach_mount(int mount_root_fd, const std::string& path) {
    // No UMOUNT_NOFOLLOW: the magic link is the last component and must be followed
    // to reach (that mount, its root).
    if (int err = injected_fault("detach")) return make_error("unmount", path, "umount2", err);
    if (::umount2(fd_path(mount_root_fd).c_str(), MNT_DETACH) != 0)
        return make_error("unmount", path, "umount2", errno);
    return {};
}

}  // namespace polyns::sys
