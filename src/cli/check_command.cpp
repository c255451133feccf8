// `polyns check`: load the configuration exactly as pam_polyns.so would and
// report every diagnostic like a compiler does, so an admin can fix a file
// before the next login fails on it.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "host_files.hpp"
#include "polyns/config.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/path.hpp"
#include "polyns_build_config.h"
#include "world.hpp"

namespace polyns::cli {
namespace {

// Keys stay in the order written below, so the output reads top-down.
using Json = nlohmann::ordered_json;

struct CheckRequest {
    std::string config_file;  // empty: the effective configuration (main file + drop-ins)
    bool strict = false;
    bool json = false;
    bool skip_trust_check = false;
};

int exit_status_for(const Config& config, bool strict) {
    if (config.error_count() > 0) {
        return exit_errors;
    }
    if (strict && config.warning_count() > 0) {
        return exit_warnings;
    }
    return exit_ok;
}

std::string counted(std::size_t n, std::string_view singular, std::string_view plural) {
    return fmt::format("{} {}", n, n == 1 ? singular : plural);
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += ", ";
        }
        out += item;
    }
    return out;
}

// Something the admin should know that is not a problem: printed, never
// counted as a warning, so --strict does not fail on it.
struct Notice {
    std::string message;
    std::string hint;
    std::vector<std::string> paths;
};

// Issue 12, item 6: the seed's 0755 templates let every user stat another's
// instance. That layout is supported, so this is said once, as a notice,
// naming every template it applies to (a missing one is made 0000).
std::optional<Notice> template_metadata_notice(const Config& config, const LoadOptions& load) {
    Notice n;
    std::vector<std::string> listed;
    for (const auto& t : configured_templates(config, load)) {
        auto fd = sys::open_path(t, O_PATH | O_DIRECTORY, "open template");
        if (!fd) continue;
        auto st = sys::stat_fd(fd->get(), "stat template", t);
        if (!st || (st->st_mode & (S_IXGRP | S_IXOTH)) == 0) continue;
        n.paths.push_back(t);
        listed.push_back(fmt::format("{} ({:04o})", t, static_cast<unsigned>(st->st_mode & 07777)));
    }
    if (n.paths.empty()) return std::nullopt;
    n.message = "under the template" + std::string(listed.size() == 1 ? " " : "s ") + joined(listed) +
                " any user can stat another user's instance: whether it exists, its link count (its "
                "subdirectories), on tmpfs its size (its entries) and its times (activity); mode 0711 "
                "hides the listing but not a stat of a guessable name, 0000 hides both";
    n.hint = "if that matters here: chmod 0000 TEMPLATE (and its line in " + std::string(setup_tmpfiles_file) +
             "; `polyns setup --template-mode 0000` makes new ones so); see polyns-namespace.conf(5)";
    return n;
}

// "2 rules, 2 warnings, 0 errors in /etc/security/namespace.conf"
std::string summary_line(const Config& config, const LoadOptions& load) {
    // Files (and drop-in directories) that exist but were refused (untrusted,
    // unreadable): they are not "no files", and the module refuses them too.
    std::vector<std::string> refused;
    for (const auto& d : config.diagnostics)
        if (d.severity == Severity::Error && d.loc.line == 0) refused.push_back(d.loc.file);
    std::string where;
    if (!config.files.empty() || !refused.empty()) {
        where = joined(config.files);
        if (!refused.empty())
            where += std::string(where.empty() ? "" : "; ") + "refused: " + joined(refused) +
                     " (pam_polyns.so refuses it too: every session fails)";
    } else if (load.only_file) {
        where = "no files (" + *load.only_file + " was not read)";
    } else {
        // Not an error: without any namespace.conf the module has nothing to do.
        where = fmt::format("no files (no namespace.conf in {} or {})", load.security_dir,
                            load.vendor_dir);
    }
    return fmt::format("{}, {}, {} in {}", counted(config.rules.size(), "rule", "rules"),
                       counted(config.warning_count(), "warning", "warnings"),
                       counted(config.error_count(), "error", "errors"), where);
}

std::string_view severity_name(Severity s) {
    return s == Severity::Error ? "error" : "warning";
}

std::string_view selector_kind_name(UserSelector::Kind k) {
    switch (k) {
        case UserSelector::Kind::Name: return "name";
        case UserSelector::Kind::Group: return "group";
        case UserSelector::Kind::UidRange: return "uid_range";
    }
    return "unknown";
}

template <typename T>
Json optional_json(const std::optional<T>& value) {
    return value ? Json(*value) : Json(nullptr);
}

Json location_json(const SourceLoc& loc) {
    return {{"file", loc.file}, {"line", loc.line}, {"column", loc.col}};
}

