#include "selinux_state.hpp"

#include "polyns/sys/selinux.hpp"

namespace polyns::pam {

bool selinux_enabled() { return sys::selinux::enabled(); }

std::unique_ptr<SelinuxContexts> selinux_contexts(bool enabled, const Options& options, const std::string& user) {
    if (!enabled) return nullptr;
    using sys::selinux::UserContextSource;
    const UserContextSource source = options.use_current_context   ? UserContextSource::Current
                                     : options.use_default_context ? UserContextSource::Default
                                                                   : UserContextSource::Exec;
    return std::make_unique<sys::selinux::SystemContexts>(user, source);
}

std::string selinux_boolean_note(bool enabled) {
    if (!enabled) return {};
    auto boolean = sys::selinux::polyinstantiation_boolean();
    return boolean ? "SELinux boolean " + *boolean : std::string();
}

}  // namespace polyns::pam
