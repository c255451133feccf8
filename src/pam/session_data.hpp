// The SessionState an open leaves for the matching close, kept in the PAM
// handle with pam_set_data (a module has no other place: no global state).
#pragma once

#include <security/pam_modules.h>

#include "polyns/engine.hpp"

namespace polyns::pam {

// Stores an empty SessionState in the handle and returns it, so the caller can
// fill it in after apply_plan. Reserving first means that once the namespace has
// changed, recording what was done cannot fail any more. nullptr when
// pam_set_data refused (the caller returns PAM_BUF_ERR before touching anything).
SessionState* reserve_session_state(pam_handle_t* pamh);

// The state stored by this module's open in this handle, or nullptr.
const SessionState* find_session_state(pam_handle_t* pamh);

// Drops the stored state (after a failed open, or once close has used it), so a
// second close is a no-op.
void forget_session_state(pam_handle_t* pamh);

// Which line of the stack opened the session: libpam passes each line its own
// argv array (the same one at every call), so a second pam_polyns line of one
// stack is told apart from a second pam_open_session on the handle. Lines
// without arguments all get NULL and count as the same line.
void remember_opening_line(pam_handle_t* pamh, const char** argv);
bool opened_by_this_line(pam_handle_t* pamh, const char** argv);

}  // namespace polyns::pam
