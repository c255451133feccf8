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

namespace {

// Length of the well-formed UTF-8 sequence starting at text[i], or 0.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) length = 3;
    else if (lead >= 0xf0 && lead <= 0xf4) length = 4;
    else return 0;
    if (i + length > text.size()) return 0;
    for (std::size_t k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(text[i + k]);
        if (next < 0x80 || next > 0xbf) return 0;
    }
    return length;
}

}  // namespace

std::string displayable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte < 0x7f) {
            out.push_back(text[i++]);
            continue;
        }
        if (const std::size_t length = byte >= 0x80 ? utf8_sequence_length(text, i) : 0) {
            out.append(text.substr(i, length));
            i += length;
            continue;
        }
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", byte);
        out += buf;
        ++i;
    }
    return out;
}

std::string quoted(std::string_view text) {
    const std::size_t shown = std::min(text.size(), kMaxQuotedText);
    return "'" + displayable(text.substr(0, shown)) + (shown < text.size() ? "...'" : "'");
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

namespace polyns {

bool names_mount_option(std::string_view options, std::initializer_list<std::string_view> names) {
    while (!options.empty()) {
        const std::size_t comma = options.find(',');
        const std::string_view option = options.substr(0, comma);
        const std::size_t eq = option.find('=');
        for (std::string_view name : names)
            if (eq != std::string_view::npos && option.substr(0, eq) == name) return true;
        options = comma == std::string_view::npos ? std::string_view() : options.substr(comma + 1);
    }
    return false;
}

}  // namespace polyns
