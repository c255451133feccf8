// Users and groups through NSS (getpwnam_r, getgrouplist, getgrgid_r, getgrnam_r).
#pragma once

#include <optional>
#include <string>

#include "polyns/plan.hpp"
#include "polyns/result.hpp"

namespace polyns::sys {

// Whether lookup_identity fills Identity::group_names. Only a user list with
// @group needs them, and getgrouplist walks every NSS group source (with
// systemd's NSS module, a dlopen and several userdb lookups): measurable on
// every login (tests/bench).
enum class GroupNames { Resolve, Skip };

// The user's uid, primary gid, home, and (GroupNames::Resolve) the names of
// every group the user is in (primary included). An unknown user is an Error
// with err == ENOENT.
Result<Identity> lookup_identity(const std::string& user, GroupNames groups = GroupNames::Resolve);

// NameResolver over NSS. A name that is not found but is all digits is taken
// as a numeric id (create=0750,1001,1001).
class NssNameResolver final : public NameResolver {
public:
    std::optional<uid_t> uid_of(const std::string& user) const override;
    std::optional<gid_t> gid_of(const std::string& group) const override;
    std::optional<gid_t> primary_gid_of(const std::string& user) const override;
};

}  // namespace polyns::sys
