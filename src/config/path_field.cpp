#include <array>

#include "line_parts.hpp"

namespace polyns::config {
namespace {

constexpr std::array<std::string_view, 3> kBraceExpansions = {"USER", "UID", "HOME"};
constexpr std::string_view kExpansionList = "%{USER}, %{UID}, %{HOME}, $USER and $HOME";

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }

// %{NAME} must name a known expansion: the planner expands them, and a typo
// such as %{UUID} would otherwise become a literal directory name.
void check_brace_expansions(const Field& field, std::string_view what, LineReport& report) {
    const std::string& t = field.text;
    for (std::size_t at = t.find("%{"); at != std::string::npos; at = t.find("%{", at + 1)) {
        const std::size_t close = t.find('}', at + 2);
        if (close == std::string::npos) {
            report.error(field.column_at(at), std::string_view(t).substr(at),
                         "unterminated " + quoted("%{") + " in " + std::string(what),
                         "close it: known expansions are " + std::string(kExpansionList));
            return;
        }
        const std::string_view name = std::string_view(t).substr(at + 2, close - at - 2);
        bool known = false;
        for (std::string_view k : kBraceExpansions) known = known || name == k;
        if (!known) {
            std::string hint = "known expansions are " + std::string(kExpansionList);
            for (std::string_view k : kBraceExpansions)
                if (edit_distance(name, k) <= 2 && !name.empty())
                    hint = "did you mean `%{" + std::string(k) + "}`? " + hint;
            report.error(field.column_at(at), std::string_view(t).substr(at, close - at + 1),
                         "unknown expansion " + quoted(std::string_view(t).substr(at, close - at + 1)) +
                             " in " + std::string(what),
                         std::move(hint));
        }
        at = close;
    }
}

// pam_namespace expands $HOME and $USER wherever they start (so $HOMEdir is the
// home directory followed by "dir") and leaves any other $NAME as it is.
// A $NAME it leaves alone is most likely a mistake, but still a valid path.
void check_dollar_words(const Field& field, std::string_view what, LineReport& report) {
    const std::string& t = field.text;
    for (std::size_t at = t.find('$'); at != std::string::npos; at = t.find('$', at + 1)) {
        const std::string_view rest = std::string_view(t).substr(at + 1);
        if (rest.empty() || !is_name_start(rest.front())) continue;
        if (starts_with(rest, "HOME") || starts_with(rest, "USER")) continue;
        std::size_t len = 1;
        while (len < rest.size() && (is_name_start(rest[len]) || (rest[len] >= '0' && rest[len] <= '9')))
            ++len;
        const std::string_view word = std::string_view(t).substr(at, len + 1);
        report.warning(field.column_at(at), word,
                       quoted(word) + " in " + std::string(what) +
                           " is not expanded; it stays literal text",
                       "only $HOME and $USER (and %{USER}, %{UID}, %{HOME}) are expanded");
    }
}

}  // namespace

void check_path_field(const Field& field, std::string_view what, bool must_be_absolute,
                      LineReport& report) {
    const std::string& t = field.text;
    const std::string what_s(what);
    if (t.empty()) {
        report.error(field.col, field.raw, what_s + " is empty",
                     "write an absolute path, e.g. `/tmp`");
        return;
    }
    check_brace_expansions(field, what, report);
    check_dollar_words(field, what, report);

    // After expansion the path must be absolute; $HOME and %{HOME} expand to an
    // absolute home directory (the planner checks that it really is).
    const bool absolute =
        t.front() == '/' || starts_with(t, "$HOME") || starts_with(t, "%{HOME}");
    if (must_be_absolute && !absolute) {
        // A UTF-8 byte-order mark (editors on other systems add one) glues itself
        // to the first polydir of the file.
        const bool bom = starts_with(t, "\xEF\xBB\xBF");
        report.error(field.col, field.raw, what_s + " " + quoted(t) + " is not an absolute path",
                     bom ? std::string("the file starts with a UTF-8 byte-order mark; save it without one")
                         : "start it with `/`, `$HOME` or `%{HOME}`, e.g. `/" +
                               clip_text(t.substr(0, 40)) + "`");
    }

    // pam_namespace refuses ".." anywhere in these paths, even inside a name.
    if (const std::size_t dots = t.find(".."); dots != std::string::npos)
        report.error(field.column_at(dots), field.raw,
                     what_s + " " + quoted(t) + " contains '..'",
                     "write the path without `..` (pam_namespace.so refuses it too)");

    if (what == "polydir" && t.find_first_not_of('/') == std::string::npos)
        report.error(field.col, field.raw, "the root directory cannot be polyinstantiated",
                     "name the directory to polyinstantiate, e.g. `/tmp`");
}

}  // namespace polyns::config
