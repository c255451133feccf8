// The loader: main file, vendor fallback, drop-ins from both dirs, ordering,
// override by name, only_file, and trust refusals. Everything happens in a
// fresh mkdtemp() tree under /tmp; the host's /etc/security is never read.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config_test_util.hpp"
#include "polyns/config.hpp"
#include "polyns_build_config.h"

using namespace polyns;
using polyns::test::all_diagnostics;

namespace {

bool running_as_root() { return ::geteuid() == 0; }

// etc/ and vendor/ under a private temporary directory, removed afterwards.
class ConfigTree {
public:
    ConfigTree() {
        std::string pattern = "/tmp/polyns-loader-test.XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        root_ = pattern;
        // mkdtemp makes 0700; trust checks want no group/other write, which holds.
        REQUIRE(::chmod(root_.c_str(), 0755) == 0);
        mkdir("etc");
        mkdir("vendor");
    }
    ~ConfigTree() {
        std::error_code ignored;
        std::filesystem::remove_all(root_, ignored);
    }
    ConfigTree(const ConfigTree&) = delete;
    ConfigTree& operator=(const ConfigTree&) = delete;

    std::string path(const std::string& rel) const { return root_ + "/" + rel; }

    void mkdir(const std::string& rel) const {
        REQUIRE(::mkdir(path(rel).c_str(), 0755) == 0);
        REQUIRE(::chmod(path(rel).c_str(), 0755) == 0);  // whatever the umask
    }

    void write(const std::string& rel, const std::string& text) const {
        {
            std::ofstream out(path(rel), std::ios::binary | std::ios::trunc);
            out << text;
            REQUIRE(out.good());
        }
        REQUIRE(::chmod(path(rel).c_str(), 0644) == 0);
    }

