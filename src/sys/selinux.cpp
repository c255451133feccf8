// libselinux through dlopen(): linked into the module, it was loaded and
// initialised (its constructor stats selinuxfs and reads /proc/filesystems)
// at every login on every host; tests/bench measured ~45 us of the session's
// cost. It is opened only where selinuxfs is mounted.
#include "polyns/sys/selinux.hpp"

#include <dlfcn.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <type_traits>

#include "polyns_build_config.h"

namespace polyns::sys::selinux {
namespace {

// linux/magic.h's SELINUX_MAGIC.
constexpr long selinuxfs_magic = 0xf97cff8c;
// <selinux/label.h>: SELABEL_CTX_FILE; <sys/stat.h> S_IFDIR for the lookup.
constexpr unsigned selabel_ctx_file = 0;
constexpr int s_ifdir = 0040000;

bool is_selinuxfs(const char* path) {
    struct statfs fs {};
    return ::statfs(path, &fs) == 0 && static_cast<long>(fs.f_type) == selinuxfs_magic;
}

// Whether SELinux may be active: selinuxfs is mounted where libselinux looks
// first. Without it (Debian's default) libselinux is never loaded: two statfs.
// Were SELinux active with selinuxfs mounted elsewhere, the answer "off" still
// fails closed where it matters (require_selinux).
bool selinuxfs_mounted() { return is_selinuxfs("/sys/fs/selinux") || is_selinuxfs("/selinux"); }

using CharPP = char**;
struct Api {
    int (*is_selinux_enabled)() = nullptr;
    int (*is_selinux_mls_enabled)() = nullptr;
    int (*getexeccon_raw)(CharPP) = nullptr;
    int (*getcon_raw)(CharPP) = nullptr;
    int (*getseuserbyname)(const char*, CharPP, CharPP) = nullptr;
    int (*get_default_context_with_level)(const char*, const char*, const char*, CharPP) = nullptr;
    int (*selinux_trans_to_raw_context)(const char*, CharPP) = nullptr;
    int (*getfilecon_raw)(const char*, CharPP) = nullptr;
    int (*fgetfilecon_raw)(int, CharPP) = nullptr;
    int (*fsetfilecon_raw)(int, const char*) = nullptr;
    unsigned short (*string_to_security_class)(const char*) = nullptr;
    int (*security_compute_member_raw)(const char*, const char*, unsigned short, CharPP) = nullptr;
    void* (*selabel_open)(unsigned, const void*, unsigned) = nullptr;
    int (*selabel_lookup_raw)(void*, CharPP, const char*, int) = nullptr;
    void (*selabel_close)(void*) = nullptr;
    int (*getfscreatecon_raw)(CharPP) = nullptr;
    int (*setfscreatecon_raw)(const char*) = nullptr;
    int (*security_get_boolean_active)(const char*) = nullptr;
    void (*freecon)(char*) = nullptr;
};

class Library {
public:
    Library() {
#if POLYNS_HAVE_SELINUX
        if (!selinuxfs_mounted()) return;
        handle_ = ::dlopen("libselinux.so.1", RTLD_NOW | RTLD_LOCAL);
        if (handle_ == nullptr) return;
        bool all = true;
        auto load = [&](auto& fn, const char* name) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(handle_, name));
            all = all && fn != nullptr;
        };
        load(api_.is_selinux_enabled, "is_selinux_enabled");
        load(api_.is_selinux_mls_enabled, "is_selinux_mls_enabled");
        load(api_.getexeccon_raw, "getexeccon_raw");
        load(api_.getcon_raw, "getcon_raw");
        load(api_.getseuserbyname, "getseuserbyname");
        load(api_.get_default_context_with_level, "get_default_context_with_level");
        load(api_.selinux_trans_to_raw_context, "selinux_trans_to_raw_context");
        load(api_.getfilecon_raw, "getfilecon_raw");
        load(api_.fgetfilecon_raw, "fgetfilecon_raw");
        load(api_.fsetfilecon_raw, "fsetfilecon_raw");
        load(api_.string_to_security_class, "string_to_security_class");
        load(api_.security_compute_member_raw, "security_compute_member_raw");
        load(api_.selabel_open, "selabel_open");
        load(api_.selabel_lookup_raw, "selabel_lookup_raw");
        load(api_.selabel_close, "selabel_close");
        load(api_.getfscreatecon_raw, "getfscreatecon_raw");
        load(api_.setfscreatecon_raw, "setfscreatecon_raw");
        load(api_.security_get_boolean_active, "security_get_boolean_active");
        load(api_.freecon, "freecon");
        loaded_ = all;
#endif
    }
    ~Library() {
        if (handle_ != nullptr) ::dlclose(handle_);
    }
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;

