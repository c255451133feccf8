// polyns: the administrator's tool around pam_polyns.so. This file only sets
// up the application and dispatches to the subcommands (commands.hpp).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "polyns_build_config.h"

namespace {
bool is_subcommand(const CLI::App& app, const std::string& word) {
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        if (sub->check_name(word)) return true;
    return false;
}
}  // namespace

int main(int argc, char** argv) {
    using namespace polyns::cli;

    CLI::App app{"polyns: set up, check, inspect and clean per-user /tmp namespaces of pam_polyns.so",
                 "polyns"};
    app.set_version_flag("--version", "polyns " POLYNS_VERSION);
    app.require_subcommand(1);
    app.footer("See polyns(8), pam_polyns(8) and polyns-namespace.conf(5).\n");

    int exit_status = exit_ok;
    register_check(app, exit_status);
    register_plan(app, exit_status);
    register_status(app, exit_status);
    register_setup(app, exit_status);
    register_audit(app, exit_status);
    register_gc(app, exit_status);

    if (argc <= 1) {
        std::fputs(app.help().c_str(), stderr);
        return exit_usage;
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // Usage errors get one status of their own, whatever CLI11 calls them,
        // so scripts can tell "bad command line" from "bad configuration".
        // CLI11 says "A subcommand is required" for a word it does not know:
        // say what happened instead.
        if (argc > 1 && argv[1][0] != '-' && !is_subcommand(app, argv[1])) {
            std::fprintf(stderr, "polyns: unknown subcommand '%s' (known: check, plan, status, setup, audit, gc; see polyns --help)\n",
                         argv[1]);
            return exit_usage;
        }
        app.exit(e);
        // audit follows the convention of compliance checks: 2 is a usage error.
        if (app.got_subcommand("audit")) return exit_errors;
        return exit_usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "polyns: internal error: %s\n", e.what());
        return exit_internal;
    }
    return exit_status;
}
