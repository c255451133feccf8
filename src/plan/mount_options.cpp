#include "mount_options.hpp"

#include <sys/mount.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "polyns/sys/libmount.hpp"

namespace polyns::planner {
namespace {

struct FreeDeleter {
    void operator()(char* p) const { std::free(p); }
};
using CString = std::unique_ptr<char, FreeDeleter>;

struct GenericFlag {
    std::string_view name;
    unsigned long flag;
};
constexpr std::array<GenericFlag, 3> kGenericFlags{{
    {"nosuid", MS_NOSUID},
    {"nodev", MS_NODEV},
    {"noexec", MS_NOEXEC},
}};

struct TmpfsOption {
    std::string_view name;
    bool needs_value;
};
// tmpfs(5) options that make sense for a per-session instance.
constexpr std::array<TmpfsOption, 11> kTmpfsOptions{{
    {"size", true},
    {"nr_blocks", true},
    {"nr_inodes", true},
    {"mode", true},
    {"uid", true},
    {"gid", true},
    {"huge", true},
    {"mpol", true},
    {"inode32", false},
    {"inode64", false},
    {"noswap", false},
}};

// `suid`/`dev` lift the nosuid/nodev polyns gives a tmpfs instance by default.
constexpr std::array<GenericFlag, 2> kLiftingFlags{{
    {"suid", MS_NOSUID},
    {"dev", MS_NODEV},
}};

constexpr std::string_view kSupported =
    "nosuid, nodev, noexec, and for tmpfs: suid, dev, size, nr_blocks, nr_inodes, mode, uid, gid, huge, "
    "mpol, inode32, inode64, noswap";

Error option_error(std::string_view text, std::string detail, std::string hint) {
    return make_error("use mount options", std::string(text), "", 0, std::move(detail),
                      std::move(hint));
}

struct Option {
    std::string name;
    std::optional<std::string> value;
};

// Walks one libmount option string (quotes are honoured by libmount).
// `part` is one of mnt_split_optstr()'s malloc'd results (libmount wants char*).
Result<std::vector<Option>> split_options(const sys::LibMount& lm, std::string_view whole, char* part) {
    std::vector<Option> out;
    if (part == nullptr) return out;
    char* cursor = part;
    for (;;) {
        char* name = nullptr;
        char* value = nullptr;
        std::size_t name_len = 0;
        std::size_t value_len = 0;
        const int rc = lm.optstr_next_option(&cursor, &name, &name_len, &value, &value_len);
        if (rc == 1) break;
        if (rc < 0) {
            return option_error(whole, "cannot parse the option list", "write name[=value],...");
        }
        Option opt;
        opt.name.assign(name, name_len);
        if (value != nullptr) opt.value = std::string(value, value_len);
        out.push_back(std::move(opt));
    }
    return out;
}

}  // namespace

Result<MountOptions> parse_mount_options(std::string_view text, MountKind kind) {
    MountOptions result;
    if (text.empty()) return result;

    // Pure string functions of libmount, loaded only for rules with mntopts=.
    auto loaded = sys::libmount();
    if (!loaded) return loaded.error();
    const sys::LibMount& lm = **loaded;
    const std::string owned(text);
    char* user_raw = nullptr;
    char* vfs_raw = nullptr;
    char* fs_raw = nullptr;
    if (lm.split_optstr(owned.c_str(), &user_raw, &vfs_raw, &fs_raw, 0, 0) != 0) {
        return option_error(text, "cannot parse the option list", "write name[=value],...");
    }
    const CString user(user_raw), vfs(vfs_raw), fs(fs_raw);

    auto user_opts = split_options(lm, text, user.get());
    if (!user_opts) return user_opts.error();
    if (!user_opts->empty()) {
        return option_error(text,
                            "'" + user_opts->front().name +
                                "' is an fstab/userspace option and has no meaning here",
                            "supported: " + std::string(kSupported));
    }

    auto vfs_opts = split_options(lm, text, vfs.get());
    if (!vfs_opts) return vfs_opts.error();
    for (const auto& opt : *vfs_opts) {
        bool known = false;
        for (const auto& g : kGenericFlags) {
            if (opt.name == g.name && !opt.value) {
                result.flags |= g.flag;
                known = true;
            }
        }
        for (const auto& l : kLiftingFlags) {
            if (opt.name != l.name || opt.value) continue;
            if (kind == MountKind::Bind) {
                return option_error(text,
                                    "'" + opt.name + "' only lifts the default " + "no" + opt.name +
                                        " of a tmpfs instance; a bind-mounted instance keeps its "
                                        "source mount's flags",
                                    "remove '" + opt.name + "'");
            }
            result.lifted |= l.flag;
            known = true;
        }
        if (!known) {
            return option_error(text, "the mount flag '" + opt.name + "' is not supported",
                                "only nosuid, nodev and noexec can be set per instance (suid, dev for tmpfs)");
        }
    }

    auto fs_opts = split_options(lm, text, fs.get());
    if (!fs_opts) return fs_opts.error();
    for (const auto& opt : *fs_opts) {
        const TmpfsOption* known = nullptr;
        for (const auto& t : kTmpfsOptions) {
            if (opt.name == t.name) known = &t;
        }
        if (known == nullptr) {
            return option_error(text, "unknown mount option '" + opt.name + "'",
                                "supported: " + std::string(kSupported));
        }
        if (kind == MountKind::Bind) {
            return option_error(text,
                                "'" + opt.name +
                                    "' is a tmpfs option and cannot be applied to a bind "
                                    "mount of an instance directory",
                                "use the tmpfs method, or keep only nosuid, nodev, noexec");
        }
        if (known->needs_value != opt.value.has_value() ||
            (opt.value && opt.value->empty())) {
            return option_error(text,
                                known->needs_value
                                    ? "tmpfs option '" + opt.name + "' needs a value"
                                    : "tmpfs option '" + opt.name + "' takes no value",
                                known->needs_value ? opt.name + "=VALUE" : opt.name);
        }
        if (!result.fs_options.empty()) result.fs_options += ',';
        result.fs_options += opt.name;
        if (opt.value) result.fs_options += "=" + *opt.value;
    }
    return result;
}

void apply_tmpfs_defaults(MountOptions& options) {
    options.flags |= (MS_NOSUID | MS_NODEV) & ~options.lifted;
    const bool sized = names_mount_option(options.fs_options, {"size", "nr_blocks"});
    const bool inodes = names_mount_option(options.fs_options, {"nr_inodes"});
    auto add = [&](std::string_view option) {
        if (!options.fs_options.empty()) options.fs_options += ',';
        options.fs_options += option;
    };
    if (!sized) add(default_tmpfs_size);
    if (!inodes) add(default_tmpfs_inodes);
}

}  // namespace polyns::planner
