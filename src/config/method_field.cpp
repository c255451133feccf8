#include <array>
#include <charconv>
#include <cstdio>
#include <set>

#include "line_parts.hpp"

namespace polyns {

std::string_view method_name(Method m) {
    switch (m) {
        case Method::User: return "user";
        case Method::Level: return "level";
        case Method::Context: return "context";
        case Method::Tmpdir: return "tmpdir";
        case Method::Tmpfs: return "tmpfs";
    }
    return "user";
}

namespace config {
namespace {

struct MethodEntry {
    std::string_view name;
    Method method;
};
constexpr std::array<MethodEntry, 5> kMethods = {{{"user", Method::User},
                                                  {"level", Method::Level},
                                                  {"context", Method::Context},
                                                  {"tmpdir", Method::Tmpdir},
                                                  {"tmpfs", Method::Tmpfs}}};

constexpr std::array<std::string_view, 5> kFlags = {"create", "iscript", "noinit", "shared",
                                                    "mntopts"};
constexpr std::string_view kFlagList =
    "known flags: create[=mode,owner,group], iscript=PATH, noinit, shared, mntopts=OPTIONS";
constexpr std::string_view kMethodList = "user, level, context, tmpdir, tmpfs";

bool is_method_name(std::string_view word) {
    for (const auto& m : kMethods)
        if (m.name == word) return true;
    return false;
}

// One ':'-separated piece of the method field, with its offset in field.text.
struct Piece {
    std::string_view text;
    std::size_t offset = 0;
};

std::vector<Piece> split(std::string_view text, char sep, std::size_t base = 0) {
    std::vector<Piece> pieces;
    std::size_t start = 0;
    for (;;) {
        const std::size_t at = text.find(sep, start);
        if (at == std::string_view::npos) {
            pieces.push_back({text.substr(start), base + start});
            return pieces;
        }
        pieces.push_back({text.substr(start, at - start), base + start});
        start = at + 1;
    }
}

std::string unknown_method_hint(std::string_view word) {
    for (const auto& m : kMethods)
        if (edit_distance(word, m.name) <= 2) return "did you mean `" + std::string(m.name) + "`?";
    if (word.find(',') != std::string_view::npos)
        return "the 3rd field is the method (" + std::string(kMethodList) +
               "); users go in the 4th field";
    return "the method is one of " + std::string(kMethodList);
}

// The seed's `level:level,root` wanted `level` as the method and root as an
// excluded user; suggest that spelling whenever an unknown flag reads like a list.
std::string unknown_flag_hint(std::string_view flag, Method method) {
    const std::string_view name = flag.substr(0, flag.find('='));
    for (std::string_view known : kFlags)
        if (name.size() > known.size() && name.substr(0, known.size()) == known)
            return "flags are matched exactly: did you mean `" + std::string(known) +
                   "`? (pam_namespace.so would have read " + quoted(name) + " as `" +
                   std::string(known) + "`)";
    for (std::string_view known : kFlags)
        if (edit_distance(name, known) <= 2) return "did you mean `" + std::string(known) + "`?";

    const bool looks_like_list = flag.find(',') != std::string_view::npos ||
                                 flag.front() == '~' || flag.front() == '@';
    if (looks_like_list) {
        std::string users;
        for (const Piece& p : split(flag, ',')) {
            if (is_method_name(p.text)) continue;
            if (!users.empty()) users += ",";
            users += p.text;
        }
        if (users.empty()) users = std::string(flag);
        return "did you mean to list users in the 4th field, e.g. `" +
               std::string(method_name(method)) + " " + users + "`?";
    }
    if (is_method_name(flag))
        return "a line has one method; to polyinstantiate with " + quoted(flag) +
               ", write it as the method instead of `" + std::string(method_name(method)) + "`";
    return std::string(kFlagList) + "; if " + quoted(flag) +
           " is a user, list it in the 4th field: `" + std::string(method_name(method)) + " " +
           clip_text(flag.substr(0, 64)) + "`";
}

bool all_octal(std::string_view s) {
    for (char c : s)
        if (c < '0' || c > '7') return false;
    return !s.empty();
}

void parse_create(const Field& field, const Piece& value, Rule& rule, LineReport& report) {
    CreateFlag create;
    const std::vector<Piece> parts = split(value.text, ',', value.offset);
    if (parts.size() > 3) {
        const Piece& extra = parts[3];
        report.error(field.column_at(extra.offset), value.text,
                     "create= takes at most mode,owner,group; " + quoted(extra.text) +
                         " is one part too many",
                     "write create=MODE,OWNER,GROUP, e.g. create=0700,root,root");
        return;
    }
    const Piece& mode = parts[0];
    if (!mode.text.empty()) {
        unsigned long parsed = 0;
        const char* first = mode.text.data();
        const char* last = first + mode.text.size();
        const auto [end, ec] = std::from_chars(first, last, parsed, 8);
        if (!all_octal(mode.text) || ec != std::errc() || end != last || parsed > 07777) {
            report.error(field.column_at(mode.offset), mode.text,
                         "invalid mode " + quoted(mode.text) + " in create=",
                         "write an octal mode up to 07777, e.g. create=0700");
            return;
        }
        // pam_namespace reads the mode with strtoul(..., 0): without a leading 0
        // it is decimal. polyns reads octal, what the man page and admins mean.
        if (mode.text.front() != '0' && parsed >= 8) {
            unsigned long as_decimal = 0;  // at most 4 digits here: cannot overflow
            std::from_chars(first, last, as_decimal, 10);
            char decimal_as_octal[32];
            std::snprintf(decimal_as_octal, sizeof decimal_as_octal, "0%lo", as_decimal);
            report.warning(field.column_at(mode.offset), mode.text,
                           "mode " + quoted(mode.text) + " has no leading 0: it is read as octal 0" +
                               std::string(mode.text) + " here, pam_namespace.so read it as decimal (" +
                               decimal_as_octal + ")",
                           "write create=0" + std::string(mode.text) + " to mean the same to both");
        }
        create.mode = static_cast<mode_t>(parsed);
    }
    if (parts.size() > 1 && !parts[1].text.empty()) create.owner = std::string(parts[1].text);
    if (parts.size() > 2 && !parts[2].text.empty()) create.group = std::string(parts[2].text);
    if (create.owner && !create.mode)
        report.warning(field.column_at(value.offset), value.text,
                       "create= names an owner but no mode: the polydir is made 0755 (pam_namespace.so "
                       "used 0777 less the caller's umask: world-writable under umask 000)",
                       "write the mode you mean, e.g. create=0755," + *create.owner);
    rule.create = std::move(create);
}

}  // namespace

bool parse_method_field(const Field& field, Rule& rule, LineReport& report) {
    const std::string_view text = field.text;
    const std::vector<Piece> pieces = split(text, ':');

    const Piece& method_piece = pieces.front();
    if (method_piece.text.empty()) {
        report.error(field.col, field.raw,
                     text.empty() ? "method is empty" : "method field starts with ':'",
                     "write the method first (" + std::string(kMethodList) + "), e.g. `user:create`");
        return false;
    }
    bool known_method = false;
    for (const auto& m : kMethods)
        if (m.name == method_piece.text) {
            rule.method = m.method;
            known_method = true;
        }
    if (!known_method) {
        report.error(field.col, method_piece.text, "unknown method " + quoted(method_piece.text),
                     unknown_method_hint(method_piece.text));
        return false;
    }

    std::set<std::string_view> seen;
    for (std::size_t i = 1; i < pieces.size(); ++i) {
        const Piece& flag = pieces[i];
        const unsigned col = field.column_at(flag.offset);
        if (flag.text.empty()) {
            // pam_namespace skips empty flags (strtok); harmless, but likely a typo.
            report.warning(col, ":", "empty flag in method field " + quoted(text),
                           "remove the extra `:`");
            continue;
        }
        const std::size_t eq = flag.text.find('=');
        const std::string_view name = flag.text.substr(0, eq);
        const bool has_value = eq != std::string_view::npos;
        const Piece value{has_value ? flag.text.substr(eq + 1) : std::string_view(),
                          flag.offset + (has_value ? eq + 1 : flag.text.size())};

        bool known_flag = false;
        for (std::string_view k : kFlags) known_flag = known_flag || k == name;
        if (!known_flag) {
            report.warning(col, flag.text, "unknown flag " + quoted(flag.text) + " in method field; ignored",
                           unknown_flag_hint(flag.text, rule.method));
            continue;
        }
        if (!seen.insert(name).second)
            report.warning(col, flag.text, "flag " + quoted(name) + " given twice; the last one applies",
                           "remove one of them");

        if (name == "create") {
            if (has_value)
                parse_create(field, value, rule, report);
            else
                rule.create = CreateFlag{};
        } else if (name == "iscript") {
            if (value.text.empty()) {
                report.error(col, flag.text, "iscript needs a path",
                             "write iscript=PATH (a relative path is looked up in namespace.d)");
                continue;
            }
            rule.iscript = std::string(value.text);
        } else if (name == "noinit" || name == "shared") {
            if (has_value) {
                report.error(col, flag.text, "flag " + quoted(name) + " takes no value",
                             "write just `" + std::string(name) + "`");
                continue;
            }
            if (name == "noinit") {
                rule.noinit = true;
            } else {
                rule.shared = true;
                if (rule.method != Method::Context && rule.method != Method::Level)
                    report.warning(col, flag.text,
                                   "flag 'shared' only affects the context and level methods; "
                                   "ignored for " + std::string(method_name(rule.method)),
                                   "remove `:shared`");
            }
        } else {  // mntopts
            if (value.text.empty()) {
                report.error(col, flag.text, "mntopts needs mount options",
                             "write mntopts=OPTIONS, e.g. mntopts=size=64M,nosuid,nodev");
                continue;
            }
            if (rule.method != Method::Tmpfs) {
                // polyns applies nosuid, nodev and noexec to bind instances too
                // (issue 3); other options are tmpfs data, which pam_namespace
                // ignores with a warning on other methods, and so does polyns.
                std::string generic;
                std::string ignored;
                std::string_view rest = value.text;
                while (!rest.empty()) {
                    const std::size_t comma = rest.find(',');
                    const std::string_view option = rest.substr(0, comma);
                    std::string& into =
                        (option == "nosuid" || option == "nodev" || option == "noexec") ? generic
                                                                                        : ignored;
                    if (!into.empty()) into += ',';
                    into += option;
                    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
                }
                if (!ignored.empty()) {
                    report.warning(col, flag.text,
                                   "mount options " + quoted(ignored) +
                                       " apply only to the tmpfs method; ignored for " +
                                       std::string(method_name(rule.method)),
                                   "keep only nosuid, nodev, noexec for " +
                                       std::string(method_name(rule.method)) +
                                       " instances, or use the tmpfs method");
                }
                if (!generic.empty()) rule.mntopts = std::move(generic);
                continue;
            }
            rule.mntopts = std::string(value.text);
        }
    }
    return true;
}

void warn_tmpfs_without_size(const Field& field, const Rule& rule, LineReport& report) {
    if (rule.method != Method::Tmpfs || (rule.mntopts && names_mount_option(*rule.mntopts, {"size", "nr_blocks"})))
        return;
    // Every session gets its own tmpfs: without a size, N sessions of one
    // user could hold N times the limit in memory (issue 12, item 4).
    report.warning(field.col, field.raw,
                   "tmpfs without size=: each session's tmpfs is limited to size=10% of RAM and "
                   "nr_inodes=400k (pam_namespace.so: the kernel's half of RAM), and each session of a "
                   "user has its own",
                   "write the limit you mean, e.g. `tmpfs:mntopts=size=256M` (size=0: no limit)");
}

}  // namespace config
}  // namespace polyns
