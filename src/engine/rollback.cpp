#include "rollback.hpp"

#include <cerrno>

#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/mount.hpp"
#include "polyns/sys/remove_tree.hpp"
#include "polyns/sys/users.hpp"
#include "pinned_step.hpp"

namespace polyns::engine {
namespace {

// Adds one thing the rollback could not undo to the outcome (for the LOG_ERR
// line) and logs it on its own line. The text is built here, under the try:
// out of memory, the outcome's flag still tells the caller what matters.
template <typename Text>
void note(Rollback::Outcome& outcome, Log& log, Text&& text) noexcept {
    try {
        std::string problem = text();
        log.warning("rollback: " + problem);
        if (!outcome.problems.empty()) outcome.problems += "; ";
        outcome.problems += problem;
    } catch (...) {
    }
}

template <typename Text>
void debug(Log& log, Text&& text) noexcept {
    try {
        log.debug("rollback: " + text());
    } catch (...) {
    }
}

std::string attempts_text() { return " (" + std::to_string(Rollback::attempts) + " attempts)"; }

}  // namespace

void Rollback::mounted(std::shared_ptr<sys::UniqueFd> mount_root, std::string path) {
    actions_.push_back({Action::Kind::Mount, std::move(mount_root), {}, std::move(path)});
}

void Rollback::created_unique_instance(std::shared_ptr<sys::UniqueFd> template_fd, std::string name,
                                       std::string path, uid_t owner_uid, gid_t owner_gid) {
    actions_.push_back({Action::Kind::UniqueInstance, std::move(template_fd), std::move(name), std::move(path),
                        owner_uid, owner_gid});
}

void Rollback::created_polydir(sys::UniqueFd parent_fd, std::string name, std::string path) {
    actions_.push_back({Action::Kind::Polydir, std::make_shared<sys::UniqueFd>(std::move(parent_fd)),
                        std::move(name), std::move(path)});
}

bool Rollback::undo_action(const Action& action, Outcome& outcome) {
    switch (action.kind) {
    case Action::Kind::Mount: {
        // Whether a failure here matters is decided after the way back: not
        // once the process has left the namespace the mount is in.
        auto r = sys::detach_mount(action.fd->get(), action.path);
        if (!r) {
            log_.warning("rollback: " + r.error().message());
            return false;
        }
        debug(log_, [&] { return "unmounted " + action.path; });
        return true;
    }
    case Action::Kind::UniqueInstance: {
        auto owner = sys::credentials_of_uid(action.owner_uid, action.owner_gid);
        if (!owner) {
            note(outcome, log_, [&] { return "the new instance is left: " + owner.error().message(); });
            return false;
        }
        auto r = sys::remove_tree_as(*owner, action.fd->get(), action.name, action.path);
        if (!r) {
            note(outcome, log_, [&] { return "the new instance is left: " + r.error().message(); });
            return false;
        }
        if (!r->kept.empty()) log_.warning("rollback: " + engine::left_in_place_line(action.path, r->kept));
        if (!r->removed_root) {
            note(outcome, log_, [&] { return "could not remove all of the new instance " + action.path; });
            return false;
        }
        debug(log_, [&] { return "removed " + action.path; });
        return true;
    }
    case Action::Kind::Polydir: {
        auto r = sys::remove_empty_dir_at(action.fd->get(), action.name, "remove created polydir", action.path);
        if (!r) {
            note(outcome, log_, [&] { return r.error().message(); });
            return false;
        }
        debug(log_, [&] { return "removed created polydir " + action.path; });
        return true;
    }
    }
    return false;
}

// setns back to the original namespace, retried: a transient failure
// (ENOMEM) must not strand the caller in the session's namespace.
bool Rollback::go_back(Outcome& outcome) {
    Result<void> back;
    int attempt = 0;
    while (attempt < attempts) {
        ++attempt;
        try {
            back = sys::enter_mount_namespace(original_ns_.get());
        } catch (...) {
            // Only the description of a failure allocates.
            Error out_of_memory;
            out_of_memory.err = ENOMEM;
            back = Result<void>(out_of_memory);
        }
        if (back.ok()) break;
    }
    if (back.ok()) {
        if (attempt > 1) debug(log_, [&] { return "setns back worked at attempt " + std::to_string(attempt); });
        return true;
    }
    note(outcome, log_, [&] {
        return back.error().message() + attempts_text() + ": this process stays in the session's mount namespace";
    });
    return false;
}

// setns set root and cwd to the namespace's root: put back the caller's own.
void Rollback::restore_dirs(Outcome& outcome) {
    Result<void> root;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        root = dirs_.restore_root();
        if (root.ok()) break;
    }
    if (!root.ok()) {
        if (dirs_.root_is_current()) {
            // Not chrooted: the namespace's root is the caller's root.
            debug(log_, [&] { return "the root directory is the original one: " + root.error().message(); });
        } else {
            outcome.caller_unsafe = true;
            note(outcome, log_, [&] {
                return root.error().message() + attempts_text() +
                       ": this process's root is its namespace's root, not the directory it was chrooted to";
            });
        }
    }
    Result<void> cwd;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        cwd = dirs_.restore_cwd();
        if (cwd.ok()) break;
    }
    if (!cwd.ok()) {
        note(outcome, log_, [&] {
            return cwd.error().message() + attempts_text() + ": the working directory is the root directory";
        });
    }
}

Rollback::Outcome Rollback::undo() noexcept {
    armed_ = false;
    Outcome outcome;
    // Reverse order: a mount may sit on a polydir created earlier, an instance
    // may be the source of a mount made later.
    for (auto it = actions_.rbegin(); it != actions_.rend(); ++it) {
        try {
            it->undone = undo_action(*it, outcome);
        } catch (...) {
        }
    }
    bool back = false;
    try {
        back = go_back(outcome);
    } catch (...) {
    }
    if (back) {
        // Mounts not detached went away with the namespace just left.
        try {
            restore_dirs(outcome);
        } catch (...) {
        }
        if (outcome.problems.empty()) debug(log_, [] { return std::string("back in the original mount namespace"); });
    } else {
        // Stuck in the session's namespace: harmless only without any mount
        // of the session in it, so try again what was not detached.
        bool mount_left = false;
        for (auto it = actions_.rbegin(); it != actions_.rend(); ++it) {
            if (it->kind != Action::Kind::Mount) continue;
            for (int attempt = 0; attempt < attempts && !it->undone; ++attempt) {
                try {
                    it->undone = sys::detach_mount(it->fd->get(), it->path).ok();
                } catch (...) {
                }
            }
            if (!it->undone) {
                mount_left = true;
                note(outcome, log_, [&] { return "the session's mount on " + it->path + " stays in it"; });
            }
        }
        if (mount_left) {
            outcome.caller_unsafe = true;
        } else {
            note(outcome, log_, [&] {
                return std::string("every mount the session made was removed from it, so it shows the "
                                   "original namespace's mounts") +
                       (unmounted_previous_ ? " except the previous session's, which unmnt_remnt removed" : "");
            });
        }
    }
    actions_.clear();
    return outcome;
}

}  // namespace polyns::engine
