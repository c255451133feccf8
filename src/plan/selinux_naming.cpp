#include "selinux_naming.hpp"

#include "naming.hpp"

namespace polyns::planner {
namespace {

// Offset just past the third ':' (user:role:type:), or npos.
std::size_t range_start(std::string_view context) {
    std::size_t at = 0;
    for (int field = 0; field < 3; ++field) {
        at = context.find(':', at);
        if (at == std::string_view::npos) return std::string_view::npos;
        ++at;
    }
    return at;
}

}  // namespace

std::string_view context_range(std::string_view context) {
    const std::size_t at = range_start(context);
    return at == std::string_view::npos ? std::string_view() : context.substr(at);
}

std::string level_context(std::string_view polydir_context, std::string_view user_context) {
    const std::size_t at = range_start(polydir_context);
    std::string_view head = at == std::string_view::npos ? polydir_context : polydir_context.substr(0, at - 1);
    const std::string_view range = context_range(user_context);
    std::string out(head);
    if (!range.empty()) out.append(":").append(range);
    return out;
}

std::string context_differentiation(std::string_view instance_context, std::string_view user, bool shared) {
    std::string out(instance_context);
    if (!shared) out.append("_").append(user);
    return out;
}

std::string explicit_instance_name(std::string_view name, Method method, std::string_view instance_context) {
    std::string out(name);
    if (method == Method::Level) {
        const std::string_view range = context_range(instance_context);
        if (range.empty() || range == "s0") return out;
        out.append("_").append(range);
    } else {
        out.append("_").append(instance_context);
    }
    return hashed_differentiation(out, false);
}

}  // namespace polyns::planner
