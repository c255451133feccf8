// What `polyns setup` and `polyns gc` change on the host, by fd, and the few
// host facts they read (SELinux state, the distribution).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "polyns/result.hpp"

namespace polyns::sys {

// mkdirat in the existing parent (opened by fd, no symlinks), made root-owned
// with mode 0 and then given `mode`: never reachable by others before it is final.
Result<void> create_template_dir(const std::string& path, mode_t mode);

// Writes `text` to `path` (parent by fd, temporary file + rename): mode 0644 root.
Result<void> write_root_file(const std::string& path, const std::string& text);

// Runs argv[0] (an absolute path) with argv, stdin on /dev/null, waits; its
// output goes to ours. Returns the exit status (128+signal when killed).
Result<int> run_program(const std::vector<std::string>& argv);

// One line to syslog (facility authpriv, ident "polyns").
void syslog_line(int priority, const std::string& line);

// SELinux, through sys/selinux.hpp: enabled; the policy's polyinstantiation
// boolean ("polyinstantiation_enabled" or Debian's "allow_polyinstantiation")
// and whether it is on (nullopt: SELinux off or no such boolean);
// restore_label gives a directory file_contexts' label, by fd (restorecon);
// file_label is a path's label, empty without SELinux.
bool selinux_is_enabled();
struct SelinuxBoolean {
    std::string name;
    bool on = false;
};
std::optional<SelinuxBoolean> polyinstantiation_boolean();
Result<void> restore_label(const std::string& path);
std::string file_label(const std::string& path);

// ID and ID_LIKE of /etc/os-release (lower case words).
std::vector<std::string> os_release_ids();

}  // namespace polyns::sys
