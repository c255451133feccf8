// Reading a /etc/pam.d/SERVICE file's text (pure string work): so `polyns plan
// --service S` uses exactly the arguments the module will be given.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace polyns {

struct PamServiceEntry {
    enum class Kind {
        Module,   // TYPE CONTROL MODULE ARGS...
        Include,  // TYPE include|substack SERVICE: `target` holds SERVICE
        AtInclude // Debian's "@include FILE": every type of FILE, `target` holds FILE
    };
    Kind kind = Kind::Module;
    std::string type;     // "session", "auth" ... (a leading '-' removed); empty for AtInclude
    std::string control;  // "required", "[success=ok default=bad]" ...
    std::string module;   // as written ("pam_polyns.so" or an absolute path)
    std::vector<std::string> args;  // "[a b]" arguments unbracketed, "\]" unescaped
    std::string target;   // Include / AtInclude
    unsigned line = 0;    // 1-based line where the entry starts
};

// Comments, blank lines and backslash-newline continuations are handled;
// lines that are not understood are left out.
std::vector<PamServiceEntry> parse_pam_service(std::string_view text);

// True when `module` (a name or a path) is the polyns module.
bool is_polyns_module(std::string_view module);

// True for a session line of pam_selinux.so that opens (`open`, or neither
// `open` nor `close`: it then does both). With SELinux, such a line must come
// before pam_polyns.so: level/context instances need the exec context it sets.
bool is_pam_selinux_open(const PamServiceEntry& entry);

}  // namespace polyns
