#include "selinux_state.hpp"

#include "polyns_build_config.h"

#if POLYNS_HAVE_SELINUX
#include <dlfcn.h>
#include <sys/vfs.h>
#endif

namespace polyns::pam {

#if POLYNS_HAVE_SELINUX
namespace {

// linux/magic.h's SELINUX_MAGIC.
constexpr long selinuxfs_magic = 0xf97cff8c;

bool is_selinuxfs(const char* path) {
    struct statfs fs {};
    return ::statfs(path, &fs) == 0 && static_cast<long>(fs.f_type) == selinuxfs_magic;
}

// Whether SELinux may be active: selinuxfs is mounted where libselinux looks
// first. Without it (Debian's default) libselinux is never loaded: two statfs.
// Were SELinux active with selinuxfs mounted elsewhere, the answer "disabled"
// is still safe: level/context rules fall back to per-user instances with a
// notice, and require_selinux fails closed.
bool selinuxfs_mounted() { return is_selinuxfs("/sys/fs/selinux") || is_selinuxfs("/selinux"); }

using IsSelinuxEnabled = int (*)();

// libselinux, opened on first use and only where SELinux exists: linked into
// the module it was loaded and initialised (its constructor stats selinuxfs
// and reads /proc/filesystems) at every login on every host, for this one
// question (tests/bench measured ~45 us of the session's cost).
class LoadedLibSelinux {
public:
    LoadedLibSelinux() {
        handle_ = ::dlopen("libselinux.so.1", RTLD_NOW | RTLD_LOCAL);
        if (handle_ == nullptr) return;
        is_enabled_ = reinterpret_cast<IsSelinuxEnabled>(::dlsym(handle_, "is_selinux_enabled"));
    }
    ~LoadedLibSelinux() {
        if (handle_ != nullptr) ::dlclose(handle_);
    }
    LoadedLibSelinux(const LoadedLibSelinux&) = delete;
    LoadedLibSelinux& operator=(const LoadedLibSelinux&) = delete;

    // libselinux's own answer: 1 enabled, 0 disabled, -1 cannot tell (also
    // when the library cannot be loaded).
    int is_enabled() const { return is_enabled_ != nullptr ? is_enabled_() : -1; }

private:
    void* handle_ = nullptr;
    IsSelinuxEnabled is_enabled_ = nullptr;
};

}  // namespace
#endif

bool selinux_enabled() {
#if POLYNS_HAVE_SELINUX
    if (!selinuxfs_mounted()) return false;
    static const LoadedLibSelinux libselinux;
    // -1 (cannot tell, or libselinux missing) counts as disabled, so
    // require_selinux fails closed.
    return libselinux.is_enabled() == 1;
#else
    return false;
#endif
}

}  // namespace polyns::pam
