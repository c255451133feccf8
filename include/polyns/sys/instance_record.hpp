// Whose an instance is (DESIGN invariant 15): the module marks what it creates
// with a `trusted.polyns.owner` extended attribute (only CAP_SYS_ADMIN reads
// or writes trusted.*: users can neither see nor forge it), so a uid or name
// reused by a new account never gets the previous account's instance.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "polyns/result.hpp"

namespace polyns::sys {

inline constexpr const char* instance_record_xattr = "trusted.polyns.owner";
inline constexpr const char* moved_aside_xattr = "trusted.polyns.moved_aside";
// Below each template, root:root 0700: where instances of a previous account
// are moved (`polyns gc` cleans it up).
inline constexpr const char* moved_aside_dir = ".polyns-moved-aside";

// Stored as "v1 uid=U created=EPOCH home=DEV:INO user=NAME" (the name last:
// it is the rest of the value). home is the account's home directory's device
// and inode when the instance was made ("0:0" if it had none): a renamed
// account (usermod -l, with or without -d -m) keeps its home's inode, a
// deleted and re-created one does not.
struct InstanceRecord {
    std::string user;
    uid_t uid = 0;
    std::int64_t created = 0;
    std::uint64_t home_dev = 0;
    std::uint64_t home_ino = 0;
};

std::string format_instance_record(const InstanceRecord& record);
std::optional<InstanceRecord> parse_instance_record(const std::string& value);

// The record on the directory `fd` (O_RDONLY), or nullopt when it has none.
// A filesystem without trusted.* xattrs answers an Error with err ENOTSUP.
Result<std::optional<InstanceRecord>> read_instance_record(int fd, const std::string& path);
Result<void> write_instance_record(int fd, const InstanceRecord& record, const std::string& path);

// The device and inode of `home` (found by fd, never following a user's
// symlink), or {0, 0} when it cannot be found.
std::pair<std::uint64_t, std::uint64_t> home_identity(const std::string& home);

// Moves instance `name` of `template_fd` into the template's root-only
// .polyns-moved-aside directory (made root:root 0700 if missing; refused if it
// is anything else) as NAME.uidUID.CREATED.NOW, marks it with
// trusted.polyns.moved_aside = "at=NOW for=USER uid=UID" (the account the name
// now belongs to) and returns the new path. Its content keeps its owners.
Result<std::string> move_instance_aside(int template_fd, const std::string& template_path, const std::string& name,
                                        const InstanceRecord& old, const std::string& new_user, uid_t new_uid);

// Seconds since the epoch.
std::int64_t now_seconds();

}  // namespace polyns::sys
