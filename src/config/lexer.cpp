#include "polyns/config/lexer.hpp"

#include <algorithm>

namespace polyns::config {
namespace {

// isspace() in the C locale, which is what pam_namespace runs under; spelled
// out so the user's locale cannot change how a config file splits.
bool is_separator(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

unsigned column_of(std::size_t index) { return static_cast<unsigned>(index + 1); }

}  // namespace

unsigned Field::column_at(std::size_t offset) const {
    if (offset < columns.size()) return columns[offset];
    return col + static_cast<unsigned>(raw.size());
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos) {
            lines.push_back(text.substr(start));
            break;
        }
        lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return lines;
}

LexedLine lex_line(std::string_view line) {
    LexedLine out;

    // pam_namespace cuts the line at the first '#' before splitting fields, so a
    // '#' inside quotes starts a comment too; we keep that meaning.
    const std::size_t comment = line.find('#');
    const std::size_t end = comment == std::string_view::npos ? line.size() : comment;

    // pam_namespace sees a line as a C string and silently drops whatever follows
    // a NUL byte; a config file holding one is damaged, so we refuse the line.
    if (const std::size_t nul = line.substr(0, end).find('\0'); nul != std::string_view::npos) {
        out.problems.push_back({column_of(nul), "\\0", "NUL byte in line",
                                "the file looks binary or damaged; remove the NUL byte"});
        return out;
    }

    enum class State { Between, Word, Quoted };
    State state = State::Between;
    std::size_t field_start = 0;
    std::size_t quote_start = 0;
    Field current;

    auto finish_field = [&](std::size_t stop) {
        current.raw = line.substr(field_start, stop - field_start);
        out.fields.push_back(std::move(current));
        current = Field{};
    };

    for (std::size_t i = 0; i < end; ++i) {
        const char c = line[i];
        if (state == State::Between) {
            if (is_separator(c)) continue;
            state = State::Word;
            field_start = i;
            current.col = column_of(i);
        }
        if (state == State::Quoted) {
            if (c == '"') {
                state = State::Word;
            } else {
                current.text.push_back(c);
                current.columns.push_back(column_of(i));
            }
            continue;
        }
        // State::Word
        if (is_separator(c)) {
            finish_field(i);
            state = State::Between;
            continue;
        }
        if (c == '"') {
            state = State::Quoted;
            quote_start = i;
            continue;
        }
        const std::size_t source = i;  // an escape is reported at its backslash
        char produced = c;
        if (c == '\\' && i + 1 < end) {
            ++i;
            switch (line[i]) {
                case 'n': produced = '\n'; break;
                case 't': produced = '\t'; break;
                case 'b': produced = '\b'; break;
                default: produced = line[i]; break;
            }
        }
        // A backslash ending the (comment-stripped) line stays a backslash.
        current.text.push_back(produced);
        current.columns.push_back(column_of(source));
    }

    if (state == State::Quoted) {
        std::string hint = "close the quoted text with `\"`";
        if (comment != std::string_view::npos)
            hint = "`#` starts a comment even inside quotes (as in pam_namespace.so); "
                   "remove it or close the quote before it";
        std::string text(line.substr(quote_start, end - quote_start));
        out.problems.push_back({column_of(quote_start), std::move(text), "unterminated quote",
                                std::move(hint)});
        return out;
    }
    if (state == State::Word) finish_field(end);
    return out;
}

}  // namespace polyns::config
