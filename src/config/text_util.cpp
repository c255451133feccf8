#include <algorithm>
#include <cstdio>
#include <vector>

#include "line_parts.hpp"

namespace polyns::config {
namespace {

constexpr std::size_t kMaxStoredText = 256;
constexpr std::size_t kMaxQuotedText = 64;

}  // namespace

std::string clip_text(std::string_view text) {
    if (text.size() <= kMaxStoredText) return std::string(text);
    return std::string(text.substr(0, kMaxStoredText)) + "...";
}

std::string quoted(std::string_view text) {
    std::string out = "'";
    const std::size_t shown = std::min(text.size(), kMaxQuotedText);
    for (std::size_t i = 0; i < shown; ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x20 || byte == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", byte);
            out += buf;
        } else {
            out.push_back(text[i]);
        }
    }
    if (shown < text.size()) out += "...";
    out += "'";
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Only ever called with flag and method names against short words; cap the
    // work anyway so a huge field cannot make it quadratic.
    if (a.size() > 64 || b.size() > 64) return std::max(a.size(), b.size());
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace polyns::config
