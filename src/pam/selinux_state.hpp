// The module's view of SELinux: whether it is on, where the user's context
// comes from (the options), and the policy boolean named in failure lines.
#pragma once

#include <memory>
#include <string>

#include "polyns/options.hpp"
#include "polyns/plan.hpp"

namespace polyns::pam {

bool selinux_enabled();

// The contexts the planner asks for, per the options (exec context by
// default, use_current_context, use_default_context). Null without SELinux.
std::unique_ptr<SelinuxContexts> selinux_contexts(bool enabled, const Options& options, const std::string& user);

// "SELinux boolean allow_polyinstantiation=off" for a failure line, or ""
// (SELinux off, or the policy has no such boolean).
std::string selinux_boolean_note(bool enabled);

}  // namespace polyns::pam
