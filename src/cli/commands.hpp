// The polyns subcommands. Each one lives in its own <name>_command.cpp and is
// added to the application by a register_<name>() function, so a new
// subcommand is one new file plus one line in main.cpp and src/cli/meson.build.
#pragma once

namespace CLI {
class App;
}

namespace polyns::cli {

// Exit statuses shared by every subcommand (documented in polyns(8)).
// Per subcommand, status 1 and 2 say (polyns(8), EXIT STATUS):
//   check: 1 warnings with --strict, 2 errors;  plan: 2 the session would fail;
//   status: 1 processes of covered users run outside a session namespace, 2 unknown user;
//   setup: 1 changes pending (--dry-run), 2 a template or file refused, a step failed;
//   audit: 1 a check failed, 2 bad command line (as OpenSCAP-style checks expect);
//   gc: 1 an instance could not be removed, 2 the configuration has errors.
inline constexpr int exit_ok = 0;
inline constexpr int exit_warnings = 1;  // see above
inline constexpr int exit_errors = 2;    // the configuration has errors / the command failed
inline constexpr int exit_usage = 64;    // bad command line (EX_USAGE)
inline constexpr int exit_internal = 70; // unexpected failure inside polyns (EX_SOFTWARE)

// Adds the subcommand to `app`. When it runs, its exit status is stored in
// `exit_status`; main() returns that value.
void register_check(CLI::App& app, int& exit_status);
void register_plan(CLI::App& app, int& exit_status);
void register_status(CLI::App& app, int& exit_status);
void register_setup(CLI::App& app, int& exit_status);
void register_audit(CLI::App& app, int& exit_status);
void register_gc(CLI::App& app, int& exit_status);

}  // namespace polyns::cli
