// The benchmark's module floor: a PAM session module that does nothing. A
// service with pam_permit and this module costs what loading one more small
// module into a login process costs (open, map, relocate, call, unload):
// part of every session module's overhead that no module can avoid.
// No C++ runtime is used, so the module needs libc only, like pam_permit.
#include <security/pam_modules.h>

extern "C" {

__attribute__((visibility("default"))) int pam_sm_open_session(pam_handle_t*, int, int, const char**) {
    return PAM_SUCCESS;
}

__attribute__((visibility("default"))) int pam_sm_close_session(pam_handle_t*, int, int, const char**) {
    return PAM_SUCCESS;
}
}
