// Module options, as given on the `session ... pam_polyns.so ARGS` line.
// Linux-PAM's names keep Linux-PAM's meaning; they are matched exactly.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace polyns {

enum class InstanceMode {
    Private,  // owner = user, group = primary group, mode 0700 (the seed's A4)
    Mirror,   // Linux-PAM: owner, group and mode copied from the polydir
};

struct Options {
    bool debug = false;
    bool unmnt_remnt = false;
    bool unmnt_only = false;
    bool require_selinux = false;
    bool gen_hash = false;
    bool ignore_config_error = false;
    bool ignore_instance_parent_mode = false;
    bool unmount_on_close = false;
    bool use_current_context = false;
    bool use_default_context = false;
    bool mount_private = false;
    bool persist = false;        // one namespace per user, joined by later sessions (issue 16)
    bool persist_clean = false;  // persist, and clean the user's instances after her last session
    std::optional<std::string> conf;  // conf=FILE: read exactly this file
    InstanceMode instance_mode = InstanceMode::Private;
    unsigned init_timeout_seconds = 30;

    std::vector<std::string> unknown;   // arguments not recognised: logged, ignored
    std::vector<std::string> invalid;   // recognised but with a bad value: logged, default kept
};

Options parse_options(int argc, const char* const* argv);

// The options back as module arguments (for `polyns plan` output and logs).
std::vector<std::string> options_to_args(const Options& o);

}  // namespace polyns
