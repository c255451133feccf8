// What polyns status and polyns gc know of the pins (persist): read from the
// namespace the pins live in, decided under the user's lock as the module
// takes it. Kept apart from persist.cpp so the admin tool links no session code.
#include <algorithm>
#include <charconv>
#include <ctime>
#include <string_view>

#include "polyns/persist.hpp"

namespace polyns {
namespace {

std::string record_name(const std::string& pin) { return pin + sys::pin_record_suffix; }
// The session count of the namespace `ns` pinned for `pin`.
std::string live_name(const std::string& pin, const sys::NamespaceId& ns) {
    return pin + ".live." + std::to_string(ns.ino);
}

// One pin as it stands (the caller holds UID.lock, or shows a snapshot).
PinStatus inspect_pin(int dir_fd, uid_t uid) {
    PinStatus st;
    st.uid = uid;
    const std::string pin = std::to_string(uid);
    std::optional<sys::NamespaceId> pinned;
    auto pin_fd = sys::open_pinned_namespace(dir_fd, pin);
    if (pin_fd) {
        st.pinned = true;
        if (auto id = sys::namespace_id(pin_fd->get()); id) pinned = *id;
        st.ns = pinned;
    } else if (pin_fd.error().err != ENOENT) {
        st.problem = pin_fd.error().message();
    }
    auto text = sys::read_small_file(dir_fd, record_name(pin), kMaxRecordSize);
    std::optional<PinRecord> record;
    if (!text) {
        if (st.problem.empty()) st.problem = text.error().message();
    } else if (*text) {
        auto parsed = parse_pin_record(**text);
        if (parsed) record = std::move(*parsed);
        else if (st.problem.empty()) st.problem = parsed.error().message();
    }
    st.recorded = record.has_value();
    if (auto mtime = sys::file_mtime(dir_fd, record_name(pin)); mtime && *mtime)
        st.age_seconds = static_cast<long long>(std::time(nullptr) - **mtime);
    if (st.problem.empty()) {
        if (st.pinned && !st.recorded) st.problem = "the pin has no record";
        else if (!st.pinned && st.recorded) st.problem = "the record has no pin";
        else if (pinned && record && record->ns != *pinned) st.problem = "the namespace pinned is not the one recorded";
    }
    if (pinned) {
        auto held = sys::sessions_held(dir_fd, live_name(pin, *pinned));
        st.sessions = held ? *held : true;  // unknown: as if held (never removed on a guess)
        auto procs = sys::other_process_in_namespace(*pinned, 0);
        st.processes = procs ? *procs : true;
    }
    return st;
}

// The pin directory, seen from the namespace the pins live in: elsewhere
// (a session's namespace) the pins are not there and would look broken.
Result<sys::UniqueFd> open_pins_at_home() {
    auto dir = sys::open_pin_directory(false);
    if (!dir) return dir.error();
    if (auto home = sys::check_pin_home(dir->get()); !home) return home.error();
    return dir;
}

}  // namespace

Result<std::vector<PinStatus>> list_pins() {
    std::vector<PinStatus> out;
    auto dir = open_pins_at_home();
    if (!dir) return dir.error().err == ENOENT ? Result<std::vector<PinStatus>>(out) : dir.error();
    auto names = sys::directory_names(dir->get());
    if (!names) return names.error();
    std::vector<uid_t> uids;
    for (const std::string& name : *names) {
        std::string_view digits = name;
        if (digits.size() > 4 && digits.substr(digits.size() - 4) == ".rec") digits.remove_suffix(4);
        unsigned long long uid = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), uid);
        if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty()) continue;
        uids.push_back(static_cast<uid_t>(uid));
    }
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    for (uid_t uid : uids) out.push_back(inspect_pin(dir->get(), uid));
    return out;
}

Result<bool> remove_stale_pin(uid_t uid, bool dry_run) {
    auto dir = open_pins_at_home();
    if (!dir) return dir.error().err == ENOENT ? Result<bool>(false) : dir.error();
    const std::string pin = std::to_string(uid);
    // The module's own lock: no session of the user opens or closes meanwhile.
    auto lock = sys::lock_in_directory(dir->get(), pin + ".lock");
    if (!lock) return lock.error();
    PinStatus st = inspect_pin(dir->get(), uid);
    if (!st.pinned && !st.recorded && st.problem.empty()) return false;
    // No session: what the module's last close would have done (processes
    // left behind keep the namespace, not the pin).
    if (st.sessions) return false;
    if (dry_run) return true;
    if (auto r = sys::unpin_user(dir->get(), pin, st.ns ? live_name(pin, *st.ns) : std::string()); !r)
        return r.error();
    return true;
}

}  // namespace polyns
