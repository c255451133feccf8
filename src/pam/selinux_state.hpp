// Whether SELinux is enabled on this system: decides level/context fallback in
// the planner and the require_selinux check. Kept here, in its own file, until
// the sys layer offers it (it is a libselinux query, not a mount syscall).
#pragma once

namespace polyns::pam {

bool selinux_enabled();

}  // namespace polyns::pam
