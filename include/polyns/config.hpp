// The namespace.conf language: rules and diagnostics. Parsing never throws and
// never crashes; every problem becomes a Diagnostic with file, line, column,
// the offending text and a hint.
#pragma once

#include <sys/types.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace polyns {

struct SourceLoc {
    std::string file;  // as given to the parser (path of the config file)
    unsigned line = 0; // 1-based; 0 = not from a file
    unsigned col = 0;  // 1-based column of the offending text
};

enum class Severity { Warning, Error };

struct Diagnostic {
    Severity severity = Severity::Error;
    SourceLoc loc;
    std::string message;  // "unknown flag 'level,root' in method field"
    std::string text;     // the offending text, verbatim
    std::string hint;     // "did you mean to list users in the 4th field, e.g. `level root`?"
};

enum class Method { User, Level, Context, Tmpdir, Tmpfs };

std::string_view method_name(Method m);

// create=mode,owner,group: each part optional.
struct CreateFlag {
    std::optional<mode_t> mode;
    std::optional<std::string> owner;  // name or numeric uid, resolved by the planner
    std::optional<std::string> group;  // name or numeric gid, resolved by the planner
};

// One entry of the 4th field.
struct UserSelector {
    enum class Kind { Name, Group, UidRange };
    Kind kind = Kind::Name;
    std::string name;  // Name: user name; Group: group name (without '@')
    uid_t first = 0;   // UidRange: inclusive bounds (a single uid has first == last)
    uid_t last = 0;
};

struct Rule {
    std::string polydir;          // raw text after unquoting/unescaping; may hold $HOME $USER %{...}
    std::string instance_prefix;  // raw text after unquoting/unescaping
    Method method = Method::User;
    std::optional<CreateFlag> create;
    std::optional<std::string> iscript;  // as written; relative = relative to <securitydir>/namespace.d
    bool noinit = false;
    bool shared = false;
    std::optional<std::string> mntopts;  // as written, parsed by the planner with libmount
    bool only_listed_users = false;      // the 4th field started with '~'
    std::vector<UserSelector> users;     // empty = applies to everyone
    SourceLoc loc;                       // where the rule starts (column of the polydir)
};

struct Config {
    std::vector<Rule> rules;              // in effective order (main file, then drop-ins by name)
    std::vector<Diagnostic> diagnostics;  // in the order found
    std::vector<std::string> files;       // every file read, in order

    bool has_errors() const;
    std::size_t warning_count() const;
    std::size_t error_count() const;
};

// Parses one file's text. `file` is used for diagnostics only. A line with an
// error produces no rule; a line with only warnings produces its rule.
Config parse_config_text(std::string_view text, const std::string& file);

struct LoadOptions {
    std::string security_dir;  // normally POLYNS_SECURITYDIR ("/etc/security")
    std::string vendor_dir;    // normally POLYNS_VENDORDIR (holds namespace.conf and namespace.d)
    // When set, exactly this file is read (module option conf=, polyns --config):
    // no vendor fallback and no drop-ins.
    std::optional<std::string> only_file;
    // Refuse files/dirs not owned by root or writable by group/other (DESIGN invariant 7).
    bool check_trust = true;
};

LoadOptions default_load_options();

// Main file (or vendor fallback) + namespace.d/*.conf of both dirs (an /etc file
// overrides a vendor file of the same name), sorted by file name. Missing main
// file and missing vendor file: an empty Config with no error (nothing to do).
Config load_config(const LoadOptions& options);

// True if the comma-separated mount option list `options` holds NAME=VALUE
// for one of `names` ("size", "nr_blocks"): enough to tell whether a rule set
// a limit; the planner reads the options with libmount.
bool names_mount_option(std::string_view options, std::initializer_list<std::string_view> names);

// "namespace.conf:3:22: warning: unknown flag ... [hint: ...]" style, one line.
std::string format_diagnostic(const Diagnostic& d);

}  // namespace polyns