    LoadOptions options() const {
        LoadOptions o;
        o.security_dir = path("etc");
        o.vendor_dir = path("vendor");
        // Files we create are ours; only root's are trusted.
        o.check_trust = running_as_root();
        return o;
    }

private:
    std::string root_;
};

std::vector<std::string> polydirs(const Config& c) {
    std::vector<std::string> out;
    for (const Rule& r : c.rules) out.push_back(r.polydir);
    return out;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("loader: default options name the configured directories", "[loader]") {
    const LoadOptions o = default_load_options();
    CHECK(o.security_dir == POLYNS_SECURITYDIR);
    CHECK(o.vendor_dir == POLYNS_VENDORDIR);
    CHECK_FALSE(o.only_file.has_value());
    CHECK(o.check_trust);
}

TEST_CASE("loader: reads the main file", "[loader]") {
    ConfigTree tree;
    tree.write("etc/namespace.conf", "/tmp /tmp-inst/ user root\n");
    tree.write("vendor/namespace.conf", "/vendor /v/ user\n");
    const Config c = load_config(tree.options());
    INFO(all_diagnostics(c));
    CHECK(c.diagnostics.empty());
    CHECK(polydirs(c) == Strings{"/tmp"});  // the vendor file is only a fallback
    CHECK(c.files == Strings{tree.path("etc/namespace.conf")});
    CHECK(c.rules[0].loc.file == tree.path("etc/namespace.conf"));
}

TEST_CASE("loader: falls back to the vendor file when the main file is absent", "[loader]") {
    ConfigTree tree;
    tree.write("vendor/namespace.conf", "/vendor /v/ user\n");
    const Config c = load_config(tree.options());
    CHECK(c.diagnostics.empty());
    CHECK(polydirs(c) == Strings{"/vendor"});
    CHECK(c.files == Strings{tree.path("vendor/namespace.conf")});
}

TEST_CASE("loader: no main file and no vendor file is an empty config", "[loader]") {
    ConfigTree tree;
    const Config c = load_config(tree.options());
    CHECK(c.rules.empty());
    CHECK(c.diagnostics.empty());
    CHECK(c.files.empty());

    LoadOptions nowhere;
    nowhere.security_dir = tree.path("does-not-exist");
    nowhere.vendor_dir = tree.path("neither");
    CHECK(load_config(nowhere).diagnostics.empty());
}

TEST_CASE("loader: drop-ins of both dirs, sorted by name, /etc overriding vendor", "[loader]") {
    ConfigTree tree;
    tree.mkdir("etc/namespace.d");
    tree.mkdir("vendor/namespace.d");
    tree.write("etc/namespace.conf", "/main /m/ user\n");
    tree.write("etc/namespace.d/10-a.conf", "/a /a/ user\n");
    tree.write("etc/namespace.d/30-c.conf", "/c-etc /c/ user\n");
    tree.write("etc/namespace.d/notes.txt", "not a config\n");
    tree.write("etc/namespace.d/.hidden.conf", "/hidden /h/ user\n");
    tree.write("vendor/namespace.d/05-first.conf", "/first /f/ user\n");
    tree.write("vendor/namespace.d/20-b.conf", "/b /b/ user\n");
    tree.write("vendor/namespace.d/30-c.conf", "/c-vendor /c/ user\n");
    const Config c = load_config(tree.options());
    INFO(all_diagnostics(c));
    CHECK(c.diagnostics.empty());
    CHECK(polydirs(c) == Strings{"/main", "/first", "/a", "/b", "/c-etc"});
    CHECK(c.files == Strings{tree.path("etc/namespace.conf"),
                             tree.path("vendor/namespace.d/05-first.conf"),
                             tree.path("etc/namespace.d/10-a.conf"),
                             tree.path("vendor/namespace.d/20-b.conf"),
                             tree.path("etc/namespace.d/30-c.conf")});
}

TEST_CASE("loader: drop-ins are read with the vendor main file too", "[loader]") {
    ConfigTree tree;
    tree.mkdir("vendor/namespace.d");
    tree.write("vendor/namespace.conf", "/vendor /v/ user\n");
    tree.write("vendor/namespace.d/a.conf", "/a /a/ user\n");
    CHECK(polydirs(load_config(tree.options())) == Strings{"/vendor", "/a"});
}

TEST_CASE("loader: diagnostics name the file they come from", "[loader]") {
    ConfigTree tree;
    tree.mkdir("etc/namespace.d");
    tree.write("etc/namespace.conf", "/tmp /x/ level:level,root\n");
    tree.write("etc/namespace.d/b.conf", "\n/bad /x/ bogus\n");
    const Config c = load_config(tree.options());
    REQUIRE(c.diagnostics.size() == 2);
    CHECK(c.diagnostics[0].loc.file == tree.path("etc/namespace.conf"));
    CHECK(c.diagnostics[0].severity == Severity::Warning);
    CHECK(c.diagnostics[1].loc.file == tree.path("etc/namespace.d/b.conf"));
    CHECK(c.diagnostics[1].loc.line == 2);
    CHECK(c.diagnostics[1].severity == Severity::Error);
    CHECK(polydirs(c) == Strings{"/tmp"});
}

TEST_CASE("loader: only_file reads exactly that file", "[loader]") {
    ConfigTree tree;
    tree.mkdir("etc/namespace.d");
    tree.write("etc/namespace.conf", "/main /m/ user\n");
    tree.write("etc/namespace.d/a.conf", "/a /a/ user\n");
    tree.write("other.conf", "/other /o/ user\n");
    LoadOptions o = tree.options();
    o.only_file = tree.path("other.conf");
    Config c = load_config(o);
    CHECK(c.diagnostics.empty());
    CHECK(polydirs(c) == Strings{"/other"});
    CHECK(c.files == Strings{tree.path("other.conf")});

    // The admin named it: a missing file is an error, not an empty config.
    o.only_file = tree.path("missing.conf");
    c = load_config(o);
    REQUIRE(c.diagnostics.size() == 1);
    CHECK(c.diagnostics[0].severity == Severity::Error);
    CHECK(c.diagnostics[0].loc.file == tree.path("missing.conf"));
    CHECK(c.diagnostics[0].loc.line == 0);
    CHECK_THAT(c.diagnostics[0].message, Catch::Contains("ENOENT"));
    CHECK_FALSE(c.diagnostics[0].hint.empty());
    CHECK(c.rules.empty());
}

TEST_CASE("loader: an unreadable drop-in is an error; the others still load", "[loader]") {
    ConfigTree tree;
    tree.mkdir("etc/namespace.d");
    tree.write("etc/namespace.d/a.conf", "/a /a/ user\n");
    tree.mkdir("etc/namespace.d/b.conf");  // a directory where a file should be
    REQUIRE(::mkfifo(tree.path("etc/namespace.d/c.conf").c_str(), 0644) == 0);  // must not hang
    tree.write("etc/namespace.d/d.conf", "/d /d/ user\n");
    const Config c = load_config(tree.options());
    CHECK(polydirs(c) == Strings{"/a", "/d"});
    REQUIRE(c.error_count() == 2);
    CHECK(c.diagnostics[0].loc.file == tree.path("etc/namespace.d/b.conf"));
    CHECK(c.diagnostics[1].loc.file == tree.path("etc/namespace.d/c.conf"));
    for (const Diagnostic& d : c.diagnostics) {
        CHECK_FALSE(d.hint.empty());
        CHECK_THAT(format_diagnostic(d), Catch::Contains(d.loc.file + ": error: "));
    }
}

TEST_CASE("loader: refuses a group- or world-writable config file", "[loader][trust]") {
    if (!running_as_root()) {
        WARN("trust refusals need root to create root-owned files; skipped");
        return;
    }
    ConfigTree tree;
    tree.write("etc/namespace.conf", "/tmp /x/ user\n");
    tree.write("vendor/namespace.conf", "/vendor /v/ user\n");
    const std::string file = tree.path("etc/namespace.conf");

    for (mode_t mode : {mode_t{0664}, mode_t{0646}, mode_t{0666}}) {
        REQUIRE(::chmod(file.c_str(), mode) == 0);
        const Config c = load_config(tree.options());
        REQUIRE(c.diagnostics.size() == 1);
        const Diagnostic& d = c.diagnostics[0];
        CHECK(d.severity == Severity::Error);
        CHECK(d.loc.file == file);
        CHECK_THAT(d.message, Catch::Contains(file));
        CHECK_THAT(d.message, Catch::Contains("writable by group or other"));
        CHECK(d.hint == "chmod go-w " + file);
        // Neither its rules nor the vendor fallback: the file exists, it is untrusted.
        CHECK(c.rules.empty());
        CHECK(c.files.empty());
    }

    LoadOptions relaxed = tree.options();
    relaxed.check_trust = false;
    CHECK(polydirs(load_config(relaxed)) == Strings{"/tmp"});
}

TEST_CASE("loader: refuses a config file not owned by root", "[loader][trust]") {
    if (!running_as_root()) {
        WARN("trust refusals need root to chown files; skipped");
        return;
    }
    ConfigTree tree;
    tree.mkdir("etc/namespace.d");
    tree.write("etc/namespace.conf", "/tmp /x/ user\n");
    tree.write("etc/namespace.d/a.conf", "/a /a/ user\n");
    tree.write("etc/namespace.d/b.conf", "/b /b/ user\n");
    const std::string file = tree.path("etc/namespace.d/a.conf");
    REQUIRE(::chown(file.c_str(), 1234, 1234) == 0);
    const Config c = load_config(tree.options());
    REQUIRE(c.diagnostics.size() == 1);
    const Diagnostic& d = c.diagnostics[0];
    CHECK(d.loc.file == file);
    CHECK_THAT(d.message, Catch::Contains("owned by uid 1234, not root"));
    CHECK(d.hint == "chown root:root " + file);
    CHECK(polydirs(c) == Strings{"/tmp", "/b"});  // the others still load

    LoadOptions o = tree.options();
    o.only_file = file;
    CHECK(load_config(o).has_errors());
}

TEST_CASE("loader: refuses an untrusted drop-in directory", "[loader][trust]") {
    if (!running_as_root()) {
        WARN("trust refusals need root; skipped");
        return;
    }
    ConfigTree tree;
    tree.mkdir("etc/namespace.d");
    tree.mkdir("vendor/namespace.d");
    tree.write("etc/namespace.conf", "/tmp /x/ user\n");
    tree.write("etc/namespace.d/a.conf", "/a /a/ user\n");
    tree.write("vendor/namespace.d/v.conf", "/v /v/ user\n");
    const std::string dir = tree.path("etc/namespace.d");

    REQUIRE(::chmod(dir.c_str(), 01777) == 0);
    Config c = load_config(tree.options());
    REQUIRE(c.diagnostics.size() == 1);
    CHECK(c.diagnostics[0].loc.file == dir);
    CHECK_THAT(c.diagnostics[0].message, Catch::Contains("writable by group or other"));
    CHECK(c.diagnostics[0].hint == "chmod go-w " + dir);
    CHECK(polydirs(c) == Strings{"/tmp", "/v"});  // nothing from the refused dir

    REQUIRE(::chmod(dir.c_str(), 0755) == 0);
    REQUIRE(::chown(tree.path("vendor/namespace.d").c_str(), 1234, 0) == 0);
    c = load_config(tree.options());
    REQUIRE(c.diagnostics.size() == 1);
    CHECK(c.diagnostics[0].loc.file == tree.path("vendor/namespace.d"));
    CHECK_THAT(c.diagnostics[0].message, Catch::Contains("owned by uid 1234"));
    CHECK(polydirs(c) == Strings{"/tmp", "/a"});
}
