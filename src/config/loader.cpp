#include <cerrno>
#include <map>

#include "polyns/config.hpp"
#include "polyns/sys/trusted_file.hpp"
#include "polyns_build_config.h"

namespace polyns {
namespace {

constexpr std::string_view kMainFile = "namespace.conf";
constexpr std::string_view kDropInDir = "namespace.d";
constexpr std::string_view kDropInSuffix = ".conf";

std::string join(const std::string& dir, std::string_view name) {
    if (!dir.empty() && dir.back() == '/') return dir + std::string(name);
    return dir + "/" + std::string(name);
}

// A problem with a whole file or directory: line 0, no column.
void report_file_error(Config& config, const std::string& path, Error error) {
    Diagnostic d;
    d.severity = Severity::Error;
    d.loc = SourceLoc{path, 0, 0};
    d.text = path;
    d.hint = std::move(error.hint);
    error.hint.clear();
    d.message = error.message();
    if (d.hint.empty()) {
        if (error.err == EACCES || error.err == EPERM)
            d.hint = "make " + path + " readable by root";
        else if (error.err == ENOTDIR)
            d.hint = "replace " + path + " with a directory, or remove it";
        else
            d.hint = "replace " + path + " with a regular file owned by root, or remove it";
    }
    config.diagnostics.push_back(std::move(d));
}

enum class ReadOutcome { Parsed, Missing, Failed };

ReadOutcome read_and_parse(const std::string& path, bool check_trust, Config& config) {
    Result<std::string> text = sys::read_trusted_file(path, check_trust);
    if (!text) {
        if (text.error().err == ENOENT) return ReadOutcome::Missing;
        report_file_error(config, path, std::move(text.error()));
        return ReadOutcome::Failed;
    }
    config.files.push_back(path);
    Config part = parse_config_text(*text, path);
    for (Rule& r : part.rules) config.rules.push_back(std::move(r));
    for (Diagnostic& d : part.diagnostics) config.diagnostics.push_back(std::move(d));
    return ReadOutcome::Parsed;
}

// Drop-in names of one directory into `by_name` (name -> path); a name already
// there (from the security dir, listed first) is not replaced.
void collect_drop_ins(const std::string& dir, bool check_trust,
                      std::map<std::string, std::string>& by_name, Config& config) {
    Result<std::vector<std::string>> names = sys::list_trusted_dir(dir, kDropInSuffix, check_trust);
    if (!names) {
        if (names.error().err == ENOENT) return;
        report_file_error(config, dir, std::move(names.error()));
        return;
    }
    for (const std::string& name : *names) by_name.emplace(name, join(dir, name));
}

}  // namespace

LoadOptions default_load_options() {
    LoadOptions options;
    options.security_dir = POLYNS_SECURITYDIR;
    options.vendor_dir = POLYNS_VENDORDIR;
    return options;
}

Config load_config(const LoadOptions& options) {
    Config config;
    if (options.only_file) {
        // The admin named this file: its absence is an error, not "nothing to do".
        Result<std::string> text = sys::read_trusted_file(*options.only_file, options.check_trust);
        if (!text) {
            Error error = std::move(text.error());
            if (error.err == ENOENT) error.hint = "check the path given as the config file";
            report_file_error(config, *options.only_file, std::move(error));
            return config;
        }
        config = parse_config_text(*text, *options.only_file);
        config.files.push_back(*options.only_file);
        return config;
    }

    // As pam_namespace: the vendor file is read only when the main file does not
    // exist (not when it is unreadable or untrusted: that is an error).
    const std::string main_file = join(options.security_dir, kMainFile);
    if (read_and_parse(main_file, options.check_trust, config) == ReadOutcome::Missing)
        read_and_parse(join(options.vendor_dir, kMainFile), options.check_trust, config);

    // An /etc drop-in overrides the vendor drop-in of the same name; all are read
    // in file-name order regardless of their directory.
    std::map<std::string, std::string> drop_ins;
    collect_drop_ins(join(options.security_dir, kDropInDir), options.check_trust, drop_ins, config);
    collect_drop_ins(join(options.vendor_dir, kDropInDir), options.check_trust, drop_ins, config);
    for (const auto& [name, path] : drop_ins) {
        // Listed a moment ago; if it vanished since, there is nothing to read.
        read_and_parse(path, options.check_trust, config);
    }
    return config;
}

}  // namespace polyns
