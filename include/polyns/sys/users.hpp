// Users and groups through NSS (getpwnam_r, getgrouplist, getgrgid_r, getgrnam_r).
#pragma once

#include <optional>
#include <string>

#include "polyns/plan.hpp"
#include "polyns/result.hpp"

namespace polyns::sys {

// The user's uid, primary gid, home, and the names of every group the user is
// in (primary included). An unknown user is an Error with err == ENOENT.
Result<Identity> lookup_identity(const std::string& user);

// NameResolver over NSS. A name that is not found but is all digits is taken
// as a numeric id (create=0750,1001,1001).
class NssNameResolver final : public NameResolver {
public:
    std::optional<uid_t> uid_of(const std::string& user) const override;
    std::optional<gid_t> gid_of(const std::string& group) const override;
    std::optional<gid_t> primary_gid_of(const std::string& user) const override;
};

}  // namespace polyns::sys
