#include "naming.hpp"

#include <md5.h>

#include <cstdint>

#include "expand.hpp"

namespace polyns::planner {
namespace {

constexpr std::size_t kMd5HexLen = 2 * MD5_DIGEST_LENGTH;

// The instance path must stay a path to a single new directory entry.
Result<InstanceLocation> split_instance_path(const std::string& raw_path, InstanceKind kind,
                                             bool hashed) {
    auto normal = normalize_path(raw_path, "instance path");
    if (!normal) return normal.error();
    const std::string& path = normal.value();
    if (path == "/") {
        return make_error("use instance path", raw_path, "", 0,
                          "the instance path cannot be '/'",
                          "put instances under a root-owned template directory, e.g. "
                          "/tmp/user_tmpl/%{UID}");
    }
    InstanceLocation loc;
    loc.kind = kind;
    loc.template_dir = parent_dir(path);
    loc.instance_name = base_name(path);
    loc.instance = path;
    loc.hashed = hashed;
    if (loc.instance_name.size() > kMaxNameLen) {
        return make_error("use instance path", path, "", 0,
                          "the instance name '" + loc.instance_name + "' is longer than " +
                              std::to_string(kMaxNameLen) + " bytes",
                          "shorten the instance prefix's last component, or name instances "
                          "by %{UID}");
    }
    return loc;
}

}  // namespace

std::string md5_hex(std::string_view text) {
    char hex[MD5_DIGEST_STRING_LENGTH];
    MD5Data(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), hex);
    return std::string(hex, kMd5HexLen);
}

std::string hashed_differentiation(std::string_view differentiation, bool gen_hash) {
    if (gen_hash) return md5_hex(differentiation);
    if (differentiation.size() <= kNamespaceMaxDirLen) return std::string(differentiation);
    // "%.*s_%s" with precision NAMESPACE_MAX_DIR_LEN - 1 - strlen(hash).
    const std::size_t keep = kNamespaceMaxDirLen - 1 - kMd5HexLen;
    return std::string(differentiation.substr(0, keep)) + "_" + md5_hex(differentiation);
}

Result<InstanceLocation> locate_named_instance(const std::string& prefix, bool names_instance,
                                               const std::string& differentiation,
                                               bool gen_hash) {
    if (names_instance) return split_instance_path(prefix, InstanceKind::Named, false);
    const std::string name = hashed_differentiation(differentiation, gen_hash);
    // A '/' would move the instance out of its template ("a/b") or onto
    // another user's instance ("alice/" is alice's, "/etc" is user etc's).
    // "." and ".." are refused by normalize_path below.
    if (name.find('/') != std::string::npos) {
        return make_error("name instance", prefix + name, "", 0,
                          "the user name '" + std::string(differentiation) +
                              "' contains '/' and cannot name an instance directory",
                          "rename the user, or add the gen_hash module option (instances named by "
                          "the name's MD5)");
    }
    return split_instance_path(prefix + name, InstanceKind::Named, name != differentiation);
}

Result<InstanceLocation> locate_unique_instance(const std::string& prefix) {
    // Appending the mkdtemp suffix before splitting keeps "/x/" (name prefix "")
    // apart from "/x" (template "/", name prefix "x"), as Linux-PAM does.
    auto loc = split_instance_path(prefix + "XXXXXX", InstanceKind::Unique, false);
    if (!loc) return loc.error();
    InstanceLocation& l = loc.value();
    l.instance_name.resize(l.instance_name.size() - 6);
    l.instance.clear();
    return loc;
}

}  // namespace polyns::planner
