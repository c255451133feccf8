// The lexical layer of namespace.conf, exposed for the parser, the unit tests
// and the fuzzer. It reproduces Linux-PAM's argv_parse() on one line:
//   - the line ends at the first '#' (even inside quotes: pam_namespace strips
//     comments before it splits fields);
//   - fields are separated by runs of isspace() characters;
//   - '"' toggles quoting anywhere in a field (a"b c"d is one field "ab cd");
//     inside quotes every byte is literal, backslashes included;
//   - outside quotes \n \t \b are newline, tab, backspace; a backslash before
//     any other byte yields that byte; a backslash ending the line is literal.
// Where pam_namespace would guess (an unterminated quote, a NUL byte), we
// report a problem instead: the parser turns it into an error diagnostic.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace polyns::config {

// One field after unquoting and unescaping. `columns[i]` is the 1-based column
// of the source byte that produced text[i], so diagnostics about a part of a
// field can point into the line even when quotes or escapes came before it.
struct Field {
    std::string text;
    std::vector<unsigned> columns;
    unsigned col = 0;      // column of the field's first source byte
    std::string_view raw;  // the field as written (quotes and backslashes kept)

    // Column of text[offset]; the column after the field for offset == size().
    unsigned column_at(std::size_t offset) const;
};

struct LexProblem {
    unsigned col = 0;
    std::string text;  // offending source text
    std::string message;
    std::string hint;
};

struct LexedLine {
    std::vector<Field> fields;
    std::vector<LexProblem> problems;  // non-empty: the line must not produce a rule
};

// Splits `text` into lines at '\n' (a final line without '\n' counts).
// Each entry views into `text`.
std::vector<std::string_view> split_lines(std::string_view text);

// Lexes one line (without its '\n'). `raw` views of the result point into `line`.
LexedLine lex_line(std::string_view line);

}  // namespace polyns::config
