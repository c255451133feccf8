#include "polyns/result.hpp"

#include <cstring>
#include <string>

namespace polyns {

std::string errno_text(int err) {
    const char* name = strerrorname_np(err);
    char buf[256];
    const char* text = strerror_r(err, buf, sizeof buf);  // GNU variant: returns the text
    if (name == nullptr) return "errno " + std::to_string(err) + " (" + text + ")";
    return std::string(name) + " (" + text + ")";
}

std::string Error::message() const {
    std::string m = "cannot " + step;
    if (!path.empty()) m += " " + path;
    if (!syscall.empty()) m += ": " + syscall;
    if (err != 0) m += ": " + errno_text(err);
    if (!detail.empty()) m += (syscall.empty() && err == 0 ? ": " : "; ") + detail;
    if (!hint.empty()) m += " (fix: " + hint + ")";
    return m;
}

Error make_error(std::string step, std::string path, std::string syscall, int err,
                 std::string detail, std::string hint) {
    Error e;
    e.err = err;
    e.step = std::move(step);
    e.path = std::move(path);
    e.syscall = std::move(syscall);
    e.detail = std::move(detail);
    e.hint = std::move(hint);
    return e;
}

}  // namespace polyns
