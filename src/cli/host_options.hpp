// The options of the commands that act on this host's configuration and PAM
// stacks (setup, audit): one spelling, help text and default for both.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace polyns::cli {

struct HostOptions {
    std::string config_file;             // --config: empty means the effective configuration
    std::string pam_dir = "/etc/pam.d";  // --pam-dir
};

inline void add_host_options(CLI::App& cmd, HostOptions& options) {
    cmd.add_option("--config", options.config_file, "Use only this configuration file")->type_name("FILE");
    cmd.add_option("--pam-dir", options.pam_dir, "Directory of PAM service files (default /etc/pam.d)")
        ->type_name("DIR");
}

}  // namespace polyns::cli
