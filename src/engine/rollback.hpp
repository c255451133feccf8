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
        if (armed_) undo();
    }
    Rollback(const Rollback&) = delete;
    Rollback& operator=(const Rollback&) = delete;

    void reserve(std::size_t actions) { actions_.reserve(actions); }
    void mounted(std::shared_ptr<sys::UniqueFd> mount_root, std::string path);
    // A tmpdir instance made by this session: removed (with anything the init
    // script put in it). Named instances stay: they are complete and reusable.
    void created_unique_instance(std::shared_ptr<sys::UniqueFd> template_fd, std::string name,
                                 std::string path);
    // A polydir made by create=: removed if still empty.
    void created_polydir(sys::UniqueFd parent_fd, std::string name, std::string path);

    // Success: keep everything.
    void commit() { armed_ = false; }
    // Failure: undo now (also done by the destructor while armed, e.g. when
    // std::bad_alloc unwinds through apply_plan). Never throws: each action is
    // tried on its own, and the way back (setns, root, cwd) allocates nothing
    // unless it fails.
    void undo() noexcept;

private:
    struct Action {
        enum class Kind { Mount, UniqueInstance, Polydir } kind;
        std::shared_ptr<sys::UniqueFd> fd;  // mount root / template / polydir parent
        std::string name;
        std::string path;
    };
    void undo_action(const Action& action);
    std::vector<Action> actions_;
    sys::UniqueFd original_ns_;
    sys::ProcessDirs dirs_;
    Log& log_;
    bool armed_ = true;
};

}  // namespace polyns::engine
