#include "host_files.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "polyns/pam_service.hpp"
#include "polyns/sys/trusted_file.hpp"

namespace polyns::cli {
namespace {

std::vector<std::string> fields_of(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false, any = false;
    for (char c : line) {
        if (c == '"') {
            quoted = !quoted;
            any = true;
            continue;
        }
        if (!quoted && (c == ' ' || c == '\t')) {
            if (any) out.push_back(cur);
            cur.clear();
            any = false;
            continue;
        }
        cur += c;
        any = true;
    }
    if (any) out.push_back(cur);
    return out;
}

bool is_creation(char t) { return t == 'd' || t == 'D' || t == 'v' || t == 'q' || t == 'Q'; }

bool under(const std::string& path, const std::string& dir) {
    if (path == dir) return true;
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

}  // namespace

std::vector<TmpfilesLine> read_tmpfiles(const std::string& root_prefix) {
    const char* dirs[] = {"/etc/tmpfiles.d", "/run/tmpfiles.d", "/usr/local/lib/tmpfiles.d", "/usr/lib/tmpfiles.d"};
    std::map<std::string, std::string> files;  // name -> path (first directory wins)
    for (const char* d : dirs) {
        auto names = sys::list_trusted_dir(root_prefix + d, ".conf", false);
        if (!names) continue;
        for (const auto& n : *names)
            if (!files.count(n)) files[n] = root_prefix + d + "/" + n;
    }
    std::vector<TmpfilesLine> out;
    for (const auto& [name, path] : files) {
        auto text = sys::read_trusted_file(path, false);
        if (!text) continue;  // /dev/null masks are empty files or unreadable: nothing
        std::istringstream in(*text);
        std::string raw;
        unsigned n = 0;
        while (std::getline(in, raw)) {
            ++n;
            auto f = fields_of(raw);
            if (f.size() < 2 || f[0].empty() || f[0][0] == '#') continue;
            TmpfilesLine l;
            l.type = f[0][0];
            l.path = f[1];
            while (l.path.size() > 1 && l.path.back() == '/') l.path.pop_back();
            l.mode = f.size() > 2 ? f[2] : "-";
            l.user = f.size() > 3 ? f[3] : "-";
            l.group = f.size() > 4 ? f[4] : "-";
            l.age = f.size() > 5 ? f[5] : "-";
            l.file = path;
            l.line = n;
            out.push_back(std::move(l));
        }
    }
    return out;
}

bool TemplateTmpfiles::ok() const { return problem().empty(); }

std::string TemplateTmpfiles::problem() const {
    if (!create) return "no tmpfiles.d line creates it at boot";
    if (create->user != "root" || create->group != "root")
        return fmt::format("{}:{} creates it owned by {}:{}, not root:root", create->file, create->line, create->user,
                           create->group);
    if (create->age != "-" && !create->age.empty())
        return fmt::format("{}:{} ages it ({})", create->file, create->line, create->age);
    if (!exclude) return "no x line excludes it and its instances from ageing";
    return {};
}

TemplateTmpfiles tmpfiles_for(const std::vector<TmpfilesLine>& lines, const std::string& template_dir) {
    TemplateTmpfiles out;
    for (const auto& l : lines) {
        if (is_creation(l.type) && l.path == template_dir && !out.create) out.create = l;
        // x excludes the path and what is below it; a parent's x covers it too.
        if (l.type == 'x' && under(template_dir, l.path) && !out.exclude) out.exclude = l;
    }
    return out;
}

std::string tmpfiles_text(const std::vector<std::pair<std::string, std::string>>& templates_and_modes) {
    std::string out =
        "# Written by `polyns setup` from the namespace configuration: the templates\n"
        "# (instance parents) pam_polyns.so uses, recreated root-owned at boot and\n"
        "# never aged (\"x\": neither they nor the users' instances in them).\n"
        "# `polyns setup` rewrites this file; `polyns audit` checks it.\n";
    for (const auto& [path, mode] : templates_and_modes) out += fmt::format("d {} {} root root -\n", path, mode);
    for (const auto& [path, mode] : templates_and_modes) out += fmt::format("x {}\n", path);
    return out;
}

// --- PAM ----------------------------------------------------------------------

namespace {

void walk(const std::string& pam_dir, const std::string& service, int depth, std::set<std::string>& visiting,
          PamStack& stack) {
    const std::string path = !service.empty() && service.front() == '/' ? service : pam_dir + "/" + service;
    if (depth > 16 || visiting.count(path)) {
        stack.problems.push_back("include loop or too deep at " + path);
        return;
    }
    auto text = sys::read_trusted_file(path, false);
    if (!text) {
        if (depth == 0) return;
        stack.problems.push_back("cannot read " + path + ": " + text.error().message());
        return;
    }
    if (depth == 0) stack.exists = true;
    visiting.insert(path);
    for (const PamServiceEntry& e : parse_pam_service(*text)) {
        if (e.kind == PamServiceEntry::Kind::AtInclude ||
            (e.kind == PamServiceEntry::Kind::Include && e.type == "session")) {
            walk(pam_dir, e.target, depth + 1, visiting, stack);
            continue;
        }
        if (e.kind == PamServiceEntry::Kind::Module && e.type == "session") {
            PamModuleUse u;
            u.module = e.module;
            u.file = path;
            u.line = e.line;
            u.control = e.control;
            u.args = e.args;
            stack.session.push_back(std::move(u));
        }
    }
    visiting.erase(path);
}

}  // namespace

PamStack read_session_stack(const std::string& pam_dir, const std::string& service) {
    PamStack stack;
    stack.service = service;
    std::set<std::string> visiting;
    walk(pam_dir, service, 0, visiting, stack);
    return stack;
}

bool is_module(const PamModuleUse& use, const std::string& name) {
    std::string base = use.module.substr(use.module.rfind('/') == std::string::npos ? 0 : use.module.rfind('/') + 1);
    return base == name + ".so" || base == name;
}

}  // namespace polyns::cli
