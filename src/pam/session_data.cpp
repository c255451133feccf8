#include "session_data.hpp"

#include <new>

namespace polyns::pam {

namespace {

// Module-private key: other modules' data cannot collide with it.
constexpr const char* state_key = "polyns_session_state";

// Called by libpam when the data is replaced, removed or at pam_end (also in a
// forked child that calls pam_end). It only frees memory: undoing mounts is
// close's job, and a cleanup that ran in a child must not touch the parent's
// session.
void free_session_state(pam_handle_t* /*pamh*/, void* data, int /*error_status*/) {
    delete static_cast<SessionState*>(data);
}

constexpr const char* line_key = "polyns_opening_line";
// Stands for a NULL argv (a line without arguments).
const char no_arguments = 0;

const void* line_identity(const char** argv) {
    return argv != nullptr ? static_cast<const void*>(argv) : static_cast<const void*>(&no_arguments);
}

}  // namespace

void remember_opening_line(pam_handle_t* pamh, const char** argv) {
    // Only the address is kept (no cleanup: libpam owns the argv array).
    (void)pam_set_data(pamh, line_key, const_cast<void*>(line_identity(argv)), nullptr);
}

bool opened_by_this_line(pam_handle_t* pamh, const char** argv) {
    const void* data = nullptr;
    if (pam_get_data(pamh, line_key, &data) != PAM_SUCCESS || data == nullptr) return true;
    return data == line_identity(argv);
}

SessionState* reserve_session_state(pam_handle_t* pamh) {
    auto* state = new (std::nothrow) SessionState();
    if (state == nullptr) return nullptr;
    if (pam_set_data(pamh, state_key, state, free_session_state) != PAM_SUCCESS) {
        delete state;
        return nullptr;
    }
    return state;
}

const SessionState* find_session_state(pam_handle_t* pamh) {
    const void* data = nullptr;
    if (pam_get_data(pamh, state_key, &data) != PAM_SUCCESS) return nullptr;
    return static_cast<const SessionState*>(data);
}

void forget_session_state(pam_handle_t* pamh) {
    // Replacing with nullptr makes libpam run free_session_state on the old value.
    (void)pam_set_data(pamh, state_key, nullptr, nullptr);
}

}  // namespace polyns::pam
