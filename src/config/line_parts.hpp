// Internal to src/config: the pieces that turn one lexed line into a Rule.
// Each piece reads one field and reports problems through LineReport, which
// knows the file and line and remembers whether the line had an error (then
// the line produces no rule).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "polyns/config.hpp"
#include "polyns/config/lexer.hpp"

namespace polyns::config {

class LineReport {
public:
    LineReport(const std::string& file, unsigned line, std::vector<Diagnostic>& out)
        : file_(file), line_(line), out_(out) {}

    void warning(unsigned col, std::string_view text, std::string message, std::string hint);
    void error(unsigned col, std::string_view text, std::string message, std::string hint);
    bool has_errors() const { return errors_ > 0; }
    const std::string& file() const { return file_; }
    unsigned line() const { return line_; }

private:
    void add(Severity severity, unsigned col, std::string_view text, std::string message,
             std::string hint);

    const std::string& file_;
    unsigned line_;
    std::vector<Diagnostic>& out_;
    unsigned errors_ = 0;
};

// The offending text stored in a Diagnostic: verbatim, but clipped so a 1 MiB
// field does not become a 1 MiB message.
std::string clip_text(std::string_view text);

// Text safe for terminals and syslog: control bytes and bytes that are not
// well-formed UTF-8 are shown as \xNN.
std::string displayable(std::string_view text);

// 'text' for messages: quoted, displayable, clipped.
std::string quoted(std::string_view text);

// Edit distance, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Fields 1 and 2. `what` is "polydir" or "instance prefix". `must_be_absolute`
// is false only for a tmpfs instance prefix, which pam_namespace never uses as a path.
void check_path_field(const Field& field, std::string_view what, bool must_be_absolute,
                      LineReport& report);

// Field 3: method and ':'-separated flags. Returns false when the method itself
// is unusable (the caller then skips checks that depend on it).
bool parse_method_field(const Field& field, Rule& rule, LineReport& report);
// A tmpfs rule that sets no size (a line without errors only: a broken one
// mounts nothing).
void warn_tmpfs_without_size(const Field& field, const Rule& rule, LineReport& report);

// Field 4: [~]entry,entry,...
void parse_user_list(const Field& field, Rule& rule, LineReport& report);

}  // namespace polyns::config
