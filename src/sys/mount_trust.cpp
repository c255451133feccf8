#include "mount_trust.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "polyns/sys/mountinfo.hpp"
#include "statmount.hpp"

namespace polyns::sys {
namespace {

constexpr std::uint64_t fuse_super_magic = 0x65735546;

// What the walk needs to know about a mount: its filesystem type and options.
struct MountIdentity {
    std::string fstype;
    std::optional<std::uint64_t> magic;
    std::optional<std::string> options;  // the superblock's ("user_id=1001,group_id=1001,allow_other")
    std::uint32_t old_id = 0;            // mountinfo's id, when statmount gave one
    std::string source;                  // which call said it: statmount or /proc/thread-self/mountinfo
};

bool is_fuse(const MountIdentity& m) {
    // virtiofs speaks FUSE but only root mounts it (its daemon is the VMM's).
    if (m.fstype == "virtiofs") return false;
    if (m.magic && *m.magic == fuse_super_magic) return true;
    std::string_view t = m.fstype;
    return t == "fuse" || t == "fuseblk" || t.starts_with("fuse.") || t.starts_with("fuseblk.");
}

// The value of `key=` in a comma-separated option string.
std::optional<std::string> option_value(const std::string& options, std::string_view key) {
    std::size_t pos = 0;
    while (pos <= options.size()) {
        std::size_t end = options.find(',', pos);
        if (end == std::string::npos) end = options.size();
        std::string_view opt(options.data() + pos, end - pos);
        if (opt.size() > key.size() && opt.starts_with(key) && opt[key.size()] == '=')
            return std::string(opt.substr(key.size() + 1));
        pos = end + 1;
    }
    return std::nullopt;
}

// Whether the mount is FUSE, from its superblock's magic alone: one
// statmount without strings, into a buffer on the stack. nullopt: no answer
// (no statmount here, or it failed); identify() then asks in full.
std::optional<bool> fuse_by_magic(std::uint64_t unique_id) {
    MntIdReq req{sizeof(MntIdReq), 0, unique_id, statmount_sb_basic};
    StatMount head{};
    for (;;) {
        if (::syscall(sys_statmount, &req, &head, sizeof head, 0) == 0) {
            if ((head.mask & statmount_sb_basic) == 0) return std::nullopt;
            return head.sb_magic == fuse_super_magic;
        }
        if (errno != EINTR) return std::nullopt;
    }
}

enum class Asked { Answered, Unsupported, Failed };

// statmount by the unique mount id. Unsupported: no statmount here (old
// kernel, or a seccomp filter that answers ENOSYS/EPERM).
Asked ask_statmount(std::uint64_t unique_id, MountIdentity& out, int& err) {
    StatMountAnswer answer;
    // 6.8-6.10 know no STATMOUNT_MNT_OPTS; the mount table has them.
    err = answer.ask(unique_id, statmount_sb_basic | statmount_mnt_basic | statmount_fs_type | statmount_mnt_opts,
                     statmount_mnt_opts);
    if (err != 0) return err == ENOSYS || err == EPERM ? Asked::Unsupported : Asked::Failed;
    const StatMount& head = answer.head();
    if (head.mask & statmount_sb_basic) out.magic = head.sb_magic;
    if (head.mask & statmount_mnt_basic) out.old_id = head.mnt_id_old;
    if (head.mask & statmount_fs_type) out.fstype = answer.string_at(head.fs_type).value_or("");
    // An empty option string is not reported as a string at all.
    if (head.mask & statmount_mnt_opts) out.options = answer.string_at(head.mnt_opts).value_or("");
    out.source = "statmount";
    return Asked::Answered;
}

// The mount table (libmount), by mountinfo's mount id or, on kernels
// without one in statx (< 5.8), by the filesystem's device.
Asked ask_mount_table(std::optional<std::uint32_t> old_id, dev_t dev, MountIdentity& out, int& err) {
    auto table = read_mount_table();
    if (!table) {
        err = table.error().err;
        return Asked::Failed;
    }
    for (const MountEntry& e : *table) {
        bool match = old_id ? e.id == static_cast<int>(*old_id) : e.dev == dev;
        if (!match) continue;
        out.fstype = e.fstype;
        out.options = e.fs_options;
        out.source = "/proc/thread-self/mountinfo";
        return Asked::Answered;
    }
    err = ENOENT;
    return Asked::Failed;
}

Error unknown_mount(const std::string& step, const std::string& path, const std::string& mount_point,
                    const std::string& syscall, int err) {
    return make_error(step, path, syscall, err,
                      "cannot tell which filesystem is mounted at " + mount_point +
                          "; not entering it (a user's FUSE filesystem there would stall the login)",
                      "check what is mounted at " + mount_point + " (findmnt " + mount_point + ")");
}

Result<MountIdentity> identify(int fd, const MountProbe& probe, const std::string& mount_point,
                               const std::string& step, const std::string& path) {
    MountIdentity m;
    int err = 0;
    if (probe.id_kind == MountProbe::IdKind::Unique) {
        Asked asked = ask_statmount(probe.mount_id, m, err);
        if (asked == Asked::Failed) return unknown_mount(step, path, mount_point, "statmount", err);
        if (asked == Asked::Answered) {
            if (m.options || !is_fuse(m)) return m;
            // A FUSE mount on 6.8-6.10: its user_id= is in the mount table.
            MountIdentity listed;
            if (ask_mount_table(m.old_id, 0, listed, err) != Asked::Answered)
                return unknown_mount(step, path, mount_point, "/proc/thread-self/mountinfo", err);
            m.options = listed.options;
            return m;
        }
        // No statmount: mountinfo's id of the same mount, from statx again.
        struct statx stx {};
        if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) != 0)
            return unknown_mount(step, path, mount_point, "statx", errno);
        if ((stx.stx_mask & STATX_MNT_ID) == 0) return unknown_mount(step, path, mount_point, "statx", ENOSYS);
        if (ask_mount_table(static_cast<std::uint32_t>(stx.stx_mnt_id), 0, m, err) != Asked::Answered)
            return unknown_mount(step, path, mount_point, "/proc/thread-self/mountinfo", err);
        return m;
    }
    std::optional<std::uint32_t> old_id;
    if (probe.id_kind == MountProbe::IdKind::Old) old_id = static_cast<std::uint32_t>(probe.mount_id);
    if (ask_mount_table(old_id, probe.dev, m, err) != Asked::Answered)
        return unknown_mount(step, path, mount_point, "/proc/thread-self/mountinfo", err);
    return m;
}

}  // namespace