Json create_json(const std::optional<CreateFlag>& create) {
    if (!create) {
        return nullptr;
    }
    // Modes as octal text ("0755"): that is how admins write and read them.
    Json mode = create->mode ? Json(fmt::format("{:04o}", *create->mode))
                                       : Json(nullptr);
    return {{"mode", mode}, {"owner", optional_json(create->owner)},
            {"group", optional_json(create->group)}};
}

Json users_json(const std::vector<UserSelector>& users) {
    Json out = Json::array();
    for (const auto& user : users) {
        Json entry = {{"kind", selector_kind_name(user.kind)}};
        if (user.kind == UserSelector::Kind::UidRange) {
            entry["first"] = user.first;
            entry["last"] = user.last;
        } else {
            entry["name"] = user.name;
        }
        out.push_back(std::move(entry));
    }
    return out;
}

Json rule_json(const Rule& rule) {
    return {
        {"location", location_json(rule.loc)},
        {"polydir", rule.polydir},
        {"instance_prefix", rule.instance_prefix},
        {"method", method_name(rule.method)},
        {"create", create_json(rule.create)},
        {"iscript", optional_json(rule.iscript)},
        {"noinit", rule.noinit},
        {"shared", rule.shared},
        {"mntopts", optional_json(rule.mntopts)},
        {"only_listed_users", rule.only_listed_users},
        {"users", users_json(rule.users)},
    };
}

Json diagnostic_json(const Diagnostic& d) {
    return {
        {"severity", severity_name(d.severity)},
        {"location", location_json(d.loc)},
        {"message", d.message},
        {"text", d.text},
        {"hint", d.hint},
    };
}

void print_json(const Config& config, const LoadOptions& load, const std::optional<Notice>& notice,
                int exit_status) {
    Json doc;
    doc["polyns_version"] = POLYNS_VERSION;
    doc["files"] = config.files;
    doc["rules"] = Json::array();
    for (const auto& rule : config.rules) {
        doc["rules"].push_back(rule_json(rule));
    }
    doc["diagnostics"] = Json::array();
    for (const auto& d : config.diagnostics) {
        doc["diagnostics"].push_back(diagnostic_json(d));
    }
    doc["notices"] = Json::array();
    if (notice)
        doc["notices"].push_back({{"message", notice->message}, {"hint", notice->hint}, {"paths", notice->paths}});
    doc["summary"] = {
        {"rules", config.rules.size()},
        {"warnings", config.warning_count()},
        {"errors", config.error_count()},
        {"text", summary_line(config, load)},
    };
    doc["exit_status"] = exit_status;
    // Config files may hold any bytes; invalid UTF-8 becomes U+FFFD instead of
    // an exception, so --json always produces a document.
    std::string text = doc.dump(2, ' ', false, Json::error_handler_t::replace);
    std::fputs(text.c_str(), stdout);
    std::fputc('\n', stdout);
}

void print_text(const Config& config, const LoadOptions& load, const std::optional<Notice>& notice) {
    for (const auto& d : config.diagnostics) {
        std::string line = format_diagnostic(d);
        std::fputs(line.c_str(), stdout);
        std::fputc('\n', stdout);
    }
    if (notice) {
        std::string line = "notice: " + notice->message + " [hint: " + notice->hint + "]";
        std::fputs(line.c_str(), stdout);
        std::fputc('\n', stdout);
    }
    std::string summary = summary_line(config, load);
    std::fputs(summary.c_str(), stdout);
    std::fputc('\n', stdout);
}

int run_check(const CheckRequest& request) {
    LoadOptions load = default_load_options();
    if (!request.config_file.empty()) {
        load.only_file = request.config_file;
    }
    if (request.skip_trust_check) {
        load.check_trust = false;
    }

    const Config config = load_config(load);
    const int exit_status = exit_status_for(config, request.strict);
    const std::optional<Notice> notice = template_metadata_notice(config, load);
    if (request.json) {
        print_json(config, load, notice, exit_status);
    } else {
        print_text(config, load, notice);
    }
    std::fflush(stdout);
    return exit_status;
}

}  // namespace

void register_check(CLI::App& app, int& exit_status) {
    // Owned by the subcommand's callback: CLI11 keeps the App alive for the
    // whole run, and the options below write into this object while parsing.
    auto request = std::make_shared<CheckRequest>();

    CLI::App* check = app.add_subcommand(
        "check", "Load the namespace configuration as pam_polyns.so would and report problems");
    check->add_option("--config", request->config_file,
                      "Check only this file (no vendor fallback, no namespace.d drop-ins)")
        ->type_name("FILE");
    check->add_flag("--strict", request->strict, "Exit with status 1 when there are warnings");
    check->add_flag("--json", request->json, "Print rules and diagnostics as JSON");
    check->add_flag("--skip-trust-check", request->skip_trust_check,
                    "Do not require files to be root-owned and not group/other-writable "
                    "(for drafts; pam_polyns.so always checks)");
    check->callback([request, &exit_status] { exit_status = run_check(*request); });
}

}  // namespace polyns::cli
