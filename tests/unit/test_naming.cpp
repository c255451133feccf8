// Instance names exactly as Linux-PAM 1.5.2's poly_name() makes them.
// Reference digests come from md5sum(1), e.g. `printf alice | md5sum`.
#include <catch2/catch.hpp>

#include <string>

#include "naming.hpp"

using namespace polyns::planner;
using polyns::InstanceKind;

TEST_CASE("md5_hex is lowercase hex MD5", "[naming]") {
    CHECK(md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(md5_hex("alice") == "6384e2b2184bcbf58eccf10ca7a6563c");
    CHECK(md5_hex("root") == "63a9f0ea7bb98050796b649e85481845");
}

TEST_CASE("short names are used as they are", "[naming]") {
    CHECK(hashed_differentiation("alice", false) == "alice");
    const std::string eighty(80, 'b');
    CHECK(hashed_differentiation(eighty, false) == eighty);
}

TEST_CASE("gen_hash replaces the whole name by its md5", "[naming]") {
    CHECK(hashed_differentiation("alice", true) == "6384e2b2184bcbf58eccf10ca7a6563c");
    CHECK(hashed_differentiation(std::string(100, 'u'), true) ==
          "9d3415dc51fca22538843a18baeb055b");
}

TEST_CASE("names over NAMESPACE_MAX_DIR_LEN keep 47 chars + '_' + md5", "[naming]") {
    // "%.*s_%s" with precision 80 - 1 - 32 = 47: 80 characters in all.
    const std::string long_name(100, 'u');
    const std::string hashed = hashed_differentiation(long_name, false);
    CHECK(hashed == std::string(47, 'u') + "_9d3415dc51fca22538843a18baeb055b");
    CHECK(hashed.size() == 80);

    const std::string just_over(81, 'a');
    CHECK(hashed_differentiation(just_over, false) ==
          std::string(47, 'a') + "_986e6938ed767a8ae9530eef54bfe5f1");
}

TEST_CASE("Linux-PAM rule: prefix + differentiation string", "[naming]") {
    auto loc = locate_named_instance("/tmp/user_tmpl/", false, "alice", false);
    REQUIRE(loc.ok());
    CHECK(loc->kind == InstanceKind::Named);
    CHECK(loc->instance == "/tmp/user_tmpl/alice");
    CHECK(loc->template_dir == "/tmp/user_tmpl");
    CHECK(loc->instance_name == "alice");
    CHECK_FALSE(loc->hashed);

    // The man page's "/tmp-inst/" and "$HOME/$USER.inst/inst-" prefixes.
    CHECK(locate_named_instance("/tmp-inst/", false, "alice", false)->instance ==
          "/tmp-inst/alice");
    auto home = locate_named_instance("/home/alice/alice.inst/inst-", false, "alice", false);
    CHECK(home->instance == "/home/alice/alice.inst/inst-alice");
    CHECK(home->template_dir == "/home/alice/alice.inst");
    CHECK(home->instance_name == "inst-alice");

    auto hashed = locate_named_instance("/tmp-inst/", false, "alice", true);
    CHECK(hashed->instance == "/tmp-inst/6384e2b2184bcbf58eccf10ca7a6563c");
    CHECK(hashed->hashed);
}

TEST_CASE("a user name never names anything but one instance in the template", "[naming]") {
    // '/' would leave the template or alias another user's instance.
    for (const char* name : {"a/b", "alice/", "/etc", "../../etc", "x/../.."}) {
        CAPTURE(name);
        CHECK_FALSE(locate_named_instance("/tmp/inst/", false, name, false).ok());
    }
    CHECK_FALSE(locate_named_instance("/tmp/inst/", false, "..", false).ok());
    CHECK_FALSE(locate_named_instance("/tmp/inst/", false, ".", false).ok());
    // gen_hash makes any name one component.
    CHECK(locate_named_instance("/tmp/inst/", false, "a/b", true)->template_dir == "/tmp/inst");
    // Spaces and dots inside a name are fine, and stay in the template.
    CHECK(locate_named_instance("/tmp/inst/", false, "al ice", false)->instance == "/tmp/inst/al ice");
    CHECK(locate_named_instance("/tmp/inst/inst-", false, "..", false)->instance == "/tmp/inst/inst-..");
}

TEST_CASE("explicit form: the prefix is the instance", "[naming]") {
    auto loc = locate_named_instance("/tmp/user_tmpl/1001", true, "alice", false);
    REQUIRE(loc.ok());
    CHECK(loc->instance == "/tmp/user_tmpl/1001");
    CHECK(loc->template_dir == "/tmp/user_tmpl");
    CHECK(loc->instance_name == "1001");
    // gen_hash has no differentiation string to hash here
    CHECK(locate_named_instance("/tmp/user_tmpl/1001", true, "alice", true)->instance ==
          "/tmp/user_tmpl/1001");
}

TEST_CASE("instance paths are normalised and checked", "[naming]") {
    CHECK(locate_named_instance("//tmp//inst//", false, "alice", false)->instance ==
          "/tmp/inst/alice");
    CHECK_FALSE(locate_named_instance("tmp/inst/", false, "alice", false).ok());
    CHECK_FALSE(locate_named_instance("/tmp/../etc/", false, "alice", false).ok());
    // a component longer than NAME_MAX
    CHECK_FALSE(locate_named_instance("/tmp/" + std::string(251, 'x'), false, "alice", false).ok());
    // ... unless the long part is the user name, which is hashed down to 80
    CHECK(locate_named_instance("/tmp/", false, std::string(300, 'u'), false).ok());
}

TEST_CASE("tmpdir: template = the prefix's directory, name prefix = its last part",
          "[naming]") {
    auto dir = locate_unique_instance("/tmp/tmp-inst/");
    REQUIRE(dir.ok());
    CHECK(dir->kind == InstanceKind::Unique);
    CHECK(dir->template_dir == "/tmp/tmp-inst");
    CHECK(dir->instance_name == "");
    CHECK(dir->instance.empty());

    auto named = locate_unique_instance("/tmp/tmp-inst/sess-");
    CHECK(named->template_dir == "/tmp/tmp-inst");
    CHECK(named->instance_name == "sess-");

    auto top = locate_unique_instance("/inst");
    CHECK(top->template_dir == "/");
    CHECK(top->instance_name == "inst");

    CHECK_FALSE(locate_unique_instance("relative/").ok());
}
