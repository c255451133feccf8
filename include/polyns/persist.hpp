// persist (issue 16): one mount namespace per user. The first session builds it
// as apply_plan does and pins it in /run/polyns/ns; later sessions of the same
// user join it with setns() once it has passed every check; the last session
// to close removes the pin (and, with persist_clean, the user's instances).
//
// Files in /run/polyns/ns (root:root 0700, a private mount):
//   UID        the pin: an nsfs bind mount of the namespace
//   UID.rec    its record: namespace identity, what each polydir had mounted, the plan's key
//   UID.lock   flock()ed while a session of UID opens or closes (and by polyns gc)
//   UID.live   the session count: each open session holds a shared flock()
//              on it (sys::hold_session) until it closes or its caller dies
//   home       the mount namespace the pins live in (sys::open_pin_directory)
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "polyns/engine.hpp"
#include "polyns/plan.hpp"
#include "polyns/result.hpp"
#include "polyns/sys/ns_pin.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns {

inline constexpr std::size_t kMaxRecordSize = 1 << 20;  // UID.rec

// Kept in SessionState for close.
struct PersistLink {
    uid_t uid = 0;
    gid_t gid = 0;
    sys::NamespaceId ns;                       // the pinned namespace this session runs in
    std::shared_ptr<sys::UniqueFd> outer_ns;   // where the pin lives (the opener's namespace before)
    bool clean = false;                        // persist_clean
    // This session's hold on UID.live (O_CLOEXEC): released at close, or by
    // the kernel when the PAM caller dies.
    std::shared_ptr<sys::UniqueFd> live;
    struct Instance {
        std::string template_dir;
        std::string name;
    };
    std::vector<Instance> instances;  // what persist_clean removes
};

// What a pin was built from: the identity and everything in the plan that
// decides mounts (polydirs, methods, instances, owners, modes, flags, options).
// Equal keys mean the same namespace would be built again. Pure.
std::string persist_key(const Plan& plan);

// The pin's record, as text (UID.rec).
struct PinRecord {
    sys::NamespaceId ns;
    struct Mounted {
        std::uint64_t mount_id = 0;
        dev_t dev = 0;
        ino_t ino = 0;
    };
    std::vector<Mounted> mounts;  // one per plan step, in plan order
    std::string key;
};
std::string format_pin_record(const PinRecord& record);
Result<PinRecord> parse_pin_record(const std::string& text);

// Opens the session for a plan with plan.persist: joins the user's pinned
// namespace when it passes every check, else builds one with apply_plan() and
// pins it (one log line says why an existing pin was replaced). A pin that
// cannot be made leaves a working, unpinned session (a warning says so).
Result<SessionState> open_persistent_session(const Plan& plan, Log& log);

// Closes a session opened by open_persistent_session: when no other session
// holds the count, removes the pin, and with persist_clean cleans the
// instances when no other process is left in the namespace.
Result<void> close_persistent_session(const SessionState& state, Log& log);

// What polyns status and polyns gc see of one pin (read from the host's namespace).
struct PinStatus {
    uid_t uid = 0;
    bool pinned = false;          // a namespace is mounted on the pin
    std::optional<sys::NamespaceId> ns;  // which one
    bool recorded = false;        // UID.rec exists and parses
    std::string problem;          // why it could not be joined as it stands; empty: consistent
    long long age_seconds = -1;   // since the record was written
    bool sessions = false;        // some session holds UID.live
    bool processes = false;       // some process is in the pinned namespace
};
// Every pin (or record) in the pin directory; empty when there is none.
Result<std::vector<PinStatus>> list_pins();
// Removes the pin of `uid` when no session holds it (a caller killed before
// it closed its session; a broken pin: no namespace mounted, no record), under
// the user's lock as the module takes it. Returns whether it was removed.
Result<bool> remove_stale_pin(uid_t uid, bool dry_run);

// For a user whose plan is empty or does not persist: a pin left from before
// (the config changed) is removed, so her old namespace is not joined again.
void drop_stale_pin(uid_t uid, Log& log);

}  // namespace polyns
