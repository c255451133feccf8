// The engine's and the module's words, written with pam_syslog so they carry
// the service and PAM phase ("pam_polyns(sshd:session): polyns: ...").
#pragma once

#include <security/pam_modules.h>

#include <string>

#include "polyns/engine.hpp"

namespace polyns::pam {

class PamLog final : public Log {
public:
    PamLog(pam_handle_t* pamh, bool debug_enabled) : pamh_(pamh), debug_enabled_(debug_enabled) {}

    bool debug_enabled() const { return debug_enabled_; }

    void debug(const std::string& line) override;    // LOG_DEBUG, only with `debug`
    void info(const std::string& line) override;     // LOG_INFO
    void warning(const std::string& line) override;  // LOG_WARNING
    void notice(const std::string& line);            // LOG_NOTICE
    // The one LOG_ERR line a failed open/close writes.
    void error(const std::string& line);

private:
    void write(int priority, const std::string& line);

    pam_handle_t* pamh_;
    bool debug_enabled_;
};

// For the catch blocks at the C ABI: writes a fixed line without allocating.
void log_fixed_line(pam_handle_t* pamh, int priority, const char* line) noexcept;

}  // namespace polyns::pam
