#include "polyns/sys/libmount.hpp"

#include <dlfcn.h>

#include <cerrno>
#include <string>

namespace polyns::sys {
namespace {

constexpr const char* soname = "libmount.so.1";

class LoadedLibMount {
public:
    LoadedLibMount() {
        handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (handle_ == nullptr) {
            const char* why = ::dlerror();
            error_ = why != nullptr ? why : "dlopen failed";
            return;
        }
        ok_ = resolve(table_.optstr_next_option, "mnt_optstr_next_option") &&
              resolve(table_.split_optstr, "mnt_split_optstr") &&
              resolve(table_.optstr_get_flags, "mnt_optstr_get_flags") &&
              resolve(table_.get_builtin_optmap, "mnt_get_builtin_optmap") &&
              resolve(table_.new_table, "mnt_new_table") && resolve(table_.unref_table, "mnt_unref_table") &&
              resolve(table_.table_parse_file, "mnt_table_parse_file") &&
              resolve(table_.new_iter, "mnt_new_iter") && resolve(table_.free_iter, "mnt_free_iter") &&
              resolve(table_.table_next_fs, "mnt_table_next_fs") && resolve(table_.fs_get_id, "mnt_fs_get_id") &&
              resolve(table_.fs_get_parent_id, "mnt_fs_get_parent_id") &&
              resolve(table_.fs_get_target, "mnt_fs_get_target") && resolve(table_.fs_get_root, "mnt_fs_get_root") &&
              resolve(table_.fs_get_fstype, "mnt_fs_get_fstype") &&
              resolve(table_.fs_get_source, "mnt_fs_get_source") &&
              resolve(table_.fs_get_vfs_options, "mnt_fs_get_vfs_options") &&
              resolve(table_.fs_get_fs_options, "mnt_fs_get_fs_options") &&
              resolve(table_.fs_get_devno, "mnt_fs_get_devno");
    }
    ~LoadedLibMount() {
        if (handle_ != nullptr) ::dlclose(handle_);
    }
    LoadedLibMount(const LoadedLibMount&) = delete;
    LoadedLibMount& operator=(const LoadedLibMount&) = delete;

    bool ok() const { return ok_; }
    const std::string& error() const { return error_; }
    const LibMount& table() const { return table_; }

private:
    template <typename F>
    bool resolve(F& slot, const char* name) {
        void* symbol = ::dlsym(handle_, name);
        if (symbol == nullptr) {
            error_ = std::string("no symbol ") + name;
            return false;
        }
        slot = reinterpret_cast<F>(symbol);
        return true;
    }

    void* handle_ = nullptr;
    bool ok_ = false;
    std::string error_;
    LibMount table_{};
};

}  // namespace

Result<const LibMount*> libmount() {
    // Built on first use (thread-safe), destroyed when this module or program
    // is unloaded, which dlcloses libmount again.
    static const LoadedLibMount loaded;
    if (!loaded.ok())
        return make_error("load libmount", soname, "dlopen", ELIBACC, loaded.error(),
                          "install util-linux's libmount1 (mntopts=, tmpfs and unmnt_remnt need it)");
    return &loaded.table();
}

}  // namespace polyns::sys
