// The new mount API (Linux 5.2+, mount_setattr 5.12+): everything by fd, flags
// applied to the detached tree before it becomes visible, so there is no window
// in which the instance is mounted without nosuid/nodev/noexec.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "fault_injection.hpp"
#include "mount_backend.hpp"
#include "polyns/sys/libmount.hpp"

namespace polyns::sys::new_api {
namespace {

struct MountAttrFlags {
    std::uint64_t set = 0;
    std::uint64_t clear = 0;
};

MountAttrFlags to_mount_attr(unsigned long ms_flags) {
    MountAttrFlags a;
    if (ms_flags & MS_RDONLY) a.set |= MOUNT_ATTR_RDONLY;
    if (ms_flags & MS_NOSUID) a.set |= MOUNT_ATTR_NOSUID;
    if (ms_flags & MS_NODEV) a.set |= MOUNT_ATTR_NODEV;
    if (ms_flags & MS_NOEXEC) a.set |= MOUNT_ATTR_NOEXEC;
    if (ms_flags & MS_NODIRATIME) a.set |= MOUNT_ATTR_NODIRATIME;
    // The atime mode is one field: replace it only when one is asked for.
    if (ms_flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
        a.clear |= MOUNT_ATTR__ATIME;
        if (ms_flags & MS_NOATIME) a.set |= MOUNT_ATTR_NOATIME;
        else if (ms_flags & MS_STRICTATIME) a.set |= MOUNT_ATTR_STRICTATIME;
        else a.set |= MOUNT_ATTR_RELATIME;
    }
    return a;
}

// The kernel explains fsconfig failures in the fs context's message log
// ("e tmpfs: Bad value for 'size'"); collect it for the error's detail.
std::string fs_context_messages(int fs_fd) {
    std::string all;
    char buf[512];
    for (int i = 0; i < 8; ++i) {
        ssize_t n = ::read(fs_fd, buf, sizeof buf - 1);
        if (n <= 0) break;
        if (!all.empty()) all += "; ";
        std::string line(buf, static_cast<std::size_t>(n));
        while (!line.empty() && line.back() == '\n') line.pop_back();
        if (line.size() > 2 && line[1] == ' ') line = line.substr(2);  // "e ", "w ", "i " prefixes
        all += line;
    }
    return all;
}

Result<void> configure_tmpfs(int fs_fd, const std::string& fs_data, const std::string& target_path) {
    if (::fsconfig(fs_fd, FSCONFIG_SET_STRING, "source", "polyns", 0) != 0)
        return make_error("mount tmpfs", target_path, "fsconfig", errno, fs_context_messages(fs_fd));
    if (fs_data.empty()) return {};
    auto loaded = libmount();
    if (!loaded) return loaded.error();
    const LibMount& lm = **loaded;
    std::string copy = fs_data;  // the parser wants a mutable cursor
    char* cursor = copy.data();
    for (;;) {
        char* name = nullptr;
        char* value = nullptr;
        std::size_t name_size = 0, value_size = 0;
        int rc = lm.optstr_next_option(&cursor, &name, &name_size, &value, &value_size);
        if (rc == 1) break;
        if (rc < 0)
            return make_error("mount tmpfs", target_path, "", EINVAL,
                              "cannot parse tmpfs options '" + fs_data + "'");
        std::string key(name, name_size);
        int set_rc = value == nullptr
                         ? ::fsconfig(fs_fd, FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0)
                         : ::fsconfig(fs_fd, FSCONFIG_SET_STRING, key.c_str(),
                                      std::string(value, value_size).c_str(), 0);
        if (set_rc != 0) {
            int err = errno;
            std::string why = fs_context_messages(fs_fd);
            return make_error("mount tmpfs", target_path, "fsconfig", err,
                              "option '" + std::string(name, name_size + (value ? value_size + 1 : 0)) +
                                  "'" + (why.empty() ? "" : ": " + why));
        }
    }
    return {};
}

Result<void> attach(int tree_fd, int target_fd, const std::string& step, const std::string& target_path) {
    if (::move_mount(tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return make_error(step, target_path, "move_mount", errno);
    return {};
}

}  // namespace

Result<UniqueFd> bind_mount(int source_fd, int target_fd, unsigned long ms_flags,
                            const std::string& source_path, const std::string& target_path) {
    UniqueFd tree(::open_tree(source_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
    if (!tree) return make_error("bind mount", source_path, "open_tree", errno);
    if (ms_flags != 0) {
        MountAttrFlags flags = to_mount_attr(ms_flags);
        struct mount_attr attr {};
        attr.attr_set = flags.set;
        attr.attr_clr = flags.clear;
        if (int err = injected_fault("mount_setattr"))
            return make_error("set mount flags on", target_path, "mount_setattr", err);
        if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
            return make_error("set mount flags on", target_path, "mount_setattr", errno);
    }
    if (auto ok = attach(tree.get(), target_fd, "bind mount", target_path); !ok) return ok.error();
    return tree;  // now the attached mount's root
}

Result<UniqueFd> mount_tmpfs(int target_fd, unsigned long ms_flags, const std::string& fs_data,
                             const std::string& target_path) {
    UniqueFd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
    if (!fs) return make_error("mount tmpfs", target_path, "fsopen", errno);
    if (auto ok = configure_tmpfs(fs.get(), fs_data, target_path); !ok) return ok.error();
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
        int err = errno;
        return make_error("mount tmpfs", target_path, "fsconfig", err, fs_context_messages(fs.get()));
    }
    MountAttrFlags flags = to_mount_attr(ms_flags);
    UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, static_cast<unsigned>(flags.set)));
    if (!mnt) return make_error("mount tmpfs", target_path, "fsmount", errno);
    if (auto ok = attach(mnt.get(), target_fd, "mount tmpfs", target_path); !ok) return ok.error();
    return mnt;
}

Result<void> set_propagation_recursive(const std::string& path, Propagation propagation) {
    struct mount_attr attr {};
    attr.propagation = propagation == Propagation::Slave ? MS_SLAVE : MS_PRIVATE;
    if (::mount_setattr(AT_FDCWD, path.c_str(), AT_RECURSIVE | AT_SYMLINK_NOFOLLOW, &attr, sizeof attr) != 0)
        return make_error(propagation == Propagation::Slave ? "make / slave" : "make / private", path,
                          "mount_setattr", errno);
    return {};
}

}  // namespace polyns::sys::new_api
