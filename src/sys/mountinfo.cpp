#include "polyns/sys/mountinfo.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>

#include "polyns/sys/libmount.hpp"

namespace polyns::sys {
namespace {

struct FreeDeleter {
    void operator()(char* p) const { std::free(p); }
};
using MallocString = std::unique_ptr<char, FreeDeleter>;

std::string or_empty(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

unsigned long vfs_flags_of(const LibMount& lm, const char* vfs) {
    unsigned long flags = 0;
    if (vfs != nullptr) lm.optstr_get_flags(vfs, &flags, lm.get_builtin_optmap(MNT_LINUX_MAP));
    return flags;
}

}  // namespace

Result<MountOptions> parse_mount_options(const std::string& optstr) {
    MountOptions out;
    if (optstr.empty()) return out;
    auto loaded = libmount();
    if (!loaded) return loaded.error();
    const LibMount& lm = **loaded;
    char* user = nullptr;
    char* vfs = nullptr;
    char* fs = nullptr;
    int rc = lm.split_optstr(optstr.c_str(), &user, &vfs, &fs, 0, 0);
    MallocString user_owner(user), vfs_owner(vfs), fs_owner(fs);
    if (rc != 0)
        return make_error("parse mount options", "", "mnt_split_optstr", rc < 0 ? -rc : EINVAL,
                          "'" + optstr + "'");
    if (vfs != nullptr &&
        lm.optstr_get_flags(vfs, &out.flags, lm.get_builtin_optmap(MNT_LINUX_MAP)) != 0)
        return make_error("parse mount options", "", "mnt_optstr_get_flags", EINVAL, "'" + optstr + "'");
    out.fs_data = or_empty(fs);
    out.userspace = or_empty(user);
    return out;
}

Result<std::vector<MountEntry>> read_mount_table(const std::string& mountinfo_path) {
    auto loaded = libmount();
    if (!loaded) return loaded.error();
    const LibMount& lm = **loaded;
    std::unique_ptr<libmnt_table, decltype(lm.unref_table)> table(lm.new_table(), lm.unref_table);
    if (!table) return make_error("read the mount table", mountinfo_path, "mnt_new_table", ENOMEM);
    int rc = lm.table_parse_file(table.get(), mountinfo_path.c_str());
    if (rc != 0)
        return make_error("read the mount table", mountinfo_path, "mnt_table_parse_file",
                          rc < 0 ? -rc : EINVAL);
    std::unique_ptr<libmnt_iter, decltype(lm.free_iter)> iter(lm.new_iter(MNT_ITER_FORWARD), lm.free_iter);
    if (!iter) return make_error("read the mount table", mountinfo_path, "mnt_new_iter", ENOMEM);
    std::vector<MountEntry> entries;
    libmnt_fs* fs = nullptr;
    while (lm.table_next_fs(table.get(), iter.get(), &fs) == 0) {
        MountEntry e;
        e.id = lm.fs_get_id(fs);
        e.parent_id = lm.fs_get_parent_id(fs);
        e.target = or_empty(lm.fs_get_target(fs));
        e.root = or_empty(lm.fs_get_root(fs));
        e.fstype = or_empty(lm.fs_get_fstype(fs));
        e.source = or_empty(lm.fs_get_source(fs));
        e.vfs_options = or_empty(lm.fs_get_vfs_options(fs));
        e.fs_options = or_empty(lm.fs_get_fs_options(fs));
        e.vfs_flags = vfs_flags_of(lm, lm.fs_get_vfs_options(fs));
        e.dev = lm.fs_get_devno(fs);
        entries.push_back(std::move(e));
    }
    return entries;
}

Result<std::vector<MountEntry>> mounts_at(const std::string& target) {
    auto table = read_mount_table();
    if (!table) return table.error();
    return mounts_at(*table, target);
}

std::vector<MountEntry> mounts_at(const std::vector<MountEntry>& table, const std::string& target) {
    std::vector<MountEntry> here;
    for (const auto& e : table)
        if (e.target == target) here.push_back(e);
    // Stack order: the bottom one's parent is not at this mount point; each
    // next one's parent is the previous one.
    std::vector<MountEntry> ordered;
    ordered.reserve(here.size());
    auto is_here = [&](int id) {
        return std::any_of(here.begin(), here.end(), [&](const MountEntry& e) { return e.id == id; });
    };
    int below = -1;
    for (const auto& e : here) {
        if (!is_here(e.parent_id)) {
            ordered.push_back(e);
            below = e.id;
            break;
        }
    }
    while (below != -1 && ordered.size() < here.size()) {
        int next = -1;
        for (const auto& e : here) {
            if (e.parent_id == below) {
                ordered.push_back(e);
                next = e.id;
                break;
            }
        }
        below = next;
    }
    // Anything not on the chain (odd tables): keep it, in kernel order, after the chain.
    for (const auto& e : here) {
        bool placed = std::any_of(ordered.begin(), ordered.end(),
                                  [&](const MountEntry& o) { return o.id == e.id; });
        if (!placed) ordered.push_back(e);
    }
    return ordered;
}

}  // namespace polyns::sys
