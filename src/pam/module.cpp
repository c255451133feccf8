// The C ABI of pam_polyns.so: the only symbols the module exports.
//
// Only the session group is provided, as Linux-PAM's pam_namespace and
// pam_mkhomedir do. The Module Writers' Guide asks a module to define all the
// functions of at least one management group, not of all four. Leaving out
// pam_sm_authenticate/setcred/acct_mgmt/chauthtok (rather than exporting stubs
// that return PAM_IGNORE) makes a misplaced line such as
// `auth required pam_polyns.so` visible: libpam logs "unable to resolve
// symbol" and that stack fails. A PAM_IGNORE stub would let the admin believe
// /tmp is polyinstantiated while nothing happens.
#include <security/pam_modules.h>

#include "session.hpp"

#define POLYNS_PAM_EXPORT __attribute__((visibility("default")))

extern "C" {

POLYNS_PAM_EXPORT int pam_sm_open_session(pam_handle_t* pamh, int /*flags*/, int argc, const char** argv) {
    return polyns::pam::open_session(pamh, argc, argv);
}

POLYNS_PAM_EXPORT int pam_sm_close_session(pam_handle_t* pamh, int /*flags*/, int argc, const char** argv) {
    return polyns::pam::close_session(pamh, argc, argv);
}

}  // extern "C"
