#include "session.hpp"

#include <security/pam_ext.h>
#include <syslog.h>

#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "pam_log.hpp"
#include "polyns/config.hpp"
#include "polyns/engine.hpp"
#include "polyns/options.hpp"
#include "polyns/plan.hpp"
#include "polyns/sys/run_state.hpp"
#include "polyns/sys/users.hpp"
#include "selinux_state.hpp"
#include "session_data.hpp"

namespace polyns::pam {

namespace {

// "alice (service sshd)": who every session line is about.
struct SessionLabel {
    std::string user;
    std::string service;

    std::string text() const { return user + " (service " + service + ")"; }
};

std::string pam_item_text(pam_handle_t* pamh, int item) {
    const void* value = nullptr;
    if (pam_get_item(pamh, item, &value) != PAM_SUCCESS || value == nullptr) return {};
    return static_cast<const char*>(value);
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
    std::string out;
    for (const auto& part : parts) {
        if (!out.empty()) out += separator;
        out += part;
    }
    return out;
}

std::string octal_mode(mode_t mode) {
    char buf[16];
    snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

// Linux-PAM modules ignore arguments they do not know; we do too, but say so,
// because a misspelt `unmount_on_close` silently changes behaviour.
void report_option_problems(const Options& options, PamLog& log) {
    for (const auto& arg : options.unknown) log.warning("unknown option '" + arg + "' ignored");
    for (const auto& arg : options.invalid)
        log.warning("invalid option value ignored, default kept: " + arg);
    if (log.debug_enabled()) log.debug("options: " + join(options_to_args(options), " "));
}

// Group names are looked up only for a config that can use them (@group in a
// user list): the lookup is the costliest NSS call of a session.
bool config_names_groups(const Config& config) {
    for (const Rule& rule : config.rules) {
        for (const UserSelector& selector : rule.users) {
            if (selector.kind == UserSelector::Kind::Group) return true;
        }
    }
    return false;
}

// The one LOG_ERR line of a failed open or close: user, polydir, then the
// error's own words (step, path, syscall, errno text, fix).
void report_failure(PamLog& log, const SessionLabel& who, const char* what, const Error& error) {
    std::string line = std::string(what) + " for " + who.text() + " failed: ";
    if (!error.polydir.empty()) line += "polydir " + error.polydir + ": ";
    line += error.message();
    log.error(line);
    // Kept root-only under /run for `polyns status USER`: without /dev/log
    // the syslog line is lost, and the user only saw libpam's generic words.
    if (auto r = sys::record_last_failure(who.user, who.service, line); !r)
        log.warning("cannot record the failure for polyns status: " + r.error().message());
}

// With SELinux on, a failed open names the policy's polyinstantiation
// boolean and its state: off, it is the usual cause (no sys_admin for the
// login domain, labels refused).
Error with_selinux_boolean(Error error, bool selinux) {
    const std::string note = selinux_boolean_note(selinux);
    if (!note.empty()) error.detail += (error.detail.empty() ? "" : "; ") + note;
    return error;
}

void report_config_diagnostics(const Config& config, PamLog& log) {
    if (log.debug_enabled()) {
        for (const auto& file : config.files) log.debug("config file read: " + file);
    }
    // Each one on its own line at LOG_WARNING: the single LOG_ERR line of a
    // failed session summarises them, so error counting stays meaningful.
    for (const auto& diagnostic : config.diagnostics) log.warning(format_diagnostic(diagnostic));
}

// A diagnostic without a line is about a whole file: untrusted (not root's,
// writable by others), unreadable, not a regular file. ignore_config_error
// skips broken *lines*, as in Linux-PAM; it never turns a file we refused to
// read into "no rules", which would open sessions unprotected.
bool is_file_level_error(const Diagnostic& d) { return d.severity == Severity::Error && d.loc.line == 0; }

const Diagnostic* first_error(const Config& config, bool file_level_only) {
    for (const auto& diagnostic : config.diagnostics) {
        if (diagnostic.severity != Severity::Error) continue;
        if (file_level_only && !is_file_level_error(diagnostic)) continue;
        return &diagnostic;
    }
    return nullptr;
}

Error config_error(const Config& config, bool ignoring_line_errors) {
    const Diagnostic* first = first_error(config, ignoring_line_errors);
    std::string detail = std::to_string(config.error_count()) + " error(s)";
    if (first != nullptr) detail += ", first: " + format_diagnostic(*first);
    if (first != nullptr && is_file_level_error(*first)) {
        // The diagnostic carries its own fix (chown/chmod ...); nothing to add.
        return make_error("use the configuration", {}, {}, 0, detail);
    }
    return make_error("use the configuration", {}, {}, 0, detail,
                      "correct the file (`polyns check` lists every problem) or add the "
                      "module option ignore_config_error to skip broken rules");
}

void report_plan(const Plan& plan, PamLog& log) {
    for (const auto& notice : plan.notices) log.notice(notice);
    if (!log.debug_enabled()) return;
    for (const auto& skipped : plan.skipped) log.debug("plan: skip " + skipped.polydir + ": " + skipped.reason);
    for (const auto& step : plan.steps) {
        std::string line = "plan: " + step.polydir + " -> ";
        switch (step.instance_kind) {
            case InstanceKind::Named: line += step.instance; break;
            case InstanceKind::Unique: line += step.template_dir + "/" + step.instance_name + "XXXXXX"; break;
            case InstanceKind::None: line += "tmpfs"; break;
        }
        line += " (method " + std::string(method_name(step.method));
        if (step.instance_kind != InstanceKind::None) {
            if (step.mirror_polydir) {
                line += ", owner and mode mirror the polydir";
            } else {
                line += ", owner " + std::to_string(step.instance_owner.uid) + ":" +
                        std::to_string(step.instance_owner.gid) + " mode " +
                        octal_mode(step.instance_owner.mode);
            }
        }
        if (!step.fs_options.empty()) line += ", tmpfs " + step.fs_options;
        if (step.init_script) line += ", init " + *step.init_script;
        line += ")";
        log.debug(line);
    }
    if (plan.unmount_previous) log.debug("plan: unmount polydirs of the previous session first (unmnt_remnt)");
    if (plan.unmount_only) log.debug("plan: unmount polydirs of the previous session only (unmnt_only)");
}

// "session for alice (service sshd): /tmp -> /tmp/user_tmpl/1001, /var/tmp -> ..."
std::string success_line(const SessionLabel& who, const SessionState& state) {
    std::vector<std::string> mounts;
    for (const auto& m : state.mounted) {
        mounts.push_back(m.polydir + " -> " + (m.kind == MountKind::Tmpfs ? std::string("tmpfs") : m.instance));
    }
    std::string line = "session for " + who.text() + ": ";
    if (!mounts.empty()) {
        line += join(mounts, ", ");
        if (!state.unmounted_previous.empty())
            line += " (unmounted first: " + join(state.unmounted_previous, ", ") + ")";
    } else if (!state.unmounted_previous.empty()) {
        line += "unmounted " + join(state.unmounted_previous, ", ");
    } else {
        line += "nothing to mount";
    }
    return line;
}

int open_session_pipeline(pam_handle_t* pamh, int argc, const char** argv) {
    const Options options = parse_options(argc, argv);
    PamLog log(pamh, options.debug);
    report_option_problems(options, log);

    SessionLabel who{pam_item_text(pamh, PAM_USER), pam_item_text(pamh, PAM_SERVICE)};
    if (who.service.empty()) who.service = "?";
    if (who.user.empty()) {
        // A session module must not prompt: the user was settled by the auth phase.
        log.error("session for (service " + who.service + ") failed: the application set no PAM_USER");
        return PAM_SERVICE_ERR;
    }

    // Reached again on a handle that holds a polyns session: a second
    // pam_polyns line of the stack (the pam-auth-update profile's line in
    // common-session and one an admin added to su), or a second
    // pam_open_session. The first session's state is never replaced (its
    // tmpdir instance would never be removed, its mount would stay under a
    // second one, a failed second open would leave close nothing to do). For
    // the same user the session is set up already: nothing more to do. For
    // another user it is refused: her processes would run in the first
    // user's view.
    if (const SessionState* open = find_session_state(pamh); open != nullptr) {
        if (open->user != who.user) {
            log.error("session for " + who.text() +
                      " failed: this PAM handle already holds an open pam_polyns session for " + open->user +
                      "; one handle opens one user's session (fix: the application must call "
                      "pam_close_session before changing PAM_USER)");
            return PAM_SESSION_ERR;
        }
        log.notice("session for " + who.text() +
                   (opened_by_this_line(pamh, argv)
                        ? ": already set up by pam_polyns on this handle (a second pam_open_session); "
                          "nothing more to do"
                        : ": already set up by an earlier pam_polyns line of this stack; this line does nothing"));
        return PAM_SUCCESS;
    }

    const bool selinux = selinux_enabled();
    if (options.require_selinux && !selinux) {
        log.error("session for " + who.text() +
                  " failed: require_selinux is set but SELinux is not enabled "
                  "(fix: enable SELinux or remove require_selinux)");
        return PAM_SESSION_ERR;
    }

    LoadOptions load = default_load_options();
    if (options.conf) load.only_file = *options.conf;
    const Config config = load_config(load);
    report_config_diagnostics(config, log);
    if (config.has_errors()) {
        const bool file_refused = first_error(config, true) != nullptr;
        if (!options.ignore_config_error || file_refused) {
            report_failure(log, who, "session", config_error(config, options.ignore_config_error));
            return PAM_SESSION_ERR;
        }
        log.warning("ignoring " + std::to_string(config.error_count()) +
                    " configuration error(s) (ignore_config_error): the rules with errors are skipped");
    }

    auto identity = sys::lookup_identity(
        who.user, config_names_groups(config) ? sys::GroupNames::Resolve : sys::GroupNames::Skip);
    if (!identity) {
        report_failure(log, who, "session", identity.error());
        return PAM_SESSION_ERR;
    }

    const sys::NssNameResolver names;
    const auto contexts = selinux_contexts(selinux, options, who.user);
    PlanContext context;
    context.security_dir = load.security_dir;
    context.selinux_enabled = selinux;
    context.selinux = contexts.get();
    const auto plan = make_plan(config, *identity, options, names, context);
    if (!plan) {
        report_failure(log, who, "session", with_selinux_boolean(plan.error(), selinux));
        return PAM_SESSION_ERR;
    }
    report_plan(*plan, log);

    if (plan->empty() && plan->skipped.empty()) {
        // Nothing configured for this user: the process keeps the namespace it has.
        log.debug("session for " + who.text() + ": nothing to do, namespace unchanged");
        return PAM_SUCCESS;
    }

    SessionState* stored = reserve_session_state(pamh);
    if (stored == nullptr) {
        log.error("session for " + who.text() + " failed: cannot keep the session state (pam_set_data)");
        return PAM_BUF_ERR;
    }

    auto state = apply_plan(*plan, log);
    if (!state) {
        forget_session_state(pamh);
        report_failure(log, who, "session", with_selinux_boolean(state.error(), selinux));
        // Even the rollback failed and the process must not go on (SECURITY.md).
        return state.error().caller_unsafe ? PAM_ABORT : PAM_SESSION_ERR;
    }
    if (!state->namespace_changed) {
        // Rules skipped for this user and no earlier session to leave.
        forget_session_state(pamh);
        log.debug("session for " + who.text() + ": nothing to do, namespace unchanged");
        return PAM_SUCCESS;
    }
    *stored = std::move(*state);
    remember_opening_line(pamh, argv);
    // The session is set up and recorded: failing to describe it must not
    // turn it into a failed open (the application would then never close it).
    try {
        log.info(success_line(who, *stored));
    } catch (const std::bad_alloc&) {
        log_fixed_line(pamh, LOG_INFO, "session opened (no details: out of memory)");
    }
    return PAM_SUCCESS;
}

int close_session_pipeline(pam_handle_t* pamh, int argc, const char** argv) {
    // Bad options were reported by open, on the same line of the same stack.
    const Options options = parse_options(argc, argv);
    PamLog log(pamh, options.debug);

    SessionLabel who{pam_item_text(pamh, PAM_USER), pam_item_text(pamh, PAM_SERVICE)};
    if (who.service.empty()) who.service = "?";

    const SessionState* state = find_session_state(pamh);
    if (state == nullptr) {
        // Open did nothing (empty plan, failure) or ran in another handle.
        log.debug("close for " + who.text() + ": no session state, nothing to do");
        return PAM_SUCCESS;
    }
    // The session closed is the one the state holds, whatever PAM_USER says now.
    who.user = state->user;

    auto closed = polyns::close_session(*state, log);
    forget_session_state(pamh);
    if (!closed) {
        report_failure(log, who, "close", closed.error());
        return PAM_SESSION_ERR;
    }
    log.debug("close for " + who.text() + ": done");
    return PAM_SUCCESS;
}

}  // namespace

// The C ABI must not see an exception: each is logged with a fixed line (no
// allocation, it may be std::bad_alloc) and mapped to a PAM code.
int open_session(pam_handle_t* pamh, int argc, const char** argv) noexcept {
    try {
        return open_session_pipeline(pamh, argc, argv);
    } catch (const std::bad_alloc&) {
        log_fixed_line(pamh, LOG_ERR, "session open failed: out of memory");
        return PAM_BUF_ERR;
    } catch (const std::exception& e) {
        pam_syslog(pamh, LOG_ERR, "polyns: session open failed: internal error: %s", e.what());
        return PAM_SERVICE_ERR;
    } catch (...) {
        log_fixed_line(pamh, LOG_ERR, "session open failed: unknown internal error");
        return PAM_SERVICE_ERR;
    }
}

int close_session(pam_handle_t* pamh, int argc, const char** argv) noexcept {
    try {
        return close_session_pipeline(pamh, argc, argv);
    } catch (const std::bad_alloc&) {
        log_fixed_line(pamh, LOG_ERR, "session close failed: out of memory");
        return PAM_BUF_ERR;
    } catch (const std::exception& e) {
        pam_syslog(pamh, LOG_ERR, "polyns: session close failed: internal error: %s", e.what());
        return PAM_SERVICE_ERR;
    } catch (...) {
        log_fixed_line(pamh, LOG_ERR, "session close failed: unknown internal error");
        return PAM_SERVICE_ERR;
    }
}

}  // namespace polyns::pam