    const Api* api() const { return loaded_ ? &api_ : nullptr; }

private:
    void* handle_ = nullptr;
    bool loaded_ = false;
    Api api_;
};

const Api* api() {
    static const Library library;
    return library.api();
}

Error not_loaded(const std::string& step, const std::string& path) {
    return make_error(step, path, "dlopen libselinux.so.1", ENOTSUP, "SELinux is off or libselinux is missing");
}

// A context libselinux allocated, handed over as a string and freed.
struct Con {
    char* raw = nullptr;
    ~Con() {
        if (raw != nullptr) api()->freecon(raw);
    }
    std::string take() const { return raw != nullptr ? std::string(raw) : std::string(); }
};

}  // namespace

bool enabled() {
    const Api* a = api();
    return a != nullptr && a->is_selinux_enabled() == 1;
}

bool mls_enabled() {
    const Api* a = api();
    return a != nullptr && a->is_selinux_mls_enabled() == 1;
}

Result<std::optional<std::string>> exec_context() {
    const Api* a = api();
    if (a == nullptr) return not_loaded("get the exec context", "");
    Con c;
    if (a->getexeccon_raw(&c.raw) < 0) return make_error("get the exec context", "", "getexeccon", errno);
    if (c.raw == nullptr) return std::optional<std::string>{};
    return std::optional<std::string>{c.take()};
}

Result<std::string> current_context() {
    const Api* a = api();
    if (a == nullptr) return not_loaded("get the current context", "");
    Con c;
    if (a->getcon_raw(&c.raw) < 0 || c.raw == nullptr)
        return make_error("get the current context", "", "getcon", errno);
    return c.take();
}

Result<std::string> default_context(const std::string& user) {
    const Api* a = api();
    if (a == nullptr) return not_loaded("get the default context of", user);
    char* seuser = nullptr;
    char* level = nullptr;
    if (a->getseuserbyname(user.c_str(), &seuser, &level) != 0)
        return make_error("get the default context of", user, "getseuserbyname", errno);
    std::unique_ptr<char, decltype(&std::free)> seuser_owner(seuser, &std::free);
    std::unique_ptr<char, decltype(&std::free)> level_owner(level, &std::free);
    Con translated;
    if (a->get_default_context_with_level(seuser, level, nullptr, &translated.raw) != 0 || translated.raw == nullptr)
        return make_error("get the default context of", user, "get_default_context_with_level", errno,
                          std::string("SELinux user ") + (seuser ? seuser : "?") + " level " + (level ? level : "-"));
    Con raw;
    if (a->selinux_trans_to_raw_context(translated.raw, &raw.raw) != 0 || raw.raw == nullptr)
        return make_error("get the default context of", user, "selinux_trans_to_raw_context", errno);
    return raw.take();
}

Result<std::string> path_context(const std::string& path) {
    const Api* a = api();
    if (a == nullptr) return not_loaded("read the SELinux label of", path);
    Con c;
    if (a->getfilecon_raw(path.c_str(), &c.raw) < 0 || c.raw == nullptr)
        return make_error("read the SELinux label of", path, "getfilecon", errno);
    return c.take();
}

Result<std::string> fd_context(int fd, const std::string& path) {
    const Api* a = api();
    if (a == nullptr) return not_loaded("read the SELinux label of", path);
    Con c;
    if (a->fgetfilecon_raw(fd, &c.raw) >= 0 && c.raw != nullptr) return c.take();
    if (errno != EBADF) return make_error("read the SELinux label of", path, "fgetfilecon", errno);
    // An O_PATH fd: its magic link in /proc leads to exactly the object it holds.
    const std::string link = "/proc/thread-self/fd/" + std::to_string(fd);
    if (a->getfilecon_raw(link.c_str(), &c.raw) < 0 || c.raw == nullptr)
        return make_error("read the SELinux label of", path, "getfilecon " + link, errno);
    return c.take();
}

