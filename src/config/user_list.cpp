#include <charconv>
#include <limits>

#include "line_parts.hpp"

namespace polyns::config {
namespace {

// (uid_t)-1 means "no uid" to the kernel and chown(); it cannot name a user.
constexpr unsigned long long kMaxUid = std::numeric_limits<uid_t>::max() - 1ULL;

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

bool only_digits_and_dashes(std::string_view s) {
    for (char c : s)
        if ((c < '0' || c > '9') && c != '-') return false;
    return true;
}

// False (after reporting) when the number does not fit a uid.
bool parse_uid(std::string_view digits, unsigned col, LineReport& report, uid_t& out) {
    unsigned long long value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value > kMaxUid) {
        report.error(col, digits, "uid " + quoted(digits) + " is out of range",
                     "uids go from 0 to " + std::to_string(kMaxUid));
        return false;
    }
    out = static_cast<uid_t>(value);
    return true;
}

}  // namespace

// Entries are names, @group, uid or uid-uid. Names are resolved by the planner;
// an unknown one matches no one (as in pam_namespace, which only logs it).
void parse_user_list(const Field& field, Rule& rule, LineReport& report) {
    std::string_view list = field.text;
    std::size_t base = 0;
    if (list.empty()) {
        report.error(field.col, field.raw, "user list is empty",
                     "remove the empty 4th field to apply the line to everyone");
        return;
    }
    if (list.front() == '~') {
        rule.only_listed_users = true;
        list.remove_prefix(1);
        base = 1;
        if (list.empty()) {
            report.error(field.col, field.raw, "'~' without users",
                         "list the only users it applies to, e.g. `~alice,bob`, "
                         "or drop the field to apply the line to everyone");
            return;
        }
    }

    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = list.find(',', start);
        const std::size_t stop = comma == std::string_view::npos ? list.size() : comma;
        const std::string_view entry = list.substr(start, stop - start);
        const unsigned col = field.column_at(base + start);

        UserSelector selector;
        if (entry.empty()) {
            report.error(col, ",", "empty entry in user list " + quoted(field.text),
                         "remove the extra `,`");
        } else if (entry.front() == '@') {
            if (entry.size() == 1) {
                report.error(col, entry, "'@' without a group name",
                             "write @GROUP, e.g. `@wheel`");
            } else {
                selector.kind = UserSelector::Kind::Group;
                selector.name = std::string(entry.substr(1));
                rule.users.push_back(std::move(selector));
            }
        } else if (all_digits(entry)) {
            uid_t uid = 0;
            if (parse_uid(entry, col, report, uid)) {
                selector.kind = UserSelector::Kind::UidRange;
                selector.first = selector.last = uid;
                rule.users.push_back(std::move(selector));
            }
        } else if (only_digits_and_dashes(entry)) {
            const std::size_t dash = entry.find('-');
            const std::string_view low = entry.substr(0, dash);
            const std::string_view high = entry.substr(dash + 1);
            if (!all_digits(low) || !all_digits(high)) {
                report.error(col, entry, "malformed uid range " + quoted(entry),
                             "write FIRST-LAST, e.g. `0-999`");
            } else {
                uid_t first = 0;
                uid_t last = 0;
                const unsigned high_col = field.column_at(base + start + dash + 1);
                if (parse_uid(low, col, report, first) && parse_uid(high, high_col, report, last)) {
                    if (first > last) {
                        report.error(col, entry, "uid range " + quoted(entry) + " is empty: " +
                                                     std::string(low) + " > " + std::string(high),
                                     "write it low to high: `" + std::string(high) + "-" +
                                         std::string(low) + "`");
                    } else {
                        selector.kind = UserSelector::Kind::UidRange;
                        selector.first = first;
                        selector.last = last;
                        rule.users.push_back(std::move(selector));
                    }
                }
            }
        } else {
            if (entry.front() == '~')
                report.warning(col, entry,
                               "'~' only has a meaning at the start of the user list; " +
                                   quoted(entry) + " names a user that matches no one",
                               "move `~` to the start of the 4th field");
            if (entry.find_first_of(" \t\n\v\f\r") != std::string_view::npos)
                report.warning(col, entry,
                               "user name " + quoted(entry) + " contains blanks; it matches no one",
                               "separate users with `,` only, e.g. `root,adm`");
            selector.kind = UserSelector::Kind::Name;
            selector.name = std::string(entry);
            rule.users.push_back(std::move(selector));
        }

        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
}

}  // namespace polyns::config
