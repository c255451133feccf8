#include "polyns/sys/instance_record.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/path.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys {
namespace {

constexpr const char* step_record = "record instance owner";
constexpr const char* step_aside = "move instance aside";

}  // namespace

std::int64_t now_seconds() { return static_cast<std::int64_t>(::time(nullptr)); }

std::string format_instance_record(const InstanceRecord& r) {
    return "v1 uid=" + std::to_string(r.uid) + " created=" + std::to_string(r.created) +
           " home=" + std::to_string(r.home_dev) + ":" + std::to_string(r.home_ino) + " user=" + r.user;
}

std::optional<InstanceRecord> parse_instance_record(const std::string& value) {
    InstanceRecord r;
    unsigned long long uid = 0, dev = 0, ino = 0;
    long long created = 0;
    int user_at = 0;
    if (std::sscanf(value.c_str(), "v1 uid=%llu created=%lld home=%llu:%llu user=%n", &uid, &created, &dev, &ino,
                    &user_at) != 4 ||
        user_at <= 0 || static_cast<std::size_t>(user_at) > value.size())
        return std::nullopt;
    r.uid = static_cast<uid_t>(uid);
    r.created = created;
    r.home_dev = dev;
    r.home_ino = ino;
    r.user = value.substr(static_cast<std::size_t>(user_at));
    if (r.user.empty()) return std::nullopt;
    return r;
}

Result<std::optional<InstanceRecord>> read_instance_record(int fd, const std::string& path) {
    char buf[1024];
    ssize_t n = ::fgetxattr(fd, instance_record_xattr, buf, sizeof buf);
    if (n < 0) {
        if (errno == ENODATA) return std::optional<InstanceRecord>();
        return make_error(step_record, path, "fgetxattr", errno);
    }
    auto record = parse_instance_record(std::string(buf, static_cast<std::size_t>(n)));
    if (!record)
        return make_error(step_record, path, "", EINVAL,
                          std::string("its ") + instance_record_xattr + " does not parse; refusing it",
                          "move it away and let the next session make a new one");
    return std::optional<InstanceRecord>(*record);
}

Result<void> write_instance_record(int fd, const InstanceRecord& record, const std::string& path) {
    std::string value = format_instance_record(record);
    if (::fsetxattr(fd, instance_record_xattr, value.data(), value.size(), 0) != 0)
        return make_error(step_record, path, "fsetxattr", errno);
    return {};
}

std::pair<std::uint64_t, std::uint64_t> home_identity(const std::string& home) {
    if (home.empty() || home.front() != '/') return {0, 0};
    auto fd = open_path(home, O_PATH | O_DIRECTORY, "look at home");
    if (!fd) return {0, 0};
    auto st = stat_fd(fd->get(), "look at home", home);
    if (!st) return {0, 0};
    return {static_cast<std::uint64_t>(st->st_dev), static_cast<std::uint64_t>(st->st_ino)};
}

Result<std::string> move_instance_aside(int template_fd, const std::string& template_path, const std::string& name,
                                        const InstanceRecord& old, const std::string& new_user, uid_t new_uid) {
    std::string aside_path = join_path(template_path, moved_aside_dir);
    auto made = make_dir_at(template_fd, moved_aside_dir, 0700, step_aside, aside_path);
    if (!made && made.error().err != EEXIST) return made.error();
    auto aside = open_below(template_fd, moved_aside_dir, O_RDONLY | O_DIRECTORY, step_aside, aside_path);
    if (!aside) return aside.error();
    auto st = stat_fd(aside->get(), step_aside, aside_path);
    if (!st) return st.error();
    if (made) {
        // mkdirat's mode went through the umask: make it exactly root's 0700.
        if (auto r = set_owner(aside->get(), 0, 0, step_aside, aside_path); !r) return r.error();
        if (auto r = set_mode(aside->get(), 0700, step_aside, aside_path); !r) return r.error();
    } else if (st->st_uid != 0 || (st->st_mode & 0077) != 0) {
        return make_error(step_aside, aside_path, "", 0,
                          "is uid " + std::to_string(st->st_uid) + " mode " + octal_mode(st->st_mode) +
                              ", not root's 0700; not moving anything into it",
                          "chown root:root " + aside_path + " && chmod 0700 " + aside_path);
    }
    std::int64_t now = now_seconds();
    std::string new_name =
        name + ".uid" + std::to_string(old.uid) + "." + std::to_string(old.created) + "." + std::to_string(now);
    std::string new_path = join_path(aside_path, new_name);
    if (::renameat2(template_fd, name.c_str(), aside->get(), new_name.c_str(), RENAME_NOREPLACE) != 0)
        return make_error(step_aside, new_path, "renameat2", errno);
    auto moved = open_below(aside->get(), new_name, O_RDONLY | O_DIRECTORY, step_aside, new_path);
    if (moved) {
        std::string mark = "at=" + std::to_string(now) + " for=" + new_user + " uid=" + std::to_string(new_uid);
        (void)::fsetxattr(moved->get(), moved_aside_xattr, mark.data(), mark.size(), 0);
    }
    return new_path;
}

}  // namespace polyns::sys
