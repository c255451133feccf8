// What the module keeps under /run/polyns for the admin's tool, root-only:
// per-template locks shared with `polyns gc`, and each user's last failure.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <optional>
#include <string>

#include "polyns/result.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys {

// /run/polyns (created root:root 0700 when missing; refused unless root's and
// not reachable by others), and its subdirectory `name` with the same rules.
inline constexpr const char* run_state_dir = "/run/polyns";
Result<UniqueFd> open_run_subdir(const std::string& name, bool create);

// A flock(2) on /run/polyns/locks/template-DEV-INO for one template (by its
// identity, not its path: the module and `polyns gc` may reach it by different
// paths). A session holds it shared from pinning the template until its mounts
// are made; gc holds it exclusively while it decides that an instance is
// unused and removes it. So gc never removes an instance a login is about to
// mount, and a login never mounts one gc is removing (DESIGN, "gc").
// The lock file is root's in a root-only directory: users cannot take it.
enum class LockKind { Shared, Exclusive };
class TemplateLock {
public:
    TemplateLock() = default;
    explicit TemplateLock(UniqueFd fd) : fd_(std::move(fd)) {}
    bool held() const { return fd_.valid(); }

private:
    UniqueFd fd_;  // closing it releases the lock
};
// Waits up to `timeout_ms` for the lock (0: try once).
Result<TemplateLock> lock_template(int template_fd, const std::string& template_path, LockKind kind,
                                   unsigned timeout_ms);

// The last failed session open of each user: one line, root-only (0600 in a
// 0700 directory), /run/polyns/last-failure/<user>. Written by the module so
// the reason survives a host without /dev/log; read by `polyns status USER`.
struct LastFailure {
    std::time_t when = 0;
    std::string service;
    std::string line;  // the module's LOG_ERR line
};
Result<void> record_last_failure(const std::string& user, const std::string& service, const std::string& line);
// nullopt when there is none.
Result<std::optional<LastFailure>> read_last_failure(const std::string& user);

}  // namespace polyns::sys
