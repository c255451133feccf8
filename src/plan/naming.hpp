// Instance names as Linux-PAM 1.5.2's pam_namespace makes them, so instance
// directories created by it keep working after a switch to polyns.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "polyns/plan.hpp"
#include "polyns/result.hpp"

namespace polyns::planner {

// pam_namespace.h: NAMESPACE_MAX_DIR_LEN. A longer differentiation string is
// cut and suffixed with its md5.
inline constexpr std::size_t kNamespaceMaxDirLen = 80;
// Longest directory entry name (NAME_MAX on Linux).
inline constexpr std::size_t kMaxNameLen = 255;

// Lowercase hex MD5 of `text` (libmd's MD5Data).
std::string md5_hex(std::string_view text);

// Linux-PAM's poly_name() after the differentiation string is known:
//   gen_hash            -> md5_hex(s)
//   strlen(s) > 80      -> first (80 - 1 - 32) chars of s + "_" + md5_hex(s)
//   otherwise           -> s
std::string hashed_differentiation(std::string_view differentiation, bool gen_hash);

struct InstanceLocation {
    InstanceKind kind = InstanceKind::Named;
    std::string template_dir;   // normalised parent of the instance
    std::string instance_name;  // one component (Named) or name prefix (Unique)
    std::string instance;       // template_dir + "/" + instance_name (Named only)
    bool hashed = false;        // the name was replaced or shortened by md5
};

// Where a Named instance lives. `prefix` is the expanded instance prefix;
// `names_instance` says the prefix is the instance path itself (polyns's
// explicit form, see Expansion::names_instance); otherwise Linux-PAM's rule:
// instance = prefix + hashed_differentiation(user, gen_hash).
Result<InstanceLocation> locate_named_instance(const std::string& prefix, bool names_instance,
                                               const std::string& differentiation,
                                               bool gen_hash);

// tmpdir: Linux-PAM runs mkdtemp(prefix + "XXXXXX"), so the template is the
// prefix's directory and the prefix's last component (maybe empty) is the
// name prefix.
Result<InstanceLocation> locate_unique_instance(const std::string& prefix);

}  // namespace polyns::planner
