#include "polyns/sys/file_ops.hpp"

#include <acl/libacl.h>
#include <fcntl.h>
#include <sys/acl.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "fault_injection.hpp"

namespace polyns::sys {

Result<struct stat> stat_fd(int fd, const std::string& step, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return make_error(step, path, "fstat", errno);
    return st;
}

Result<MountPosition> mount_position(int fd, const std::string& step, const std::string& path) {
    struct statx stx {};
    if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
                STATX_MNT_ID | STATX_INO | STATX_TYPE, &stx) != 0)
        return make_error(step, path, "statx", errno);
    MountPosition pos;
    pos.mount_id_known = (stx.stx_mask & STATX_MNT_ID) != 0;
    pos.mount_id = pos.mount_id_known ? stx.stx_mnt_id : 0;
    pos.mount_root_known = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0;
    pos.is_mount_root = (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    pos.dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
    pos.ino = stx.stx_ino;
    return pos;
}

Result<void> make_dir_at(int dir_fd, const std::string& name, mode_t mode, const std::string& step,
                         const std::string& path) {
    if (int err = injected_fault("mkdirat")) return make_error(step, path, "mkdirat", err);
    if (::mkdirat(dir_fd, name.c_str(), mode) != 0) return make_error(step, path, "mkdirat", errno);
    return {};
}

Result<void> set_owner(int fd, uid_t uid, gid_t gid, const std::string& step, const std::string& path) {
    if (int err = injected_fault("fchown")) return make_error(step, path, "fchown", err);
    if (::fchownat(fd, "", uid, gid, AT_EMPTY_PATH) != 0) return make_error(step, path, "fchown", errno);
    return {};
}

Result<void> set_mode(int fd, mode_t mode, const std::string& step, const std::string& path) {
    if (int err = injected_fault("fchmod")) return make_error(step, path, "fchmod", err);
    if (::fchmod(fd, mode) != 0) return make_error(step, path, "fchmod", errno);
    return {};
}

Result<void> remove_empty_dir_at(int dir_fd, const std::string& name, const std::string& step,
                                 const std::string& path) {
    if (int err = injected_fault("rmdir")) return make_error(step, path, "rmdir", err);
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0) return make_error(step, path, "rmdir", errno);
    return {};
}

Result<std::string> random_name_suffix(std::size_t length) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string out;
    while (out.size() < length) {
        unsigned char bytes[32];
        ssize_t n = ::getrandom(bytes, sizeof bytes, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error("make a unique instance name", "", "getrandom", errno);
        }
        for (ssize_t i = 0; i < n && out.size() < length; ++i) {
            // 248 = 4 * 62: reject the tail so every character is equally likely.
            if (bytes[i] >= 248) continue;
            out.push_back(alphabet[bytes[i] % 62]);
        }
    }
    return out;
}

std::string octal_mode(mode_t mode) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

Result<std::string> who_else_can_search(int fd, const std::string& step, const std::string& path) {
    // acl_get_fd needs an fd opened for reading; the magic link works for O_PATH.
    std::string proc = "/proc/thread-self/fd/" + std::to_string(fd);
    std::unique_ptr<void, int (*)(void*)> acl(::acl_get_file(proc.c_str(), ACL_TYPE_ACCESS), ::acl_free);
    if (!acl) return make_error(step, path, "acl_get_file", errno);
    struct Entry {
        acl_tag_t tag;
        unsigned long id;
        bool search;
    };
    std::vector<Entry> entries;
    bool mask_search = true;
    acl_entry_t entry;
    for (int which = ACL_FIRST_ENTRY; ::acl_get_entry(static_cast<acl_t>(acl.get()), which, &entry) == 1;
         which = ACL_NEXT_ENTRY) {
        acl_tag_t tag = ACL_UNDEFINED_TAG;
        acl_permset_t perms;
        if (::acl_get_tag_type(entry, &tag) != 0 || ::acl_get_permset(entry, &perms) != 0)
            return make_error(step, path, "acl_get_entry", errno);
        bool search = ::acl_get_perm(perms, ACL_EXECUTE) == 1;
        if (tag == ACL_MASK) {
            mask_search = search;
            continue;
        }
        unsigned long id = 0;
        if (tag == ACL_USER || tag == ACL_GROUP) {
            void* qualifier = ::acl_get_qualifier(entry);
            if (qualifier == nullptr) return make_error(step, path, "acl_get_qualifier", errno);
            id = tag == ACL_USER ? *static_cast<uid_t*>(qualifier) : *static_cast<gid_t*>(qualifier);
            ::acl_free(qualifier);
        }
        entries.push_back({tag, id, search});
    }
    auto st = stat_fd(fd, step, path);
    if (!st) return st.error();
    std::string who;
    auto add = [&who](const std::string& text) { who += (who.empty() ? "" : ", ") + text; };
    for (const Entry& e : entries) {
        // The mask limits every entry but the owner's and other's.
        bool masked = e.tag == ACL_USER || e.tag == ACL_GROUP || e.tag == ACL_GROUP_OBJ;
        if (!e.search || (masked && !mask_search)) continue;
        if (e.tag == ACL_OTHER) add("other");
        else if (e.tag == ACL_GROUP_OBJ) add("group " + std::to_string(st->st_gid));
        else if (e.tag == ACL_USER && e.id != 0) add("ACL user:" + std::to_string(e.id));
        else if (e.tag == ACL_GROUP) add("ACL group:" + std::to_string(e.id));
    }
    return who;
}

}  // namespace polyns::sys
