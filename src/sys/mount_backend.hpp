// The two mount backends behind include/polyns/sys/mount.hpp (internal).
#pragma once

#include <string>

#include "polyns/result.hpp"
#include "polyns/sys/mount.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys::new_api {
Result<UniqueFd> bind_mount(int source_fd, int target_fd, unsigned long ms_flags,
                            const std::string& source_path, const std::string& target_path);
Result<UniqueFd> mount_tmpfs(int target_fd, unsigned long ms_flags, const std::string& fs_data,
                             const std::string& target_path);
Result<void> set_propagation_recursive(const std::string& path, Propagation propagation);
}  // namespace polyns::sys::new_api

namespace polyns::sys::legacy {
Result<UniqueFd> bind_mount(int source_fd, int target_fd, unsigned long ms_flags,
                            const std::string& source_path, const std::string& target_path);
Result<UniqueFd> mount_tmpfs(int target_fd, unsigned long ms_flags, const std::string& fs_data,
                             const std::string& target_path);
Result<void> set_propagation_recursive(const std::string& path, Propagation propagation);
}  // namespace polyns::sys::legacy
