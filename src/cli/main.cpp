// polyns: the administrator's tool around pam_polyns.so. This file only sets
// up the application and dispatches to the subcommands (commands.hpp).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "polyns_build_config.h"

int main(int argc, char** argv) {
    using namespace polyns::cli;

    CLI::App app{"polyns: check and inspect per-user /tmp namespaces set up by pam_polyns.so",
                 "polyns"};
    app.set_version_flag("--version", "polyns " POLYNS_VERSION);
    app.require_subcommand(1);
    app.footer("See polyns(8), pam_polyns(8) and polyns-namespace.conf(5).\n");

    int exit_status = exit_ok;
    register_check(app, exit_status);
    register_plan(app, exit_status);

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
        app.exit(e);
        return exit_usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "polyns: internal error: %s\n", e.what());
        return exit_internal;
    }
    return exit_status;
}
