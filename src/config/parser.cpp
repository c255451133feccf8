#include <algorithm>

#include "line_parts.hpp"

namespace polyns {
namespace {

using config::Field;
using config::LineReport;

constexpr const char* kFieldNames[] = {"polydir", "instance prefix", "method", "user list"};

void report_missing_field(const config::LexedLine& lexed, std::string_view line,
                          LineReport& report) {
    const std::size_t have = lexed.fields.size();
    const Field& last = lexed.fields.back();
    const unsigned col = last.col + static_cast<unsigned>(last.raw.size());
    report.error(col, line, std::string("missing ") + kFieldNames[have] + " after " +
                                config::quoted(last.text),
                 "a line is: polydir instance_prefix method [user_list], "
                 "e.g. `/tmp /tmp-inst/ user root`");
}

// pam_namespace reads the first 4 fields and ignores the rest. Extra fields
// nearly always mean a user list written with blanks ("root, adm"), which
// pam_namespace would cut short, so users meant to be excluded (or, after `~`,
// meant to be included) silently are not. We refuse the line instead: the
// module then fails closed, and `polyns check` shows where.
void report_extra_fields(const config::LexedLine& lexed, LineReport& report) {
    const Field& fifth = lexed.fields[4];
    const Field& fourth = lexed.fields[3];
    const bool list_with_blanks = (!fourth.text.empty() && fourth.text.back() == ',') ||
                                  (!fifth.text.empty() && fifth.text.front() == ',');
    std::string hint = list_with_blanks
                           ? "write the user list without blanks, e.g. `root,adm`"
                           : "a line has at most 4 fields (polydir instance_prefix method "
                             "user_list); quote a field that contains blanks";
    report.error(fifth.col, fifth.raw,
                 "unexpected 5th field " + config::quoted(fifth.text) + " (a line has at most 4)",
                 std::move(hint));
}

void parse_fields(std::string_view line, unsigned number, const std::string& file, Config& config) {
    LineReport report(file, number, config.diagnostics);
    const config::LexedLine lexed = config::lex_line(line);
    for (const config::LexProblem& p : lexed.problems) report.error(p.col, p.text, p.message, p.hint);
    if (report.has_errors() || lexed.fields.empty()) return;

    if (lexed.fields.size() < 3) {
        report_missing_field(lexed, line, report);
        return;
    }
    if (lexed.fields.size() > 4) report_extra_fields(lexed, report);

    Rule rule;
    rule.loc = SourceLoc{file, number, lexed.fields[0].col};
    config::check_path_field(lexed.fields[0], "polydir", true, report);
    const bool method_ok = config::parse_method_field(lexed.fields[2], rule, report);
    // pam_namespace never uses a tmpfs line's instance prefix as a path, so it
    // does not require it to be absolute; it still refuses "..".
    const bool prefix_is_path = !method_ok || rule.method != Method::Tmpfs;
    config::check_path_field(lexed.fields[1], "instance prefix", prefix_is_path, report);
    // With extra fields the user list is cut short: checking it would only
    // repeat the problem ("root, adm" -> "empty entry after root").
    if (lexed.fields.size() == 4) config::parse_user_list(lexed.fields[3], rule, report);

    if (report.has_errors()) return;
    config::warn_tmpfs_without_size(lexed.fields[2], rule, report);
    rule.polydir = lexed.fields[0].text;
    rule.instance_prefix = lexed.fields[1].text;
    config.rules.push_back(std::move(rule));
}

// Fields are checked in the order their checks depend on each other; the
// diagnostics of one line are shown left to right.
void parse_line(std::string_view line, unsigned number, const std::string& file, Config& config) {
    const auto first = static_cast<std::ptrdiff_t>(config.diagnostics.size());
    parse_fields(line, number, file, config);
    std::stable_sort(config.diagnostics.begin() + first, config.diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) { return a.loc.col < b.loc.col; });
}

}  // namespace

Config parse_config_text(std::string_view text, const std::string& file) {
    Config config;
    const std::vector<std::string_view> lines = config::split_lines(text);
    unsigned number = 0;
    for (std::string_view line : lines) {
        ++number;
        parse_line(line, number, file, config);
    }
    return config;
}

}  // namespace polyns
