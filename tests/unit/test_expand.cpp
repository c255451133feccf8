// $HOME $USER %{USER} %{UID} %{HOME} expansion and path normalisation.
#include <catch2/catch.hpp>

#include "expand.hpp"

using polyns::Identity;
using polyns::planner::expand_variables;
using polyns::planner::normalize_path;

namespace {

Identity alice() {
    Identity who;
    who.user = "alice";
    who.uid = 1001;
    who.gid = 1001;
    who.home = "/home/alice";
    return who;
}

std::string expand(const std::string& raw) {
    auto r = expand_variables(raw, alice());
    REQUIRE(r.ok());
    return r->text;
}

}  // namespace

TEST_CASE("every variable expands", "[expand]") {
    CHECK(expand("/tmp/user_tmpl/%{UID}") == "/tmp/user_tmpl/1001");
    CHECK(expand("/tmp/%{USER}/x") == "/tmp/alice/x");
    CHECK(expand("%{HOME}/tmp") == "/home/alice/tmp");
    CHECK(expand("$HOME/$USER.inst/inst-") == "/home/alice/alice.inst/inst-");
    CHECK(expand("/plain/path") == "/plain/path");
    CHECK(expand("") == "");
}

TEST_CASE("$HOME and $USER match as prefixes, as in Linux-PAM", "[expand]") {
    CHECK(expand("$HOMEdir") == "/home/alicedir");
    CHECK(expand("/x/$USERNAME") == "/x/aliceNAME");
    // any other $ stays literal
    CHECK(expand("/x/$OTHER/$") == "/x/$OTHER/$");
    CHECK(expand("/x/$$USER") == "/x/$alice");
    CHECK(expand("/x/%USER") == "/x/%USER");
}

TEST_CASE("unknown or unterminated %{...} is an error", "[expand]") {
    CHECK_FALSE(expand_variables("/tmp/%{UUID}", alice()).ok());
    CHECK_FALSE(expand_variables("/tmp/%{USER", alice()).ok());
    CHECK_FALSE(expand_variables("/tmp/%{}", alice()).ok());
}

TEST_CASE("identities that would change a path's shape are refused", "[expand]") {
    Identity who = alice();
    for (const char* bad : {"", ".", "..", "a/b"}) {
        who.user = bad;
        INFO(bad);
        CHECK_FALSE(expand_variables("/tmp/$USER", who).ok());
        CHECK_FALSE(expand_variables("/tmp/%{USER}", who).ok());
        // not used: no problem
        CHECK(expand_variables("/tmp/%{UID}", who).ok());
    }
    who = alice();
    who.home = "relative/home";
    CHECK_FALSE(expand_variables("$HOME", who).ok());
    who.home = "";
    CHECK_FALSE(expand_variables("%{HOME}/x", who).ok());
    CHECK(expand_variables("/tmp/x", who).ok());
}

TEST_CASE("uses_home says whether the home directory was used", "[expand]") {
    CHECK(expand_variables("$HOME/x", alice())->uses_home);
    CHECK(expand_variables("%{HOME}", alice())->uses_home);
    CHECK_FALSE(expand_variables("/tmp/$USER", alice())->uses_home);
}

TEST_CASE("names_instance: a per-user expansion in the last component, no trailing slash",
          "[expand]") {
    auto names = [](const std::string& raw) { return expand_variables(raw, alice())->names_instance; };
    CHECK(names("/tmp/user_tmpl/%{UID}"));
    CHECK(names("/tmp/user_tmpl/%{USER}"));
    CHECK(names("/tmp/user_tmpl/u_$USER"));
    CHECK(names("/tmp/user_tmpl/%{UID}-x"));
    CHECK_FALSE(names("/tmp/user_tmpl/%{UID}/"));
    CHECK_FALSE(names("/tmp/%{UID}/inst-"));
    CHECK_FALSE(names("/tmp/user_tmpl/"));
    CHECK_FALSE(names("/tmp/tmp-inst-"));
    CHECK_FALSE(names("$HOME"));
    CHECK_FALSE(names("%{HOME}"));
    CHECK_FALSE(names("$HOME/$USER.inst/inst-"));
    CHECK(names("%{HOME}/$USER.inst"));
}

TEST_CASE("normalize_path keeps absolute clean paths", "[expand]") {
    CHECK(normalize_path("/tmp", "p").value() == "/tmp");
    CHECK(normalize_path("/tmp/", "p").value() == "/tmp");
    CHECK(normalize_path("//tmp//user_tmpl///1001/", "p").value() == "/tmp/user_tmpl/1001");
    CHECK(normalize_path("/", "p").value() == "/");
    CHECK(normalize_path("///", "p").value() == "/");
    CHECK(normalize_path("/a..b/c.d/.e", "p").value() == "/a..b/c.d/.e");
}

TEST_CASE("normalize_path refuses relative paths and . or .. components", "[expand]") {
    for (const char* bad : {"", "tmp", "./tmp", "/tmp/..", "/tmp/../etc", "/tmp/./x", "/..",
                            "/.", "/tmp/x/.."}) {
        INFO(bad);
        auto r = normalize_path(bad, "polydir");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message().find("polydir") != std::string::npos);
    }
}

TEST_CASE("parent_dir, base_name and is_same_or_below", "[expand]") {
    using namespace polyns::planner;
    CHECK(parent_dir("/tmp/user_tmpl/1001") == "/tmp/user_tmpl");
    CHECK(parent_dir("/tmp") == "/");
    CHECK(base_name("/tmp/user_tmpl/1001") == "1001");
    CHECK(is_same_or_below("/tmp", "/tmp"));
    CHECK(is_same_or_below("/tmp/x", "/tmp"));
    CHECK(is_same_or_below("/tmp", "/"));
    CHECK_FALSE(is_same_or_below("/tmpx", "/tmp"));
    CHECK_FALSE(is_same_or_below("/var/tmp", "/tmp"));
    CHECK_FALSE(is_same_or_below("/tmp", "/tmp/x"));
}
