// Helpers shared by the config unit tests.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "polyns/config.hpp"

namespace polyns::test {

inline std::string config_data_path(const std::string& name) {
    const char* root = std::getenv("POLYNS_SOURCE_DIR");
    return std::string(root != nullptr ? root : ".") + "/tests/unit/data/config/" + name;
}

inline std::string read_config_data(const std::string& name) {
    std::ifstream in(config_data_path(name), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

inline std::string all_diagnostics(const Config& c) {
    std::string out;
    for (const Diagnostic& d : c.diagnostics) out += format_diagnostic(d) + "\n";
    return out;
}

}  // namespace polyns::test
