// The polyns subcommands. Each one lives in its own <name>_command.cpp and is
// added to the application by a register_<name>() function, so a new
// subcommand is one new file plus one line in main.cpp and src/cli/meson.build.
#pragma once

namespace CLI {
class App;
}

namespace polyns::cli {

// Exit statuses shared by every subcommand (documented in polyns(8)).
inline constexpr int exit_ok = 0;
inline constexpr int exit_warnings = 1;  // only warnings, and the caller asked for --strict
inline constexpr int exit_errors = 2;    // the configuration has errors / the command failed
inline constexpr int exit_usage = 64;    // bad command line (EX_USAGE)
inline constexpr int exit_internal = 70; // unexpected failure inside polyns (EX_SOFTWARE)

// Adds the subcommand to `app`. When it runs, its exit status is stored in
// `exit_status`; main() returns that value.
void register_check(CLI::App& app, int& exit_status);
void register_plan(CLI::App& app, int& exit_status);

}  // namespace polyns::cli
