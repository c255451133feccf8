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
#include <vector>

namespace polyns::sys {
namespace {

struct FaultSpec {
    std::string point;
    long nth = 1;
    bool and_later = false;  // "NTH+": that call and every later one (a lasting failure)
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

// One POINT[:NTH[+][:ERRNO]] of POLYNS_FAULT.
FaultSpec parse_spec(const std::string& text) {
    FaultSpec spec;
    std::size_t colon = text.find(':');
    spec.point = text.substr(0, colon);
    if (colon == std::string::npos) return spec;
    std::string rest = text.substr(colon + 1);
    std::size_t colon2 = rest.find(':');
    std::string nth = rest.substr(0, colon2);
    if (!nth.empty() && nth.back() == '+') {
        spec.and_later = true;
        nth.pop_back();
    }
    spec.nth = std::strtol(nth.c_str(), nullptr, 10);
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

// POLYNS_FAULT=SPEC[,SPEC...], read once per process: several points may fail
// in one session (a forward step, then a step of its rollback).
std::vector<FaultSpec> read_specs() {
    std::vector<FaultSpec> specs;
    const char* raw = std::getenv("POLYNS_FAULT");
    if (raw == nullptr) return specs;
    std::string text = raw;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        if (comma > start) specs.push_back(parse_spec(text.substr(start, comma - start)));
        start = comma + 1;
    }
    return specs;
}

}  // namespace

int injected_fault(std::string_view point) {
    static std::mutex mutex;
    static const std::vector<FaultSpec> specs = read_specs();
    static std::map<std::string, long> calls;
    if (specs.empty()) return 0;
    std::string name(point);
    for (char& c : name) {
        if (c == ' ') c = '_';
    }
    const FaultSpec* hit = nullptr;
    {
        std::lock_guard lock(mutex);
        long call = 0;
        for (const FaultSpec& spec : specs) {
            if (spec.point != name) continue;
            if (call == 0) call = ++calls[name];
            if (call == spec.nth || (spec.and_later && call > spec.nth)) {
                hit = &spec;
                break;
            }
        }
    }
    if (hit == nullptr) return 0;
    if (hit->sleep_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(hit->sleep_ms));
        return 0;
    }
    return hit->err;
}

}  // namespace polyns::sys
