// Reading pam.d service files' text for `polyns plan --service`.
#include <catch2/catch.hpp>

#include "polyns/pam_service.hpp"

using polyns::PamServiceEntry;
using polyns::parse_pam_service;

TEST_CASE("module lines with plain and bracketed arguments", "[pam_service]") {
    const auto entries = parse_pam_service(
        "# comment\n"
        "\n"
        "auth     required  pam_unix.so nullok\n"
        "session  [success=ok default=bad]  /lib/security/pam_polyns.so  debug [conf=/etc/a b.conf] gen_hash # trailing\n"
        "-session optional  pam_systemd.so\n");
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].type == "auth");
    CHECK(entries[0].line == 3);
    const PamServiceEntry& s = entries[1];
    CHECK(s.kind == PamServiceEntry::Kind::Module);
    CHECK(s.type == "session");
    CHECK(s.control == "[success=ok default=bad]");
    CHECK(s.module == "/lib/security/pam_polyns.so");
    CHECK(s.args == std::vector<std::string>{"debug", "conf=/etc/a b.conf", "gen_hash"});
    CHECK(s.line == 4);
    CHECK(entries[2].type == "session");  // leading '-' dropped
    CHECK(polyns::is_polyns_module(s.module));
    CHECK(polyns::is_polyns_module("pam_polyns.so"));
    CHECK_FALSE(polyns::is_polyns_module("pam_namespace.so"));
    CHECK_FALSE(polyns::is_polyns_module("pam_polyns.so.bak"));
}

TEST_CASE("includes, substacks and @include", "[pam_service]") {
    const auto entries = parse_pam_service(
        "@include common-session\n"
        "session include system-auth\n"
        "session substack password-auth\n");
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].kind == PamServiceEntry::Kind::AtInclude);
    CHECK(entries[0].target == "common-session");
    CHECK(entries[1].kind == PamServiceEntry::Kind::Include);
    CHECK(entries[1].type == "session");
    CHECK(entries[1].target == "system-auth");
    CHECK(entries[2].kind == PamServiceEntry::Kind::Include);
    CHECK(entries[2].target == "password-auth");
}

TEST_CASE("continuations, escaped brackets and junk", "[pam_service]") {
    const auto entries = parse_pam_service(
        "session required \\\n   pam_polyns.so \\\n   mount_private\n"
        "session required pam_polyns.so [a\\]b]\n"
        "garbage\n"
        "@include\n"
        "session required\n");
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].module == "pam_polyns.so");
    CHECK(entries[0].args == std::vector<std::string>{"mount_private"});
    CHECK(entries[0].line == 1);
    CHECK(entries[1].line == 4);
    CHECK(entries[1].args == std::vector<std::string>{"a]b"});
}

TEST_CASE("pam_selinux session lines that open", "[pam_service]") {
    const auto entries = parse_pam_service(
        "session required pam_selinux.so open env_params\n"
        "session required /lib/security/pam_selinux.so\n"
        "session required pam_selinux.so close\n"
        "session required pam_selinux.so close open\n"
        "auth required pam_selinux.so open\n"
        "session required pam_polyns.so open\n");
    REQUIRE(entries.size() == 6);
    CHECK(is_pam_selinux_open(entries[0]));
    CHECK(is_pam_selinux_open(entries[1]));
    CHECK_FALSE(is_pam_selinux_open(entries[2]));
    CHECK(is_pam_selinux_open(entries[3]));
    CHECK_FALSE(is_pam_selinux_open(entries[4]));
    CHECK_FALSE(is_pam_selinux_open(entries[5]));
}
