// Host configuration that setup and audit read as text: tmpfiles.d entries
// and PAM service stacks (parsed, never matched with regular expressions).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace polyns::cli {

// --- tmpfiles.d ---------------------------------------------------------------
struct TmpfilesLine {
    char type = 0;       // 'd', 'D', 'x', 'X', 'q', ...
    std::string path;
    std::string mode, user, group, age;
    std::string file;    // where it was read
    unsigned line = 0;
};
// The effective tmpfiles.d lines (/etc over /run over /usr/local/lib over
// /usr/lib, a file name in an earlier directory hiding the later ones).
std::vector<TmpfilesLine> read_tmpfiles(const std::string& root_prefix = "");

struct TemplateTmpfiles {
    std::optional<TmpfilesLine> create;   // a d/D/v/q/Q line for the path
    std::optional<TmpfilesLine> exclude;  // an x line for it (or a parent)
    bool ok() const;                      // created root root, never aged, excluded
    std::string problem() const;          // empty when ok
};
TemplateTmpfiles tmpfiles_for(const std::vector<TmpfilesLine>& lines, const std::string& template_dir);

// The file polyns setup writes, and its text for these templates and modes.
inline constexpr const char* setup_tmpfiles_file = "/etc/tmpfiles.d/polyns-templates.conf";
std::string tmpfiles_text(const std::vector<std::pair<std::string, std::string>>& templates_and_modes);

// --- PAM stacks -----------------------------------------------------------------
struct PamModuleUse {
    std::string module;   // as written
    std::string file;     // file and line it is on
    unsigned line = 0;
    std::string control;
    std::vector<std::string> args;
    bool optional_dash = false;  // "-session": skipped silently when missing
};
struct PamStack {
    std::string service;
    bool exists = false;
    std::vector<PamModuleUse> session;  // session lines in libpam's order, includes followed
    std::vector<std::string> problems;  // unreadable include, loop
};
PamStack read_session_stack(const std::string& pam_dir, const std::string& service);
bool is_module(const PamModuleUse& use, const std::string& name);  // "pam_selinux" matches pam_selinux.so

}  // namespace polyns::cli
