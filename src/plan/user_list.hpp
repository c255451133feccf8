// The 4th field of a rule: who is excluded, or with '~' who alone is included.
#pragma once

#include <string>

#include "polyns/config.hpp"
#include "polyns/plan.hpp"

namespace polyns::planner {

struct UserListDecision {
    bool applies = true;
    std::string reason;  // why the rule does not apply (empty when it does)
};

// Names match the user by name or, as Linux-PAM compares uids, by the uid the
// name resolves to; @group by Identity::group_names; ranges by uid. A name
// that resolves to nobody matches no one.
UserListDecision decide_user_list(const Rule& rule, const Identity& who,
                                  const NameResolver& names);

}  // namespace polyns::planner
