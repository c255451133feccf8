// `polyns setup`: makes the host match the configuration, idempotently, and
// prints each change it makes (or, with --dry-run, would make): templates,
// their tmpfiles.d entries, SELinux labels, and the step that enables the
// module through the distribution's own tool.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "host_files.hpp"
#include "output.hpp"
#include "polyns/pam_service.hpp"
#include "polyns/sys/admin_ops.hpp"
#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/path.hpp"
#include "polyns/sys/trusted_file.hpp"
#include "world.hpp"

namespace polyns::cli {
namespace {

using Json = nlohmann::ordered_json;

struct SetupRequest {
    std::string config_file;
    std::string template_mode = "0755";
    std::string pam_dir = "/etc/pam.d";
    bool dry_run = false;
    bool json = false;
    bool enable_pam = false;
};

// One line of the report: what was (or would be) done, or why not.
struct Item {
    std::string what;    // "template", "tmpfiles", "selinux", "pam"
    std::string target;  // path or name
    std::string state;   // "ok" (nothing to do), "change" (made / would make), "refused", "failed", "manual"
    std::string text;
    std::string fix;
};

std::optional<mode_t> parse_mode(const std::string& text) {
    if (text.empty() || text.size() > 4) return std::nullopt;
    unsigned v = 0;
    for (char c : text) {
        if (c < '0' || c > '7') return std::nullopt;
        v = v * 8 + static_cast<unsigned>(c - '0');
    }
    return static_cast<mode_t>(v);
}

Item setup_template(const std::string& path, mode_t mode, bool dry_run) {
    Item item{"template", path, "ok", "", ""};
    auto fd = sys::open_path(path, O_PATH | O_DIRECTORY, "open template");
    if (!fd) {
        const Error& e = fd.error();
        if (e.err != ENOENT) {
            item.state = "refused";
            item.text = e.message();
            item.fix = "look at " + path + " (ls -ld): a template must be a real directory of root's; remove what is "
                       "there if it is not, then run polyns setup again";
            return item;
        }
        item.state = "change";
        item.text = fmt::format("create {} root:root mode {}", path, octal(mode));
        if (dry_run) return item;
        if (auto r = sys::create_template_dir(path, mode); !r) {
            item.state = "failed";
            item.text = r.error().message();
            item.fix = "create the parent directory of " + path + " first";
        }
        return item;
    }
    auto st = sys::stat_fd(fd->get(), "stat template", path);
    if (!st) {
        item.state = "failed";
        item.text = st.error().message();
        return item;
    }
    if (st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        // Someone else's or open to others: what it holds may be planted. Not
        // "fixed" by a chown/chmod that would adopt it.
        item.state = "refused";
        item.text = fmt::format("{} is uid {} gid {} mode {}: a template must be root's and not writable by group "
                                "or other; not touching it",
                                path, st->st_uid, st->st_gid, octal(st->st_mode));
        item.fix = fmt::format("check who made {} and what is in it (ls -la {}); if nothing there is needed, remove "
                               "it (rm -rf {}) and run polyns setup again",
                               path, path, path);
        return item;
    }
    item.text = fmt::format("{} exists, root:{} mode {}", path, st->st_gid, octal(st->st_mode));
    if ((st->st_mode & 07777) != mode) item.text += fmt::format(" (kept; setup would create it {})", octal(mode));
    return item;
}

Item setup_tmpfiles(const std::vector<std::pair<std::string, std::string>>& templates, bool dry_run) {
    Item item{"tmpfiles", setup_tmpfiles_file, "ok", "", ""};
    const auto lines = read_tmpfiles();
    // Templates already created and excluded by another file (a package's) need nothing.
    std::vector<std::pair<std::string, std::string>> ours;
    for (const auto& t : templates) {
        auto covered = tmpfiles_for(lines, t.first);
        const bool by_us = covered.create && covered.create->file == setup_tmpfiles_file;
        if (!covered.ok() || by_us) ours.push_back(t);
    }
    auto current = sys::read_trusted_file(setup_tmpfiles_file, false);
    const std::string want = ours.empty() ? std::string() : tmpfiles_text(ours);
    if (ours.empty()) {
        item.text = "every template is created at boot and excluded from ageing";
        if (current) item.text += " (" + std::string(setup_tmpfiles_file) + " is not needed)";
        return item;
    }
    if (current && *current == want) {
        item.text = std::string(setup_tmpfiles_file) + " is up to date";
        return item;
    }
    item.state = "change";
    std::string names;
    for (const auto& t : ours) names += (names.empty() ? "" : ", ") + t.first;
    item.text = fmt::format("{} {}: create at boot and never age {}", current ? "rewrite" : "write",
                            setup_tmpfiles_file, names);
    if (dry_run) return item;
    if (auto r = sys::write_root_file(setup_tmpfiles_file, want); !r) {
        item.state = "failed";
        item.text = r.error().message();
        item.fix = "mkdir -p /etc/tmpfiles.d";
    }
    return item;
}

std::vector<Item> setup_selinux(const std::vector<std::pair<std::string, std::string>>& templates, bool dry_run) {
    std::vector<Item> out;
    if (!sys::selinux_is_enabled()) {
        out.push_back({"selinux", "", "ok", "SELinux is not enabled: no labels to restore", ""});
        return out;
    }
    for (const auto& t : templates) {
        Item item{"selinux", t.first, "change", "restore the label of " + t.first + " (restorecon)", ""};
        if (!dry_run) {
            if (auto r = sys::restore_label(t.first); !r) {
                item.state = "failed";
                item.text = r.error().message();
            } else {
                item.text = "label of " + t.first + ": " + sys::file_label(t.first);
            }
        }
        out.push_back(std::move(item));
    }
    auto boolean = sys::polyinstantiation_boolean();
    if (!boolean) {
        out.push_back({"selinux", "polyinstantiation_enabled", "ok", "the policy has no polyinstantiation boolean", ""});
    } else if (boolean->on) {
        out.push_back({"selinux", boolean->name, "ok", boolean->name + " is on", ""});
    } else {
        out.push_back({"selinux", boolean->name, "manual",
                       boolean->name + " is off: the policy denies the mounts and only root can log in",
                       "setsebool -P " + boolean->name + " on"});
    }
    return out;
}

bool stack_has_polyns(const std::string& pam_dir, const std::string& service) {
    auto stack = read_session_stack(pam_dir, service);
    return std::any_of(stack.session.begin(), stack.session.end(),
                       [](const PamModuleUse& u) { return is_polyns_module(u.module); });
}

Item setup_pam(const SetupRequest& request) {
    Item item{"pam", "", "manual", "", ""};
    const auto ids = sys::os_release_ids();
    auto is = [&](const char* id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
    const bool debian = is("debian") || is("ubuntu");
    const bool redhat = is("rhel") || is("fedora") || is("centos");
    const std::string probe = debian ? "common-session" : redhat ? "system-auth" : "login";
    if (stack_has_polyns(request.pam_dir, probe)) {
        item.state = "ok";
        item.target = request.pam_dir + "/" + probe;
        item.text = "the session stack " + item.target + " runs pam_polyns.so";
        return item;
    }
    std::vector<std::string> argv;
    if (debian) {
        item.target = "pam-auth-update";
        item.fix = "pam-auth-update --enable polyns";
        argv = {"/usr/sbin/pam-auth-update", "--enable", "polyns"};
    } else if (redhat) {
        item.target = "authselect";
        item.fix = "authselect enable-feature with-polyns (with the custom profile of the package's "
                   "README.authselect.md selected: authselect select custom/polyns with-polyns)";
        argv = {"/usr/bin/authselect", "enable-feature", "with-polyns"};
    } else {
        item.target = "pam";
        item.fix = "add `session required pam_polyns.so` to the session stack of each login service "
                   "(after pam_selinux.so open, before pam_systemd.so)";
        item.text = "unknown distribution: the module is enabled by hand";
        return item;
    }
    item.text = "the module is not in the session stack (" + request.pam_dir + "/" + probe + ")";
    if (!request.enable_pam) return item;
    item.state = "change";
    item.text = "enable the module: " + item.fix;
    if (request.dry_run) return item;
    auto rc = sys::run_program(argv);
    if (!rc || *rc != 0) {
        item.state = "failed";
        item.text = rc ? fmt::format("{} exited with status {}", argv[0], *rc) : rc.error().message();
    } else {
        item.text = "enabled the module: " + item.fix;
    }
    return item;
}

int run_setup(const SetupRequest& request) {
    auto mode = parse_mode(request.template_mode);
    if (!mode || (*mode & (S_IWGRP | S_IWOTH)) != 0 || (*mode & ~0755) != 0) {
        std::fprintf(stderr, "polyns setup: --template-mode %s: a template is created root's and not writable by "
                             "group or other (0755, 0711, 0700 or 0000)\n", request.template_mode.c_str());
        return exit_usage;
    }
    World w = load_world({request.config_file, false, false});
    std::vector<Item> items;
    if (w.config.has_errors()) {
        items.push_back({"config", "", "refused",
                         fmt::format("the configuration has {} error(s): setup follows it only once it is correct",
                                     w.config.error_count()),
                         "polyns check"});
    } else {
        std::vector<std::pair<std::string, std::string>> templates;
        for (const auto& t : shared_templates(w)) {
            items.push_back(setup_template(t, *mode, request.dry_run));
            templates.emplace_back(t, octal(*mode));
        }
        if (templates.empty())
            items.push_back({"template", "", "ok", "the configuration names no template for any user", ""});
        else
            items.push_back(setup_tmpfiles(templates, request.dry_run));
        for (auto& i : setup_selinux(templates, request.dry_run)) items.push_back(std::move(i));
        items.push_back(setup_pam(request));
    }
    bool refused = false, changes = false;
    for (const auto& i : items) {
        if (i.state == "refused" || i.state == "failed") refused = true;
        if (i.state == "change") changes = true;
    }
    const int status = refused ? exit_errors : (request.dry_run && changes) ? exit_warnings : exit_ok;

    if (request.json) {
        Json doc;
        doc["schema"] = "polyns-setup";
        doc["schema_version"] = 1;
        doc["polyns_version"] = polyns_version();
        doc["dry_run"] = request.dry_run;
        doc["items"] = Json::array();
        for (const auto& i : items)
            doc["items"].push_back({{"what", i.what}, {"target", i.target}, {"state", i.state}, {"text", i.text},
                                    {"fix", i.fix.empty() ? Json(nullptr) : Json(i.fix)}});
        doc["changes"] = changes;
        doc["exit_status"] = status;
        print_json(doc);
        return status;
    }
    for (const auto& i : items) {
        const char* tag = i.state == "ok"        ? "ok      "
                          : i.state == "change"  ? (request.dry_run ? "would   " : "done    ")
                          : i.state == "manual"  ? "todo    "
                          : i.state == "refused" ? "REFUSED "
                                                 : "FAILED  ";
        put(std::string(tag) + i.text + (i.fix.empty() ? "" : " (fix: " + i.fix + ")"));
    }
    put(changes ? (request.dry_run ? "changes pending: run polyns setup without --dry-run" : "changes made")
                : "nothing to do");
    return status;
}

}  // namespace

void register_setup(CLI::App& app, int& exit_status) {
    auto request = std::make_shared<SetupRequest>();
    CLI::App* cmd = app.add_subcommand(
        "setup", "Create the templates, their tmpfiles.d entries and labels the configuration needs");
    cmd->add_flag("--dry-run", request->dry_run, "Print the changes without making them");
    cmd->add_flag("--json", request->json, "Print as JSON (schema polyns-setup, version 1)");
    cmd->add_option("--template-mode", request->template_mode, "Mode of templates created (default 0755; 0711, 0000)")
        ->type_name("MODE");
    cmd->add_flag("--enable-pam", request->enable_pam,
                  "Enable the module through the distribution's tool (pam-auth-update, authselect)");
    cmd->add_option("--config", request->config_file, "Use only this configuration file")->type_name("FILE");
    cmd->add_option("--pam-dir", request->pam_dir, "Directory of PAM service files (default /etc/pam.d)")
        ->type_name("DIR");
    cmd->callback([request, &exit_status] { exit_status = run_setup(*request); });
}

}  // namespace polyns::cli