Result<MountProbe> probe_mount(int fd, const std::string& step, const std::string& path) {
    // AT_STATX_DONT_SYNC: FUSE answers from its cache instead of sending
    // GETATTR. A FUSE mount root may not search (no allow_other) says EACCES:
    // nothing to enter there anyway.
    struct statx stx {};
    if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
                STATX_TYPE | STATX_MNT_ID_UNIQUE, &stx) != 0) {
        int err = errno;
        if (err == EACCES)
            return make_error(step, path, "statx", err,
                              "root may not look at what is there (a user's FUSE mount without allow_other?)",
                              "check what is mounted on the way to " + path + " (findmnt)");
        return make_error(step, path, "statx", err);
    }
    MountProbe probe;
    if (stx.stx_mask & STATX_MNT_ID_UNIQUE) {
        probe.id_kind = MountProbe::IdKind::Unique;
        probe.mount_id = stx.stx_mnt_id;
    } else if (stx.stx_mask & STATX_MNT_ID) {
        probe.id_kind = MountProbe::IdKind::Old;
        probe.mount_id = stx.stx_mnt_id;
    }
    probe.dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
    probe.type = stx.stx_mode & S_IFMT;
    return probe;
}

bool same_mount(const MountProbe& a, const MountProbe& b) {
    if (a.id_kind != MountProbe::IdKind::None && a.id_kind == b.id_kind) return a.mount_id == b.mount_id;
    return a.dev == b.dev;
}

Result<void> check_crossed_mount(int fd, const MountProbe& probe, const std::string& mount_point,
                                 const std::string& step, const std::string& path) {
    // The common case (tmpfs, ext4 ...) needs no strings from statmount.
    if (probe.id_kind == MountProbe::IdKind::Unique && fuse_by_magic(probe.mount_id) == false) return {};
    auto identity = identify(fd, probe, mount_point, step, path);
    if (!identity) return identity.error();
    const MountIdentity& m = *identity;
    if (!is_fuse(m)) return {};
    std::optional<std::string> owner = m.options ? option_value(*m.options, "user_id") : std::nullopt;
    if (owner && *owner == "0") return {};  // root's: an admin's network filesystem, say
    std::string fstype = m.fstype.empty() ? "fuse" : m.fstype;
    std::string who = owner ? "uid " + *owner : "an unknown user";
    return make_error(step, path, m.source, EXDEV,
                      "a FUSE filesystem mounted by " + who + " (" + fstype + ", user_id=" +
                          owner.value_or("?") + ") is at " + mount_point +
                          "; not entered: its daemon could stall the login",
                      "fusermount3 -u " + mount_point +
                          ", and keep user-mounted FUSE filesystems off polydirs, templates and instances");
}

}  // namespace polyns::sys
