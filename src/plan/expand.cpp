#include "expand.hpp"

#include <array>
#include <vector>

namespace polyns::planner {
namespace {

struct Variable {
    std::string_view token;  // as written, e.g. "$HOME" or "%{UID}"
    enum class Value { Home, User, Uid } value;
    bool per_user;  // differentiates users, so it can name an instance
};

// Order matters only for tokens sharing a prefix; none do.
constexpr std::array<Variable, 5> kVariables{{
    {"$HOME", Variable::Value::Home, false},
    {"$USER", Variable::Value::User, true},
    {"%{HOME}", Variable::Value::Home, false},
    {"%{USER}", Variable::Value::User, true},
    {"%{UID}", Variable::Value::Uid, true},
}};

Error expand_error(std::string_view raw, std::string detail, std::string hint = {}) {
    return make_error("expand", std::string(raw), "", 0, std::move(detail), std::move(hint));
}

}  // namespace

Result<Expansion> expand_variables(std::string_view raw, const Identity& who) {
    Expansion out;
    bool per_user_in_last_component = false;

    for (std::size_t i = 0; i < raw.size();) {
        const Variable* found = nullptr;
        for (const auto& var : kVariables) {
            if (raw.substr(i, var.token.size()) == var.token) {
                found = &var;
                break;
            }
        }
        if (found == nullptr) {
            if (raw.compare(i, 2, "%{") == 0) {
                const std::size_t close = raw.find('}', i);
                if (close == std::string_view::npos) {
                    return expand_error(raw, "unterminated '%{'",
                                        "write %{USER}, %{UID} or %{HOME}");
                }
                return expand_error(raw,
                                    "unknown variable '" +
                                        std::string(raw.substr(i, close - i + 1)) + "'",
                                    "use %{USER}, %{UID}, %{HOME}, $USER or $HOME");
            }
            if (raw[i] == '/') per_user_in_last_component = false;
            out.text += raw[i];
            ++i;
            continue;
        }

        switch (found->value) {
        case Variable::Value::Home:
            if (who.home.empty() || who.home.front() != '/') {
                return expand_error(raw, "home directory '" + who.home + "' of " + who.user +
                                             " is not an absolute path");
            }
            // A home of "/" (a directory service's placeholder) would make
            // $HOME rules act on the root directory, and a missing template
            // there would be created in it.
            if (who.home.find_first_not_of('/') == std::string::npos) {
                return expand_error(raw, "home directory '" + who.home + "' of " + who.user +
                                             " is the root directory");
            }
            out.text += who.home;
            out.uses_home = true;
            // The home's own components end any earlier component.
            per_user_in_last_component = false;
            break;
        case Variable::Value::User:
            if (who.user.empty() || who.user == "." || who.user == ".." ||
                who.user.find('/') != std::string::npos) {
                return expand_error(raw, "user name '" + who.user +
                                             "' cannot be used in a path");
            }
            out.text += who.user;
            break;
        case Variable::Value::Uid:
            out.text += std::to_string(who.uid);
            break;
        }
        if (found->per_user) per_user_in_last_component = true;
        i += found->token.size();
    }

    out.names_instance = per_user_in_last_component && !out.text.empty() &&
                         out.text.back() != '/';
    return out;
}

Result<std::string> normalize_path(std::string_view path, std::string_view what) {
    const std::string field(what);
    if (path.empty() || path.front() != '/') {
        return make_error("use " + field, std::string(path), "", 0,
                          "the " + field + " must be an absolute path",
                          "start the " + field + " with '/'");
    }
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start < path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        const std::string_view part = path.substr(start, end - start);
        if (part == "." || part == "..") {
            return make_error("use " + field, std::string(path), "", 0,
                              "the " + field + " has a '" + std::string(part) +
                                  "' component; such paths are refused, not resolved",
                              "write the path without '.' and '..' components");
        }
        if (!part.empty()) parts.push_back(part);
        start = end + 1;
    }
    std::string out;
    for (auto part : parts) {
        out += '/';
        out += part;
    }
    if (out.empty()) out = "/";
    return out;
}

std::string parent_dir(std::string_view path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return "/";
    return std::string(path.substr(0, slash));
}

std::string base_name(std::string_view path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string_view::npos) return std::string(path);
    return std::string(path.substr(slash + 1));
}

bool is_same_or_below(std::string_view path, std::string_view ancestor) {
    if (ancestor == "/") return true;
    if (path.substr(0, ancestor.size()) != ancestor) return false;
    return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

}  // namespace polyns::planner
