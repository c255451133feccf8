// The undo journal of a session open: on failure, everything done since
// unshare is undone in reverse and the process goes back to the namespace,
// root and cwd it came with.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "polyns/engine.hpp"
#include "polyns/sys/namespace.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::engine {

class Rollback {
public:
    Rollback(sys::UniqueFd original_ns, sys::ProcessDirs dirs, Log& log)
        : original_ns_(std::move(original_ns)), dirs_(std::move(dirs)), log_(log) {}
    ~Rollback() {
        if (armed_) (void)undo();
    }
    Rollback(const Rollback&) = delete;
    Rollback& operator=(const Rollback&) = delete;

    void reserve(std::size_t actions) { actions_.reserve(actions); }
    void mounted(std::shared_ptr<sys::UniqueFd> mount_root, std::string path);
    // A tmpdir instance made by this session: removed (with anything the init
    // script or its owner put in it) with the rights of `owner` (the session's
    // user). Named instances stay: they are complete and reusable.
    void created_unique_instance(std::shared_ptr<sys::UniqueFd> template_fd, std::string name,
                                 std::string path, uid_t owner_uid, gid_t owner_gid);
    // A polydir made by create=: removed if still empty.
    void created_polydir(sys::UniqueFd parent_fd, std::string name, std::string path);
    // unmnt_remnt detached the previous session's mounts in the new namespace
    // (they are not remounted: if the process cannot leave it, it says so).
    void unmounted_previous() { unmounted_previous_ = true; }

    // Success: keep everything.
    void commit() { armed_ = false; }

    // What undo() could not undo. Empty `problems`: the process is back in its
    // namespace, root and cwd, and nothing of the session is left.
    struct Outcome {
        std::string problems;  // "; "-separated, for the one LOG_ERR line
        // The caller must not go on (Error::caller_unsafe, PAM_ABORT): it is
        // still in the session's namespace with a mount of the session in it,
        // or its root directory (a chroot) is not what it was.
        bool caller_unsafe = false;
    };
    // Failure: undo now (also done by the destructor while armed, e.g. when
    // std::bad_alloc unwinds through apply_plan; its outcome is then only
    // logged). Never throws: each action is tried on its own, and the way back
    // (setns, root, cwd) allocates nothing unless it fails.
    //
    // When the way back itself fails (issue 6, entry 13): setns and the
    // restores are retried; if setns still fails, the process stays in the
    // session's namespace, which is harmless once every mount made in it is
    // gone (it is then a copy of the original view), so mounts that could not
    // be detached are tried again; any that stays makes the outcome unsafe.
    Outcome undo() noexcept;

    // Attempts at each step of the way back before it counts as failed.
    static constexpr int attempts = 3;

private:
    struct Action {
        enum class Kind { Mount, UniqueInstance, Polydir } kind;
        std::shared_ptr<sys::UniqueFd> fd;  // mount root / template / polydir parent
        std::string name;
        std::string path;
        uid_t owner_uid = 0;  // UniqueInstance: removed with this account's rights
        gid_t owner_gid = 0;
        bool undone = false;
    };
    // True when the action's effect is gone.
    bool undo_action(const Action& action, Outcome& outcome);
    bool go_back(Outcome& outcome);
    void restore_dirs(Outcome& outcome);
    std::vector<Action> actions_;
    sys::UniqueFd original_ns_;
    sys::ProcessDirs dirs_;
    Log& log_;
    bool armed_ = true;
    bool unmounted_previous_ = false;
};

}  // namespace polyns::engine
