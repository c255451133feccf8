#include "selinux_state.hpp"

#include "polyns_build_config.h"

#if POLYNS_HAVE_SELINUX
#include <selinux/selinux.h>
#endif

namespace polyns::pam {

bool selinux_enabled() {
#if POLYNS_HAVE_SELINUX
    // 1 = enabled; 0 = disabled; -1 = cannot tell, which we treat as disabled
    // (require_selinux then fails closed).
    return is_selinux_enabled() == 1;
#else
    return false;
#endif
}

}  // namespace polyns::pam
