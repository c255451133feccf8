#include "polyns/pam_service.hpp"

namespace polyns {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// Splits one logical line into words; "[...]" is one word (brackets kept for
// the control field, stripped later for arguments), "\]" inside it is ']'.
std::vector<std::string> split_words(std::string_view line) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_blank(line[i])) ++i;
        if (i >= line.size()) break;
        std::string word;
        if (line[i] == '[') {
            word += '[';
            ++i;
            while (i < line.size() && line[i] != ']') {
                if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == ']') ++i;
                word += line[i];
                ++i;
            }
            if (i < line.size()) {
                word += ']';
                ++i;
            }
            while (i < line.size() && !is_blank(line[i])) word += line[i++];
        } else {
            while (i < line.size() && !is_blank(line[i])) word += line[i++];
        }
        words.push_back(std::move(word));
    }
    return words;
}

std::string unbracket(const std::string& word) {
    if (word.size() >= 2 && word.front() == '[' && word.back() == ']') {
        return word.substr(1, word.size() - 2);
    }
    return word;
}

}  // namespace

std::vector<PamServiceEntry> parse_pam_service(std::string_view text) {
    std::vector<PamServiceEntry> entries;
    unsigned line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        // Gather one logical line (backslash-newline joins lines).
        const unsigned start_line = line_no + 1;
        std::string logical;
        for (;;) {
            std::size_t end = text.find('\n', pos);
            if (end == std::string_view::npos) end = text.size();
            std::string_view physical = text.substr(pos, end - pos);
            ++line_no;
            pos = end + 1;
            if (!physical.empty() && physical.back() == '\\' && pos < text.size()) {
                logical.append(physical.substr(0, physical.size() - 1));
                logical += ' ';
                continue;
            }
            logical.append(physical);
            break;
        }
        if (const std::size_t hash = logical.find('#'); hash != std::string::npos) {
            logical.resize(hash);
        }
        const std::vector<std::string> words = split_words(logical);
        if (words.empty()) continue;

        PamServiceEntry e;
        e.line = start_line;
        if (words[0] == "@include") {
            if (words.size() < 2) continue;
            e.kind = PamServiceEntry::Kind::AtInclude;
            e.target = words[1];
            entries.push_back(std::move(e));
            continue;
        }
        if (words.size() < 3) continue;
        e.type = words[0];
        if (!e.type.empty() && e.type.front() == '-') e.type.erase(0, 1);
        e.control = words[1];
        if (e.control == "include" || e.control == "substack") {
            e.kind = PamServiceEntry::Kind::Include;
            e.target = words[2];
            entries.push_back(std::move(e));
            continue;
        }
        e.module = words[2];
        for (std::size_t i = 3; i < words.size(); ++i) e.args.push_back(unbracket(words[i]));
        entries.push_back(std::move(e));
    }
    return entries;
}

bool is_pam_selinux_open(const PamServiceEntry& entry) {
    if (entry.kind != PamServiceEntry::Kind::Module || entry.type != "session") return false;
    const std::size_t slash = entry.module.rfind('/');
    const std::string_view base =
        std::string_view(entry.module).substr(slash == std::string::npos ? 0 : slash + 1);
    if (base != "pam_selinux.so") return false;
    bool open = false, close = false;
    for (const auto& arg : entry.args) {
        open = open || arg == "open";
        close = close || arg == "close";
    }
    return open || !close;
}

bool is_polyns_module(std::string_view module) {
    const std::size_t slash = module.rfind('/');
    const std::string_view base = slash == std::string_view::npos ? module : module.substr(slash + 1);
    return base == "pam_polyns.so";
}

}  // namespace polyns
