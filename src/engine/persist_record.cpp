// The pin's key and record (pure string work, unit-tested).
#include <charconv>
#include <cstdio>
#include <string_view>

#include "polyns/persist.hpp"

namespace polyns {
namespace {

// Length-prefixed, so no value can pass for another field.
void field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ' ';
    out += std::to_string(value.size());
    out += ':';
    out += value;
    out += '\n';
}

void field(std::string& out, std::string_view name, unsigned long long value) {
    field(out, name, std::to_string(value));
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
    unsigned long long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return false;
    out = static_cast<T>(value);
    return true;
}

std::string_view next_line(std::string_view& text) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    return line;
}

// "a b c" -> the n-th word.
std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    while (!line.empty()) {
        std::size_t sp = line.find(' ');
        out.push_back(line.substr(0, sp));
        line.remove_prefix(sp == std::string_view::npos ? line.size() : sp + 1);
    }
    return out;
}

Error bad_record(const std::string& why) {
    return make_error("read the pin's record", "", "", EINVAL, why);
}

}  // namespace

std::string persist_key(const Plan& plan) {
    std::string out;
    field(out, "user", plan.identity.user);
    field(out, "uid", plan.identity.uid);
    field(out, "gid", plan.identity.gid);
    field(out, "home", plan.identity.home);
    field(out, "mount_private", plan.mount_private);
    field(out, "ignore_instance_parent_mode", plan.ignore_instance_parent_mode);
    field(out, "init_timeout", plan.init_timeout_seconds);
    field(out, "selinux", plan.selinux);
    for (const MountStep& s : plan.steps) {
        field(out, "polydir", s.polydir);
        field(out, "method", method_name(s.method));
        field(out, "kind", static_cast<unsigned>(s.kind));
        field(out, "instance_kind", static_cast<unsigned>(s.instance_kind));
        field(out, "template", s.template_dir);
        field(out, "instance_name", s.instance_name);
        field(out, "instance", s.instance);
        field(out, "mirror", s.mirror_polydir);
        field(out, "owner", std::to_string(s.instance_owner.uid) + ":" + std::to_string(s.instance_owner.gid) + ":" +
                                std::to_string(s.instance_owner.mode));
        if (s.create_polydir) {
            field(out, "create", std::to_string(s.create_polydir->mode ? *s.create_polydir->mode : 0) + ":" +
                                     std::to_string(s.create_polydir->uid) + ":" +
                                     std::to_string(s.create_polydir->gid));
        }
        field(out, "mount_flags", s.mount_flags);
        field(out, "fs_options", s.fs_options);
        field(out, "init", s.init_script ? *s.init_script : std::string("-"));
        field(out, "user_root", s.user_controlled_root);
        // SELinux: sessions in other contexts (another MLS level) never share a namespace.
        if (s.selinux) {
            field(out, "instance_context", s.selinux->instance_context);
            field(out, "user_context", s.selinux->user_context);
            field(out, "create_context", s.selinux->create_context);
        }
    }
    return out;
}

std::string format_pin_record(const PinRecord& r) {
    std::string out = "polyns-pin 1\n";
    out += "ns " + std::to_string(r.ns.dev) + " " + std::to_string(r.ns.ino) + "\n";
    out += "mounts " + std::to_string(r.mounts.size()) + "\n";
    for (const auto& m : r.mounts)
        out += std::to_string(m.mount_id) + " " + std::to_string(m.dev) + " " + std::to_string(m.ino) + "\n";
    out += "key\n";
    out += r.key;
    return out;
}

Result<PinRecord> parse_pin_record(const std::string& all) {
    std::string_view text = all;
    PinRecord r;
    if (next_line(text) != "polyns-pin 1") return bad_record("unknown format");
    auto ns = words(next_line(text));
    if (ns.size() != 3 || ns[0] != "ns" || !parse_number(ns[1], r.ns.dev) || !parse_number(ns[2], r.ns.ino))
        return bad_record("bad ns line");
    auto count = words(next_line(text));
    std::size_t n = 0;
    if (count.size() != 2 || count[0] != "mounts" || !parse_number(count[1], n) || n > 4096)
        return bad_record("bad mounts line");
    for (std::size_t i = 0; i < n; ++i) {
        auto w = words(next_line(text));
        PinRecord::Mounted m;
        if (w.size() != 3 || !parse_number(w[0], m.mount_id) || !parse_number(w[1], m.dev) ||
            !parse_number(w[2], m.ino))
            return bad_record("bad mount line");
        r.mounts.push_back(m);
    }
    if (next_line(text) != "key") return bad_record("no key");
    r.key = std::string(text);
    return r;
}

}  // namespace polyns
