// The session pipeline behind the C ABI: options -> config -> identity -> plan
// -> engine, and the mapping of every outcome to one PAM return code.
//
// Return codes (also in pam_polyns(8), RETURN VALUES):
//   PAM_SUCCESS      the session is set up, or there was nothing to do (empty
//                    plan, or close without a stored state).
//   PAM_SESSION_ERR  the session could not be set up (fail closed, DESIGN
//                    invariant 6): config errors (without ignore_config_error),
//                    user not found by NSS, a rule that cannot be expanded,
//                    require_selinux without SELinux, any engine failure
//                    (template/instance checks, mounts, init script,
//                    multithreaded caller); at close, a failed teardown. The
//                    process is left in its original mount namespace (the
//                    engine rolls back; if even that fails, the LOG_ERR line
//                    says so, and the process is at worst in a copy of its
//                    namespace without any mount of the session).
//   PAM_ABORT        the rollback failed so that the process must not go on:
//                    it could not return to its mount namespace and a mount of
//                    the session stays in the one it is in, or its chroot could
//                    not be restored. The application should end the login.
//   PAM_SERVICE_ERR  the module was called in a way it cannot work with or
//                    broke internally: no PAM_USER item, an unexpected internal
//                    exception.
//   PAM_BUF_ERR      out of memory.
#pragma once

#include <security/pam_modules.h>

namespace polyns::pam {

// Both are noexcept: every exception is caught, logged and mapped here.
int open_session(pam_handle_t* pamh, int argc, const char** argv) noexcept;
int close_session(pam_handle_t* pamh, int argc, const char** argv) noexcept;

}  // namespace polyns::pam
