// libFuzzer target: any bytes as module arguments + namespace.conf through the
// parser and the planner (and as a pam.d file through its reader). Besides "no
// crash, no sanitizer report" it checks the Plan's shape promises the engine
// relies on: absolute normalised polydirs that are never "/", instance names
// that are one path component, Named instances = template + "/" + name.
// Input: the first line holds module arguments (blank-separated); the rest is
// the configuration text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "polyns/config.hpp"
#include "polyns/options.hpp"
#include "polyns/pam_service.hpp"
#include "polyns/plan.hpp"

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

class FixedResolver : public polyns::NameResolver {
public:
    std::optional<uid_t> uid_of(const std::string& user) const override {
        if (user == "root") return 0;
        if (user == "alice") return 1001;
        return std::nullopt;
    }
    std::optional<gid_t> gid_of(const std::string& group) const override {
        if (group == "root") return 0;
        if (group == "staff") return 50;
        return std::nullopt;
    }
};

bool is_clean_absolute(const std::string& p) {
    if (p.empty() || p.front() != '/') return false;
    if (p == "/") return true;
    if (p.back() == '/' || p.find("//") != std::string::npos) return false;
    std::size_t start = 1;
    while (start <= p.size()) {
        std::size_t end = p.find('/', start);
        if (end == std::string::npos) end = p.size();
        const std::string_view part = std::string_view(p).substr(start, end - start);
        if (part == "." || part == "..") return false;
        start = end + 1;
    }
    return true;
}

void check_plan(const polyns::Plan& plan) {
    for (const auto& s : plan.steps) {
        require(is_clean_absolute(s.polydir) && s.polydir != "/");
        if (s.instance_kind == polyns::InstanceKind::None) continue;
        require(is_clean_absolute(s.template_dir));
        require(s.instance_name.find('/') == std::string::npos);
        require(s.template_dir != s.polydir);
        if (s.instance_kind == polyns::InstanceKind::Named) {
            require(!s.instance_name.empty() && s.instance_name != "." && s.instance_name != "..");
            require(s.instance_name.size() <= 255);
            require(s.instance == (s.template_dir == "/" ? "" : s.template_dir) + "/" + s.instance_name);
        }
        if (s.init_script) require(is_clean_absolute(*s.init_script));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    (void)polyns::parse_pam_service(input);

    const std::size_t newline = input.find('\n');
    const std::string_view arg_line = input.substr(0, newline);
    const std::string_view config_text =
        newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

    std::vector<std::string> args;
    std::size_t i = 0;
    while (i < arg_line.size()) {
        while (i < arg_line.size() && arg_line[i] == ' ') ++i;
        const std::size_t end = arg_line.find(' ', i);
        const std::size_t stop = end == std::string_view::npos ? arg_line.size() : end;
        if (stop > i) args.emplace_back(arg_line.substr(i, stop - i));
        i = stop;
    }
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    const polyns::Options options = polyns::parse_options(static_cast<int>(argv.size()), argv.data());
    // Round trip: what options_to_args prints parses back to the same arguments.
    const std::vector<std::string> back = polyns::options_to_args(options);
    std::vector<const char*> back_argv;
    for (const auto& a : back) back_argv.push_back(a.c_str());
    require(polyns::options_to_args(polyns::parse_options(static_cast<int>(back_argv.size()),
                                                          back_argv.data())) == back);

    const polyns::Config config = polyns::parse_config_text(config_text, "fuzz.conf");

    polyns::Identity alice;
    alice.user = "alice";
    alice.uid = 1001;
    alice.gid = 1001;
    alice.home = "/home/alice";
    alice.group_names = {"alice", "staff"};
    polyns::Identity odd;  // a home of "/" and a name with a dot
    odd.user = "o.dd";
    odd.uid = 4294967294u;
    odd.gid = 0;
    odd.home = "/";

    const FixedResolver names;
    polyns::PlanContext context;
    context.security_dir = "/etc/security";
    for (const polyns::Identity& who : {alice, odd}) {
        for (bool selinux : {false, true}) {
            context.selinux_enabled = selinux;
            auto plan = polyns::make_plan(config, who, options, names, context);
            if (plan) {
                check_plan(plan.value());
            } else {
                require(!plan.error().message().empty());
            }
        }
    }
    return 0;
}
