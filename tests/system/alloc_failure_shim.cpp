// LD_PRELOAD shim for the PAM driver: makes the Nth C++ allocation made
// during pam_open_session (or, with POLYNS_FAIL_NEW_IN=close, during
// pam_close_session) throw std::bad_alloc (POLYNS_FAIL_NEW_AT=N), to prove
// that no exception crosses the module's C ABI and that a failure at any point
// leaves the process in its original mount namespace.
//
// Only allocations inside that call count: the driver's own are never failed.
// With POLYNS_FAIL_NEW_AT=0 nothing fails and the number of allocations
// counted is printed on stderr ("alloc-shim: open: N allocations").
#include <dlfcn.h>
#include <security/pam_appl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {

// Single-threaded use by the driver: plain globals are enough for a test shim.
bool armed = false;
unsigned long counted = 0;
unsigned long fail_at = 0;

void* allocate(std::size_t size) {
    if (armed && ++counted == fail_at) throw std::bad_alloc();
    if (size == 0) size = 1;
    if (void* p = std::malloc(size)) return p;
    throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

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
