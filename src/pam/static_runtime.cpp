// The statically linked libstdc++ (src/pam/meson.build) allocates its
// emergency exception-handling pool (about 71 KiB) when the module is loaded.
// A shared libstdc++ frees it at exit; our private copy would keep it after
// dlclose(), so a process that runs pam_start/pam_end repeatedly (a display
// manager, a test loop) would lose one pool per module load. Free it when
// the module is unloaded (or the process exits): nothing of the module's code
// can throw any more by then.
namespace __gnu_cxx {
void __freeres() noexcept;  // libstdc++'s own cleanup hook (eh_alloc.cc)
}

namespace {

__attribute__((destructor)) void free_static_libstdcxx_pool() { __gnu_cxx::__freeres(); }

}  // namespace
