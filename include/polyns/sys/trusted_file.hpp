// Reading configuration that root must own: files and drop-in directories are
// opened by fd, never block (O_NONBLOCK, FIFOs refused), and are trusted only if
// root-owned and not writable by group or other (DESIGN invariant 7).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "polyns/result.hpp"

namespace polyns::sys {

// A missing file is an Error with err == ENOENT, so callers can tell it apart.
Result<std::string> read_trusted_file(const std::string& path, bool check_trust,
                                      std::size_t max_size = 64u << 20);

// Names (not paths) of regular entries ending in `suffix`, sorted bytewise.
// A missing directory is an Error with err == ENOENT.
Result<std::vector<std::string>> list_trusted_dir(const std::string& path, std::string_view suffix,
                                                  bool check_trust);

}  // namespace polyns::sys
