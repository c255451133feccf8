// libselinux, as pam_namespace uses it, opened with dlopen() only on hosts
// whose kernel has SELinux (selinuxfs mounted): elsewhere nothing here loads
// the library, and every query answers "off". Contexts are always the raw
// form (never mcstrans's translation), the form instance names are made of.
#pragma once

#include <optional>
#include <string>

#include "polyns/plan.hpp"
#include "polyns/result.hpp"

namespace polyns::sys::selinux {

// selinuxfs mounted and is_selinux_enabled() == 1. "Cannot tell" and a
// missing libselinux count as off (require_selinux then fails closed).
bool enabled();

// is_selinux_mls_enabled(): the policy has MLS/MCS ranges.
bool mls_enabled();

// The three places pam_namespace takes the user's context from.
Result<std::optional<std::string>> exec_context();                  // getexeccon: pam_selinux's setexeccon
Result<std::string> current_context();                              // getcon (use_current_context)
Result<std::string> default_context(const std::string& user);        // seusers + default_contexts (use_default_context)

// The label of a directory: by path (follows symlinks; for planning and
// display), or of an open fd (O_PATH fds too).
Result<std::string> path_context(const std::string& path);
Result<std::string> fd_context(int fd, const std::string& path);

// The policy's type_member rule for a directory (method `context`).
Result<std::string> member_context(const std::string& user_context, const std::string& dir_context);

// fsetfilecon on an fd opened for reading (not O_PATH).
Result<void> set_fd_context(int fd, const std::string& context, const std::string& path);

// file_contexts' label for a directory at `path` (selabel_lookup); nullopt
// when the policy has no entry.
Result<std::optional<std::string>> file_contexts_dir_label(const std::string& path);

// setfscreatecon for the calling thread while alive; the previous value is
// restored at the end (as pam_namespace's create_polydir does).
class FsCreateContext {
public:
    FsCreateContext() = default;
    FsCreateContext(const FsCreateContext&) = delete;
    FsCreateContext& operator=(const FsCreateContext&) = delete;
    ~FsCreateContext();
    Result<void> set(const std::string& context, const std::string& path);

private:
    bool active_ = false;
    std::optional<std::string> saved_;
};

// The policy's polyinstantiation boolean (refpolicy/Fedora
// "polyinstantiation_enabled", Debian "allow_polyinstantiation") as
// "allow_polyinstantiation=off"; nullopt when SELinux is off or the policy
// has neither.
std::optional<std::string> polyinstantiation_boolean();

// Where the user's context comes from (the module options).
enum class UserContextSource {
    Exec,     // getexeccon(): set by pam_selinux open (the default)
    Current,  // getcon(): use_current_context
    Default,  // getseuserbyname + get_default_context_with_level: use_default_context
};

// The planner's SelinuxContexts answered by libselinux. The user's context
// is asked for once, on first use.
class SystemContexts final : public SelinuxContexts {
public:
    SystemContexts(std::string user, UserContextSource source) : user_(std::move(user)), source_(source) {}
    Result<std::string> user_context() const override;
    Result<std::string> polydir_context(const std::string& polydir, bool will_create) const override;
    Result<std::string> member_context(const std::string& user_context,
                                       const std::string& polydir_context) const override;
    Result<std::string> create_context(const std::string& polydir) const override;

private:
    std::string user_;
    UserContextSource source_;
    mutable std::optional<Result<std::string>> cached_user_context_;
};

}  // namespace polyns::sys::selinux
