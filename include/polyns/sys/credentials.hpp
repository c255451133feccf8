// Whose rights a child of the sys layer acts with (remove_tree_as).
#pragma once

#include <sys/types.h>

#include <vector>

#include "polyns/result.hpp"

namespace polyns::sys {

struct Credentials {
    uid_t uid = 0;
    gid_t gid = 0;              // primary group
    std::vector<gid_t> groups;  // supplementary groups (the primary one included)
};

// The credentials of the account with `uid` as NSS knows it now: its primary
// group and every group it is in (getgrouplist), as a login of it would have.
// A uid without an account (deleted, or an instance made for a uid only)
// gets `fallback_gid` and no other group: fewer rights, never more.
Result<Credentials> credentials_of_uid(uid_t uid, gid_t fallback_gid);

}  // namespace polyns::sys
