#include "pam_log.hpp"

#include <security/pam_ext.h>
#include <syslog.h>

namespace polyns::pam {

namespace {
// Every line starts with the product name, so `journalctl | grep polyns:` finds
// them whatever the PAM service is called.
constexpr const char* line_prefix = "polyns: ";

// Names in a line come from the application (PAM_USER), NSS (LDAP user names,
// homes) and the configuration: a newline in one would forge a second log
// line, an ESC would drive the terminal of whoever reads the log. Control
// characters are written as \xNN.
std::string printable(const std::string& line) {
    std::string out;
    out.reserve(line.size());
    for (char c : line) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0x0f];
        } else {
            out += c;
        }
    }
    return out;
}
}  // namespace

void PamLog::write(int priority, const std::string& line) {
    // The text goes through "%s": a user or path name must never be read as a format.
    pam_syslog(pamh_, priority, "%s%s", line_prefix, printable(line).c_str());
}

void PamLog::debug(const std::string& line) {
    if (debug_enabled_) write(LOG_DEBUG, line);
}

void PamLog::info(const std::string& line) { write(LOG_INFO, line); }

void PamLog::warning(const std::string& line) { write(LOG_WARNING, line); }

void PamLog::notice(const std::string& line) { write(LOG_NOTICE, line); }

void PamLog::error(const std::string& line) { write(LOG_ERR, line); }

void log_fixed_line(pam_handle_t* pamh, int priority, const char* line) noexcept {
    pam_syslog(pamh, priority, "%s%s", line_prefix, line);
}

}  // namespace polyns::pam
