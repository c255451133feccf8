// The SELinux half of instance naming for the `level` and `context` methods:
// pure string work on raw contexts ("user:role:type[:range]"), so it is the
// same in the module, in `polyns plan` and in the unit tests.
#pragma once

#include <string>
#include <string_view>

#include "polyns/config.hpp"

namespace polyns::planner {

// The MLS range of a raw context (everything after the third ':'), or ""
// when the context has none (a policy without MLS).
std::string_view context_range(std::string_view context);

// pam_namespace's `level`: the polydir's user:role:type with the user's whole
// range (low-high). Without a range in the user's context (no MLS) the
// result is the polydir's user:role:type, as libselinux's
// context_range_set(NULL) makes it.
std::string level_context(std::string_view polydir_context, std::string_view user_context);

// pam_namespace's instance differentiation string: "<context>_<user>", or
// "<context>" for a `shared` rule. Hashing (gen_hash, > 80 characters) is
// hashed_differentiation()'s.
std::string context_differentiation(std::string_view instance_context, std::string_view user, bool shared);

// polyns's explicit instance form (the prefix names the instance, e.g.
// /tmp/user_tmpl/%{UID}) with `level` or `context`. The explicit name alone
// would give one instance to every level of the user; so:
//   level:   the name as written when the range is "s0" or absent (a
//            single-level system: the seed's /tmp/user_tmpl/1001), else
//            "<name>_<range>" (/tmp/user_tmpl/1002_s2);
//   context: always "<name>_<instance context>".
// A result over 80 characters is shortened as pam_namespace shortens names.
std::string explicit_instance_name(std::string_view name, Method method, std::string_view instance_context);

}  // namespace polyns::planner
