// The lexer must split exactly as Linux-PAM's argv_parse() after
// pam_namespace's comment stripping: these cases spell out that behaviour.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "polyns/config/lexer.hpp"

using polyns::config::lex_line;
using polyns::config::LexedLine;
using polyns::config::split_lines;

namespace {

std::vector<std::string> texts(const LexedLine& lexed) {
    std::vector<std::string> out;
    for (const auto& f : lexed.fields) out.push_back(f.text);
    return out;
}

using Fields = std::vector<std::string>;

}  // namespace

TEST_CASE("lexer: fields are separated by runs of blanks", "[lexer]") {
    CHECK(texts(lex_line("/tmp /tmp-inst/ user root")) == Fields{"/tmp", "/tmp-inst/", "user", "root"});
    CHECK(texts(lex_line("  \t/tmp\t\t  /x \t user\t")) == Fields{"/tmp", "/x", "user"});
    // pam_namespace splits with isspace(): \v \f \r separate fields too (CRLF files work).
    CHECK(texts(lex_line("/a\v/b\f/c\r")) == Fields{"/a", "/b", "/c"});
    CHECK(lex_line("").fields.empty());
    CHECK(lex_line(" \t \r").fields.empty());
}

TEST_CASE("lexer: columns are 1-based byte positions", "[lexer]") {
    const LexedLine lexed = lex_line("  /tmp\t/x  user");
    REQUIRE(lexed.fields.size() == 3);
    CHECK(lexed.fields[0].col == 3);
    CHECK(lexed.fields[1].col == 8);
    CHECK(lexed.fields[2].col == 12);
    CHECK(lexed.fields[2].raw == "user");
    CHECK(lexed.fields[2].column_at(2) == 14);
    CHECK(lexed.fields[2].column_at(4) == 16);  // just past the field
}

TEST_CASE("lexer: '#' starts a comment anywhere, even inside quotes", "[lexer]") {
    CHECK(lex_line("# comment").fields.empty());
    CHECK(lex_line("   # indented comment").fields.empty());
    CHECK(texts(lex_line("/tmp /x user # trailing")) == Fields{"/tmp", "/x", "user"});
    CHECK(texts(lex_line("/tmp /x user#glued")) == Fields{"/tmp", "/x", "user"});
    // pam_namespace strips from the first '#' before splitting: the quote stays open.
    const LexedLine quoted_hash = lex_line("/tmp \"/a#b\" user");
    REQUIRE(quoted_hash.problems.size() == 1);
    CHECK(quoted_hash.problems[0].message == "unterminated quote");
    CHECK(quoted_hash.problems[0].col == 6);
    CHECK_THAT(quoted_hash.problems[0].hint, Catch::Contains("`#` starts a comment"));
}

TEST_CASE("lexer: double quotes group blanks and may appear mid-field", "[lexer]") {
    CHECK(texts(lex_line("\"/tmp dir\" \"/x y/\" user")) == Fields{"/tmp dir", "/x y/", "user"});
    CHECK(texts(lex_line("a\"b c\"d e")) == Fields{"ab cd", "e"});
    CHECK(texts(lex_line("\"\" x")) == Fields{"", "x"});
    CHECK(texts(lex_line("x\"\"")) == Fields{"x"});
    // Inside quotes every byte is literal, backslashes included.
    CHECK(texts(lex_line("\"a\\tb\"")) == Fields{"a\\tb"});
    CHECK(texts(lex_line("\"a\\\"")) == Fields{"a\\"});
}

TEST_CASE("lexer: quoted text maps back to its source columns", "[lexer]") {
    const LexedLine lexed = lex_line("\"ab\"c");
    REQUIRE(lexed.fields.size() == 1);
    CHECK(lexed.fields[0].text == "abc");
    CHECK(lexed.fields[0].columns == std::vector<unsigned>{2, 3, 5});
}

TEST_CASE("lexer: an unterminated quote is a problem at the quote", "[lexer]") {
    const LexedLine lexed = lex_line("/tmp \"/tmp-inst user");
    REQUIRE(lexed.problems.size() == 1);
    CHECK(lexed.problems[0].col == 6);
    CHECK(lexed.problems[0].text == "\"/tmp-inst user");
    CHECK_FALSE(lexed.problems[0].hint.empty());
    CHECK(lex_line("\"").problems.size() == 1);
}

TEST_CASE("lexer: escapes \\b \\n \\t and backslash before any other byte", "[lexer]") {
    CHECK(texts(lex_line("a\\bb")) == Fields{"a\bb"});
    CHECK(texts(lex_line("a\\nb")) == Fields{"a\nb"});
    CHECK(texts(lex_line("a\\tb")) == Fields{"a\tb"});
    // argv_parse: a backslash before any other byte yields that byte.
    CHECK(texts(lex_line("a\\ b c")) == Fields{"a b", "c"});
    CHECK(texts(lex_line("a\\\\b")) == Fields{"a\\b"});
    CHECK(texts(lex_line("a\\\"b")) == Fields{"a\"b"});
    CHECK(texts(lex_line("a\\xb")) == Fields{"axb"});
    // A backslash ending the line (or the text before a comment) is literal.
    CHECK(texts(lex_line("a\\")) == Fields{"a\\"});
    CHECK(texts(lex_line("\\")) == Fields{"\\"});
    CHECK(texts(lex_line("a\\#comment")) == Fields{"a\\"});
    // The escaped byte is reported at its backslash.
    const LexedLine lexed = lex_line("x\\ty");
    CHECK(lexed.fields[0].columns == std::vector<unsigned>{1, 2, 4});
}

TEST_CASE("lexer: a NUL byte is a problem at its column", "[lexer]") {
    const std::string line("/tmp /x\0 user", 13);
    const LexedLine lexed = lex_line(line);
    REQUIRE(lexed.problems.size() == 1);
    CHECK(lexed.problems[0].col == 8);
    CHECK(lexed.problems[0].message == "NUL byte in line");
    // ...but not inside a comment, which is free text.
    CHECK(lex_line(std::string("/tmp /x user #\0", 15)).problems.empty());
}

TEST_CASE("lexer: very long lines have no fixed limit", "[lexer]") {
    const std::string path = "/" + std::string(1u << 20, 'a');
    const LexedLine lexed = lex_line(path + " /x user");
    REQUIRE(lexed.fields.size() == 3);
    CHECK(lexed.fields[0].text.size() == path.size());
    CHECK(lexed.fields[2].col == path.size() + 5);
}

TEST_CASE("lexer: split_lines keeps a last line without newline", "[lexer]") {
    CHECK(split_lines("").empty());
    CHECK(split_lines("a") == std::vector<std::string_view>{"a"});
    CHECK(split_lines("a\n") == std::vector<std::string_view>{"a"});
    CHECK(split_lines("a\n\nb") == std::vector<std::string_view>{"a", "", "b"});
}
