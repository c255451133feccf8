// LD_PRELOAD shim for the PAM driver: makes the Nth C++ allocation made
// during pam_open_session (or, with POLYNS_FAIL_NEW_IN=close, during
// pam_close_session) throw std::bad_alloc (POLYNS_FAIL_NEW_AT=N), to prove
// that no exception crosses the module's C ABI and that a failure at any point
// leaves the process in its original mount namespace.
//
// Only allocations inside that call count: the driver's own are never failed.
// With POLYNS_FAIL_NEW_AT=0 nothing fails and the number of allocations
// counted is printed on stderr ("alloc-shim: open: N allocations").
//
// Counted: allocations whose caller is pam_polyns.so's code. The module links
// libstdc++ statically (its operator new is internal and calls malloc), so
// both operator new (a module built against the shared libstdc++) and malloc
// (the static one: a null return makes its operator new throw bad_alloc) are
// interposed, each counting only calls made from inside the module.
//
// In the sanitizer build (ASan: the module uses the shared libstdc++) only
// operator new and new[] are interposed, and they hand every allocation they
// do not fail to ASan's own operator new (the next definition after this
// shim), so ASan still tracks each block as new-allocated and checks its
// delete. malloc and delete are ASan's. The shim must then be preloaded
// before ASan's runtime, with ASAN_OPTIONS verify_asan_link_order=0
// (alloc_failures.sh does): ASan's interceptors are unaffected, only the two
// operators come from here.
#include <dlfcn.h>
#include <link.h>
#include <security/pam_appl.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {

// Single-threaded use by the driver: plain globals are enough for a test shim.
bool armed = false;
unsigned long counted = 0;
unsigned long fail_at = 0;
std::uintptr_t module_low = 0;   // pam_polyns.so's mapped range, found when armed
std::uintptr_t module_high = 0;

bool from_module(const void* caller) {
    auto address = reinterpret_cast<std::uintptr_t>(caller);
    return address >= module_low && address < module_high;
}

// True when this allocation is to fail.
bool count_allocation(const void* caller) { return armed && from_module(caller) && ++counted == fail_at; }

int find_module(struct dl_phdr_info* info, std::size_t, void*) {
    if (info->dlpi_name == nullptr || std::strstr(info->dlpi_name, "pam_polyns.so") == nullptr) return 0;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& segment = info->dlpi_phdr[i];
        if (segment.p_type != PT_LOAD) continue;
        std::uintptr_t low = info->dlpi_addr + segment.p_vaddr;
        std::uintptr_t high = low + segment.p_memsz;
        if (module_low == 0 || low < module_low) module_low = low;
        if (high > module_high) module_high = high;
    }
    return 1;
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)

namespace {

using operator_new_fn = void* (*)(std::size_t);

// ASan's operator new or new[]: the definition after this shim.
operator_new_fn next_operator_new(const char* mangled) {
    auto next = reinterpret_cast<operator_new_fn>(dlsym(RTLD_NEXT, mangled));
    if (next == nullptr) {
        std::fprintf(stderr, "alloc-shim: %s not found after the shim\n", mangled);
        std::abort();
    }
    return next;
}

}  // namespace

void* operator new(std::size_t size) {
    static const operator_new_fn next = next_operator_new("_Znwm");
    if (count_allocation(__builtin_return_address(0))) throw std::bad_alloc();
    return next(size);
}

void* operator new[](std::size_t size) {
    static const operator_new_fn next = next_operator_new("_Znam");
    if (count_allocation(__builtin_return_address(0))) throw std::bad_alloc();
    return next(size);
}

#else

namespace {

void* allocate(std::size_t size, const void* caller) {
    if (count_allocation(caller)) throw std::bad_alloc();
    if (size == 0) size = 1;
    if (void* p = std::malloc(size)) return p;
    throw std::bad_alloc();
}

}  // namespace

extern "C" void* __libc_malloc(std::size_t size);

extern "C" void* malloc(std::size_t size) {
    if (count_allocation(__builtin_return_address(0))) {
        errno = ENOMEM;
        return nullptr;
    }
    return __libc_malloc(size);
}

void* operator new(std::size_t size) { return allocate(size, __builtin_return_address(0)); }
void* operator new[](std::size_t size) { return allocate(size, __builtin_return_address(0)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

#endif

namespace {

using session_fn = int (*)(pam_handle_t*, int);

int counting_call(const char* name, const char* phase, pam_handle_t* pamh, int flags) {
    auto real = reinterpret_cast<session_fn>(dlsym(RTLD_NEXT, name));
    if (real == nullptr) return PAM_SYSTEM_ERR;
    const char* in = std::getenv("POLYNS_FAIL_NEW_IN");
    const bool this_phase = std::strcmp(in != nullptr ? in : "open", phase) == 0;
    const char* at = std::getenv("POLYNS_FAIL_NEW_AT");
    fail_at = this_phase && at != nullptr ? std::strtoul(at, nullptr, 10) : 0;
    counted = 0;
    module_low = module_high = 0;
    dl_iterate_phdr(find_module, nullptr);
    armed = true;
    int status = real(pamh, flags);
    armed = false;
    if (this_phase && fail_at == 0) std::fprintf(stderr, "alloc-shim: %s: %lu allocations\n", phase, counted);
    return status;
}

}  // namespace

extern "C" int pam_open_session(pam_handle_t* pamh, int flags) {
    return counting_call("pam_open_session", "open", pamh, flags);
}

extern "C" int pam_close_session(pam_handle_t* pamh, int flags) {
    return counting_call("pam_close_session", "close", pamh, flags);
}
