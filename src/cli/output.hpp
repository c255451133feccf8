// Output helpers shared by the subcommands.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "polyns_build_config.h"

namespace polyns::cli {

inline const char* polyns_version() { return POLYNS_VERSION; }

inline void put(const std::string& line) {
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
}

// Any bytes (paths, names) become valid JSON: invalid UTF-8 is U+FFFD.
inline void print_json(const nlohmann::ordered_json& doc) {
    put(doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    std::fflush(stdout);
}

}  // namespace polyns::cli
