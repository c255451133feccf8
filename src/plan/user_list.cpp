#include "user_list.hpp"

#include <algorithm>
#include <optional>

namespace polyns::planner {
namespace {

std::string describe(const UserSelector& s) {
    switch (s.kind) {
    case UserSelector::Kind::Name:
        return s.name;
    case UserSelector::Kind::Group:
        return "@" + s.name;
    case UserSelector::Kind::UidRange:
        if (s.first == s.last) return std::to_string(s.first);
        return std::to_string(s.first) + "-" + std::to_string(s.last);
    }
    return {};
}

bool matches(const UserSelector& s, const Identity& who, const NameResolver& names) {
    switch (s.kind) {
    case UserSelector::Kind::Name: {
        if (s.name == who.user) return true;
        const std::optional<uid_t> uid = names.uid_of(s.name);
        return uid && *uid == who.uid;
    }
    case UserSelector::Kind::Group:
        return std::find(who.group_names.begin(), who.group_names.end(), s.name) !=
               who.group_names.end();
    case UserSelector::Kind::UidRange:
        return s.first <= who.uid && who.uid <= s.last;
    }
    return false;
}

}  // namespace

UserListDecision decide_user_list(const Rule& rule, const Identity& who,
                                  const NameResolver& names) {
    const UserSelector* match = nullptr;
    for (const auto& s : rule.users) {
        if (matches(s, who, names)) {
            match = &s;
            break;
        }
    }
    UserListDecision d;
    if (rule.only_listed_users) {
        d.applies = match != nullptr;
        if (!d.applies) d.reason = who.user + " is not in the ~ list";
    } else {
        d.applies = match == nullptr;
        if (!d.applies) {
            d.reason = who.user + " is excluded by the user list";
            if (describe(*match) != who.user) d.reason += " (entry '" + describe(*match) + "')";
        }
    }
    return d;
}

}  // namespace polyns::planner
