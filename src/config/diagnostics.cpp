#include <algorithm>

#include "line_parts.hpp"

namespace polyns {
namespace config {

void LineReport::add(Severity severity, unsigned col, std::string_view text, std::string message,
                     std::string hint) {
    Diagnostic d;
    d.severity = severity;
    d.loc = SourceLoc{file_, line_, col};
    d.message = std::move(message);
    d.text = clip_text(text);
    d.hint = std::move(hint);
    out_.push_back(std::move(d));
}

void LineReport::warning(unsigned col, std::string_view text, std::string message,
                         std::string hint) {
    add(Severity::Warning, col, text, std::move(message), std::move(hint));
}

void LineReport::error(unsigned col, std::string_view text, std::string message,
                       std::string hint) {
    ++errors_;
    add(Severity::Error, col, text, std::move(message), std::move(hint));
}

}  // namespace config


bool Config::has_errors() const { return error_count() > 0; }

std::size_t Config::error_count() const {
    return static_cast<std::size_t>(std::count_if(
        diagnostics.begin(), diagnostics.end(),
        [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

std::size_t Config::warning_count() const {
    return static_cast<std::size_t>(std::count_if(
        diagnostics.begin(), diagnostics.end(),
        [](const Diagnostic& d) { return d.severity == Severity::Warning; }));
}

// One line, so it greps well and fits one syslog record; control bytes and
// broken UTF-8 (from a damaged file, or a file name) never reach them raw:
//   namespace.conf:3:22: warning: unknown flag 'level,root' ...; ignored [hint: ...]
// A problem with a whole file (line 0) has no line or column part.
std::string format_diagnostic(const Diagnostic& d) {
    std::string out = config::displayable(d.loc.file.empty() ? std::string("<config>") : d.loc.file);
    if (d.loc.line != 0) {
        out += ":" + std::to_string(d.loc.line);
        if (d.loc.col != 0) out += ":" + std::to_string(d.loc.col);
    }
    out += d.severity == Severity::Error ? ": error: " : ": warning: ";
    out += config::displayable(d.message);
    if (!d.hint.empty()) out += " [hint: " + config::displayable(d.hint) + "]";
    return out;
}

}  // namespace polyns
