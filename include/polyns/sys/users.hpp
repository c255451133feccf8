// Users and groups through NSS (getpwnam_r, getgrouplist, getgrgid_r, getgrnam_r).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "polyns/plan.hpp"
#include "polyns/result.hpp"
#include "polyns/sys/credentials.hpp"

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
//
// Answers are kept for the resolver's life (one session): every rule's user
// list names the same few users ("root"), and each NSS lookup reads the
// passwd source again.
class NssNameResolver final : public NameResolver {
public:
    std::optional<uid_t> uid_of(const std::string& user) const override;
    std::optional<gid_t> gid_of(const std::string& group) const override;
    std::optional<gid_t> primary_gid_of(const std::string& user) const override;

private:
    struct PasswdIds {
        uid_t uid;
        gid_t gid;
    };
    // nullopt: no such user.
    const std::optional<PasswdIds>& passwd_ids(const std::string& user) const;

    mutable std::map<std::string, std::optional<PasswdIds>, std::less<>> users_;
    mutable std::map<std::string, std::optional<gid_t>, std::less<>> groups_;
};

}  // namespace polyns::sys
