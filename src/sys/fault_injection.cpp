// Compiled only into the test-only sys library (see fault_injection.hpp).
#include "fault_injection.hpp"

#if !defined(POLYNS_FAULT_INJECTION)
#error "fault_injection.cpp belongs to the fault-injection test build only"
#endif

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace polyns::sys {
namespace {

struct FaultSpec {
    std::string point;
    long nth = 1;
    int err = EIO;
    long sleep_ms = 0;  // "sleepMS" instead of an errno: pause there, then go on
};

int errno_from_text(const std::string& text) {
    static const std::map<std::string, int> names = {
        {"EIO", EIO},       {"EPERM", EPERM},   {"ENOSPC", ENOSPC},
        {"ENOMEM", ENOMEM}, {"EMFILE", EMFILE}, {"EACCES", EACCES},
    };
    if (auto it = names.find(text); it != names.end()) return it->second;
    char* end = nullptr;
    long n = std::strtol(text.c_str(), &end, 10);
    return (end != text.c_str() && *end == '\0' && n > 0 && n < 4096) ? static_cast<int>(n) : EIO;
}

// POLYNS_FAULT=POINT[:NTH[:ERRNO]], read once per process.
FaultSpec read_spec() {
    FaultSpec spec;
    const char* raw = std::getenv("POLYNS_FAULT");
    if (raw == nullptr) return spec;
    std::string text = raw;
    std::size_t colon = text.find(':');
    spec.point = text.substr(0, colon);
    if (colon == std::string::npos) return spec;
    std::string rest = text.substr(colon + 1);
    std::size_t colon2 = rest.find(':');
    spec.nth = std::strtol(rest.substr(0, colon2).c_str(), nullptr, 10);
    if (spec.nth < 1) spec.nth = 1;
    if (colon2 != std::string::npos) {
        std::string action = rest.substr(colon2 + 1);
        if (action.rfind("sleep", 0) == 0)
            spec.sleep_ms = std::strtol(action.c_str() + 5, nullptr, 10);
        else
            spec.err = errno_from_text(action);
    }
    return spec;
}

}  // namespace

int injected_fault(std::string_view point) {
    static std::mutex mutex;
    static const FaultSpec spec = read_spec();
    static std::map<std::string, long> calls;
    if (spec.point.empty()) return 0;
    std::string name(point);
    for (char& c : name) {
        if (c == ' ') c = '_';
    }
    if (name != spec.point) return 0;
    std::unique_lock lock(mutex);
    if (++calls[name] != spec.nth) return 0;
    lock.unlock();
    if (spec.sleep_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(spec.sleep_ms));
        return 0;
    }
    return spec.err;
}

}  // namespace polyns::sys
