// Module arguments. Linux-PAM's flag names are matched exactly (pam_namespace
// itself uses strcmp), so `debugX` or `debug=1` is an unknown argument, not `debug`.
#include "polyns/options.hpp"

#include <array>
#include <charconv>
#include <string_view>

namespace polyns {
namespace {

struct FlagOption {
    std::string_view name;
    bool Options::*member;
};

constexpr std::array<FlagOption, 13> kFlagOptions{{
    {"debug", &Options::debug},
    {"unmnt_remnt", &Options::unmnt_remnt},
    {"unmnt_only", &Options::unmnt_only},
    {"require_selinux", &Options::require_selinux},
    {"gen_hash", &Options::gen_hash},
    {"ignore_config_error", &Options::ignore_config_error},
    {"ignore_instance_parent_mode", &Options::ignore_instance_parent_mode},
    {"unmount_on_close", &Options::unmount_on_close},
    {"use_current_context", &Options::use_current_context},
    {"use_default_context", &Options::use_default_context},
    {"mount_private", &Options::mount_private},
    {"persist", &Options::persist},
    {"persist_clean", &Options::persist_clean},
}};

constexpr unsigned kMinInitTimeout = 1;
constexpr unsigned kMaxInitTimeout = 3600;
constexpr unsigned kDefaultInitTimeout = 30;

bool has_dot_dot_component(std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        if (path.substr(start, end - start) == "..") return true;
        start = end + 1;
    }
    return false;
}

// Returns an empty string when the value is accepted, else why it is not.
std::string apply_value_option(Options& o, std::string_view key, std::string_view value) {
    if (key == "conf") {
        if (value.empty() || value.front() != '/') return "must be an absolute path";
        if (has_dot_dot_component(value)) return "must not contain '..'";
        o.conf = std::string(value);
        return {};
    }
    if (key == "instance_mode") {
        if (value == "private") {
            o.instance_mode = InstanceMode::Private;
        } else if (value == "mirror") {
            o.instance_mode = InstanceMode::Mirror;
        } else {
            return "must be 'private' or 'mirror'";
        }
        return {};
    }
    // key == "init_timeout"
    unsigned seconds = 0;
    const char* first = value.data();
    const char* last = value.data() + value.size();
    auto [end, ec] = std::from_chars(first, last, seconds);
    if (value.empty() || ec != std::errc{} || end != last || seconds < kMinInitTimeout ||
        seconds > kMaxInitTimeout) {
        return "must be a number of seconds from 1 to 3600";
    }
    o.init_timeout_seconds = seconds;
    return {};
}

}  // namespace

Options parse_options(int argc, const char* const* argv) {
    Options o;
    for (int i = 0; i < argc; ++i) {
        if (argv == nullptr || argv[i] == nullptr) continue;
        const std::string_view arg = argv[i];

        bool matched = false;
        for (const auto& flag : kFlagOptions) {
            if (arg == flag.name) {
                o.*flag.member = true;
                matched = true;
                break;
            }
        }
        if (matched) continue;

        const std::size_t eq = arg.find('=');
        const std::string_view key = arg.substr(0, eq);
        if (eq != std::string_view::npos &&
            (key == "conf" || key == "instance_mode" || key == "init_timeout")) {
            std::string why = apply_value_option(o, key, arg.substr(eq + 1));
            if (!why.empty()) o.invalid.push_back(std::string(arg) + ": " + why);
            continue;
        }
        o.unknown.emplace_back(arg);
    }
    return o;
}

std::vector<std::string> options_to_args(const Options& o) {
    std::vector<std::string> args;
    for (const auto& flag : kFlagOptions) {
        if (o.*flag.member) args.emplace_back(flag.name);
    }
    if (o.conf) args.push_back("conf=" + *o.conf);
    if (o.instance_mode == InstanceMode::Mirror) args.emplace_back("instance_mode=mirror");
    if (o.init_timeout_seconds != kDefaultInitTimeout) {
        args.push_back("init_timeout=" + std::to_string(o.init_timeout_seconds));
    }
    return args;
}

}  // namespace polyns