Result<std::string> member_context(const std::string& user_context, const std::string& dir_context) {
    const Api* a = api();
    if (a == nullptr) return not_loaded("compute the member context for", dir_context);
    const unsigned short dir_class = a->string_to_security_class("dir");
    if (dir_class == 0)
        return make_error("compute the member context for", dir_context, "string_to_security_class", EINVAL,
                          "the policy has no class dir");
    Con c;
    if (a->security_compute_member_raw(user_context.c_str(), dir_context.c_str(), dir_class, &c.raw) < 0 ||
        c.raw == nullptr)
        return make_error("compute the member context for", dir_context, "security_compute_member", errno,
                          "user context " + user_context);
    return c.take();
}

Result<void> set_fd_context(int fd, const std::string& context, const std::string& path) {
    const Api* a = api();
    if (a == nullptr) return not_loaded("label", path);
    if (a->fsetfilecon_raw(fd, context.c_str()) < 0)
        return make_error("label", path, "fsetfilecon", errno, "context " + context);
    return {};
}

Result<std::optional<std::string>> file_contexts_dir_label(const std::string& path) {
    const Api* a = api();
    if (a == nullptr) return not_loaded("look up file_contexts for", path);
    void* handle = a->selabel_open(selabel_ctx_file, nullptr, 0);
    if (handle == nullptr) return make_error("look up file_contexts for", path, "selabel_open", errno);
    Con c;
    int rc = a->selabel_lookup_raw(handle, &c.raw, path.c_str(), s_ifdir);
    int err = errno;
    a->selabel_close(handle);
    if (rc < 0) {
        if (err == ENOENT) return std::optional<std::string>{};
        return make_error("look up file_contexts for", path, "selabel_lookup", err);
    }
    return std::optional<std::string>{c.take()};
}

FsCreateContext::~FsCreateContext() {
    if (!active_) return;
    api()->setfscreatecon_raw(saved_ ? saved_->c_str() : nullptr);
}

Result<void> FsCreateContext::set(const std::string& context, const std::string& path) {
    const Api* a = api();
    if (a == nullptr) return not_loaded("set the creation label for", path);
    if (!active_) {
        Con old;
        if (a->getfscreatecon_raw(&old.raw) < 0)
            return make_error("set the creation label for", path, "getfscreatecon", errno);
        if (old.raw != nullptr) saved_ = old.take();
    }
    if (a->setfscreatecon_raw(context.c_str()) < 0)
        return make_error("set the creation label for", path, "setfscreatecon", errno, "context " + context);
    active_ = true;
    return {};
}

std::optional<std::string> polyinstantiation_boolean() {
    const Api* a = api();
    if (a == nullptr || a->is_selinux_enabled() != 1) return std::nullopt;
    for (const char* name : {"polyinstantiation_enabled", "allow_polyinstantiation"}) {
        int state = a->security_get_boolean_active(name);
        if (state >= 0) return std::string(name) + (state == 1 ? "=on" : "=off");
    }
    return std::nullopt;
}

Result<std::string> SystemContexts::user_context() const {
    if (cached_user_context_) return *cached_user_context_;
    Result<std::string> found = std::string();
    switch (source_) {
    case UserContextSource::Current: found = current_context(); break;
    case UserContextSource::Default: found = default_context(user_); break;
    case UserContextSource::Exec: {
        auto exec = exec_context();
        if (!exec) {
            found = exec.error();
        } else if (!exec.value()) {
            found = make_error("get the SELinux context of", user_, "getexeccon", 0,
                               "no exec context is set (pam_selinux open has not run before this module)");
        } else {
            found = **exec;
        }
        break;
    }
    }
    cached_user_context_ = found;
    return found;
}

Result<std::string> SystemContexts::polydir_context(const std::string& polydir, bool will_create) const {
    auto found = path_context(polydir);
    if (found || found.error().err != ENOENT || !will_create) return found;
    auto created = file_contexts_dir_label(polydir);
    if (!created) return created.error();
    if (!created.value())
        return make_error("read the SELinux label of", polydir, "selabel_lookup", ENOENT,
                          "the polydir does not exist yet and file_contexts has no label for it",
                          "create " + polydir + " with its label, or add a file_contexts entry");
    return **created;
}

Result<std::string> SystemContexts::member_context(const std::string& user_context,
                                                   const std::string& polydir_context) const {
    return selinux::member_context(user_context, polydir_context);
}

Result<std::string> SystemContexts::create_context(const std::string& polydir) const {
    // An existing polydir is not created: no file_contexts lookup (it loads
    // the whole file_contexts) at every session of a create= rule.
    if (path_context(polydir)) return std::string();
    auto label = file_contexts_dir_label(polydir);
    if (!label) return label.error();
    return label.value() ? **label : std::string();
}

}  // namespace polyns::sys::selinux
