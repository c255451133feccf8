// libFuzzer target: any bytes through the namespace.conf lexer and parser.
// Besides "no crash, no sanitizer report" it checks the promises the rest of
// polyns relies on: every diagnostic points into the input, a line with an
// error yields no rule, and formatting a diagnostic works for any content.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "polyns/config.hpp"
#include "polyns/config/lexer.hpp"

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::vector<std::string_view> lines = polyns::config::split_lines(text);

    for (std::string_view line : lines) {
        const polyns::config::LexedLine lexed = polyns::config::lex_line(line);
        for (const auto& field : lexed.fields) {
            require(field.text.size() == field.columns.size());
            require(field.col >= 1 && field.col <= line.size());
            for (unsigned col : field.columns) require(col >= field.col && col <= line.size());
        }
    }

    const polyns::Config config = polyns::parse_config_text(text, "fuzz.conf");
    std::set<unsigned> error_lines;
    for (const polyns::Diagnostic& d : config.diagnostics) {
        require(d.loc.file == "fuzz.conf");
        require(d.loc.line >= 1 && d.loc.line <= lines.size());
        require(d.loc.col >= 1 && d.loc.col <= lines[d.loc.line - 1].size() + 1);
        require(!d.message.empty());
        require(!polyns::format_diagnostic(d).empty());
        if (d.severity == polyns::Severity::Error) error_lines.insert(d.loc.line);
    }
    for (const polyns::Rule& rule : config.rules) {
        require(error_lines.count(rule.loc.line) == 0);
        require(!rule.polydir.empty() && !rule.instance_prefix.empty());
        for (const auto& user : rule.users) require(user.first <= user.last);
    }
    require(config.error_count() + config.warning_count() == config.diagnostics.size());
    return 0;
}
