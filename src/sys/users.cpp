#include "polyns/sys/users.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <vector>

#include "polyns/sys/credentials.hpp"

namespace polyns::sys {
namespace {

std::size_t initial_buffer_size(int which) {
    long n = ::sysconf(which);
    return n > 0 ? static_cast<std::size_t>(n) : 16384;
}

// The *_r functions answer ERANGE when the buffer is short: grow it and retry,
// up to a bound (a corrupt NSS source must not make us allocate forever).
constexpr std::size_t max_buffer_size = 1u << 24;

std::optional<unsigned long> all_digits(const std::string& s) {
    if (s.empty() || s.size() > 10 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    unsigned long v = std::stoul(s);
    if (v >= std::numeric_limits<uid_t>::max()) return std::nullopt;  // (uid_t)-1 is "no id"
    return v;
}

// One loop for every NSS *_r lookup (getpwnam_r, getgrnam_r, getgrgid_r):
// returns its error code; `found` is null when there is no such entry. The
// entry's strings point into `buf`, which must outlive it.
template <typename Key, typename Entry, typename Lookup>
int nss_lookup(Lookup lookup, Key key, Entry& entry, Entry*& found, std::vector<char>& buf, int size_hint) {
    buf.resize(initial_buffer_size(size_hint));
    for (;;) {
        found = nullptr;
        int rc = lookup(key, &entry, buf.data(), buf.size(), &found);
        if (rc == ERANGE && buf.size() < max_buffer_size) {
            buf.resize(buf.size() * 2);
            continue;
        }
        return rc;
    }
}

Result<std::optional<struct group>> find_group_by_gid(gid_t gid, std::vector<char>& buf) {
    struct group gr {};
    struct group* found = nullptr;
    int rc = nss_lookup(::getgrgid_r, gid, gr, found, buf, _SC_GETGR_R_SIZE_MAX);
    if (rc != 0) return make_error("look up group", std::to_string(gid), "getgrgid_r", rc);
    if (found == nullptr) return std::optional<struct group>();
    return std::optional<struct group>(gr);
}

// The passwd entry of `user`, or nothing (no such user, or NSS failed).
std::optional<struct passwd> find_passwd(const std::string& user, std::vector<char>& buf) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    int rc = nss_lookup(::getpwnam_r, user.c_str(), pw, found, buf, _SC_GETPW_R_SIZE_MAX);
    if (rc != 0 || found == nullptr) return std::nullopt;
    return pw;
}

// Every group id `user` is in, `gid` (the primary group) included.
Result<std::vector<gid_t>> group_ids(const std::string& user, gid_t gid) {
    std::vector<gid_t> gids(32);
    for (;;) {
        int count = static_cast<int>(gids.size());
        if (::getgrouplist(user.c_str(), gid, gids.data(), &count) >= 0) {
            gids.resize(static_cast<std::size_t>(count));
            return gids;
        }
        if (static_cast<std::size_t>(count) <= gids.size()) gids.resize(gids.size() * 2);
        else gids.resize(static_cast<std::size_t>(count));
        if (gids.size() > 65536) return make_error("look up groups of", user, "getgrouplist", E2BIG);
    }
}

}  // namespace

Result<Credentials> credentials_of_uid(uid_t uid, gid_t fallback_gid) {
    Credentials who;
    who.uid = uid;
    who.gid = fallback_gid;
    std::vector<char> buf;
    struct passwd pw {};
    struct passwd* found = nullptr;
    if (int rc = nss_lookup(::getpwuid_r, uid, pw, found, buf, _SC_GETPW_R_SIZE_MAX); rc != 0)
        return make_error("look up user", std::to_string(uid), "getpwuid_r", rc);
    if (found == nullptr) {
        who.groups = {fallback_gid};
        return who;
    }
    who.gid = pw.pw_gid;
    auto gids = group_ids(pw.pw_name, pw.pw_gid);
    if (!gids) return gids.error();
    who.groups = std::move(*gids);
    return who;
}

Result<Identity> lookup_identity(const std::string& user, GroupNames groups) {
    std::vector<char> buf;
    struct passwd pw {};
    struct passwd* found = nullptr;
    if (int rc = nss_lookup(::getpwnam_r, user.c_str(), pw, found, buf, _SC_GETPW_R_SIZE_MAX); rc != 0)
        return make_error("look up user", user, "getpwnam_r", rc);
    if (found == nullptr) return make_error("look up user", user, "getpwnam_r", ENOENT, "no such user");
    Identity id;
    id.user = pw.pw_name;
    id.uid = pw.pw_uid;
    id.gid = pw.pw_gid;
    id.home = pw.pw_dir != nullptr ? pw.pw_dir : "";
    if (groups == GroupNames::Skip) return id;

    auto gids = group_ids(id.user, id.gid);
    if (!gids) return gids.error();
    std::vector<char> group_buf;
    for (gid_t gid : *gids) {
        auto gr = find_group_by_gid(gid, group_buf);
        if (!gr) return gr.error();
        if (!gr->has_value()) continue;  // a gid without a name cannot match @group
        std::string name = (*gr)->gr_name;
        if (std::find(id.group_names.begin(), id.group_names.end(), name) == id.group_names.end())
            id.group_names.push_back(std::move(name));
    }
    return id;
}

const std::optional<NssNameResolver::PasswdIds>& NssNameResolver::passwd_ids(const std::string& user) const {
    if (auto known = users_.find(user); known != users_.end()) return known->second;
    std::vector<char> buf;
    std::optional<PasswdIds> ids;
    if (auto pw = find_passwd(user, buf)) ids = PasswdIds{pw->pw_uid, pw->pw_gid};
    return users_.emplace(user, ids).first->second;
}

std::optional<uid_t> NssNameResolver::uid_of(const std::string& user) const {
    if (const auto& ids = passwd_ids(user)) return ids->uid;
    if (auto n = all_digits(user)) return static_cast<uid_t>(*n);
    return std::nullopt;
}

std::optional<gid_t> NssNameResolver::gid_of(const std::string& group) const {
    if (auto known = groups_.find(group); known != groups_.end()) return known->second;
    std::vector<char> buf;
    struct group gr {};
    struct group* found = nullptr;
    std::optional<gid_t> gid;
    if (nss_lookup(::getgrnam_r, group.c_str(), gr, found, buf, _SC_GETGR_R_SIZE_MAX) == 0 && found != nullptr)
        gid = gr.gr_gid;
    else if (auto n = all_digits(group))
        gid = static_cast<gid_t>(*n);
    return groups_.emplace(group, gid).first->second;
}

std::optional<gid_t> NssNameResolver::primary_gid_of(const std::string& user) const {
    if (const auto& ids = passwd_ids(user)) return ids->gid;
    return std::nullopt;
}

}  // namespace polyns::sys
