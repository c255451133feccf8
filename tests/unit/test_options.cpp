// Module arguments: Linux-PAM names matched exactly, polyns's value options
// validated, bad values reported while the safe default is kept.
#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

#include "polyns/options.hpp"

using polyns::InstanceMode;
using polyns::Options;

namespace {

Options parse(std::initializer_list<const char*> args) {
    std::vector<const char*> argv(args);
    return polyns::parse_options(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("no arguments give the defaults", "[options]") {
    const Options o = parse({});
    CHECK_FALSE(o.debug);
    CHECK_FALSE(o.unmnt_remnt);
    CHECK_FALSE(o.gen_hash);
    CHECK_FALSE(o.conf);
    CHECK(o.instance_mode == InstanceMode::Private);
    CHECK(o.init_timeout_seconds == 30);
    CHECK(o.unknown.empty());
    CHECK(o.invalid.empty());
    CHECK(polyns::parse_options(0, nullptr).unknown.empty());
}

TEST_CASE("every Linux-PAM flag is recognised", "[options]") {
    const Options o = parse({"debug", "unmnt_remnt", "unmnt_only", "require_selinux", "gen_hash",
                             "ignore_config_error", "ignore_instance_parent_mode",
                             "unmount_on_close", "use_current_context", "use_default_context",
                             "mount_private"});
    CHECK(o.debug);
    CHECK(o.unmnt_remnt);
    CHECK(o.unmnt_only);
    CHECK(o.require_selinux);
    CHECK(o.gen_hash);
    CHECK(o.ignore_config_error);
    CHECK(o.ignore_instance_parent_mode);
    CHECK(o.unmount_on_close);
    CHECK(o.use_current_context);
    CHECK(o.use_default_context);
    CHECK(o.mount_private);
    CHECK(o.unknown.empty());
    CHECK(o.invalid.empty());
}

TEST_CASE("flags are matched exactly, not by prefix or case", "[options]") {
    const Options o = parse({"debugX", "deb", "DEBUG", "debug=1", "gen_hash2", "", "mount_private "});
    CHECK_FALSE(o.debug);
    CHECK_FALSE(o.gen_hash);
    CHECK_FALSE(o.mount_private);
    CHECK(o.unknown == std::vector<std::string>{"debugX", "deb", "DEBUG", "debug=1", "gen_hash2",
                                                "", "mount_private "});
}

TEST_CASE("conf= needs an absolute path without ..", "[options]") {
    CHECK(parse({"conf=/etc/security/other.conf"}).conf == std::string("/etc/security/other.conf"));

    const Options rel = parse({"conf=namespace.conf"});
    CHECK_FALSE(rel.conf);
    REQUIRE(rel.invalid.size() == 1);
    CHECK(rel.invalid[0].rfind("conf=namespace.conf", 0) == 0);

    CHECK_FALSE(parse({"conf="}).conf);
    CHECK(parse({"conf="}).invalid.size() == 1);
    CHECK_FALSE(parse({"conf=/etc/../tmp/x.conf"}).conf);
    CHECK(parse({"conf=/etc/../tmp/x.conf"}).invalid.size() == 1);
    // "conf" without '=' is not the option at all
    CHECK(parse({"conf"}).unknown == std::vector<std::string>{"conf"});
}

TEST_CASE("instance_mode= is private or mirror", "[options]") {
    CHECK(parse({"instance_mode=mirror"}).instance_mode == InstanceMode::Mirror);
    CHECK(parse({"instance_mode=mirror", "instance_mode=private"}).instance_mode ==
          InstanceMode::Private);
    const Options bad = parse({"instance_mode=Mirror"});
    CHECK(bad.instance_mode == InstanceMode::Private);
    CHECK(bad.invalid.size() == 1);
    CHECK(parse({"instance_mode="}).invalid.size() == 1);
}

TEST_CASE("init_timeout= takes 1..3600 seconds", "[options]") {
    CHECK(parse({"init_timeout=1"}).init_timeout_seconds == 1);
    CHECK(parse({"init_timeout=3600"}).init_timeout_seconds == 3600);
    CHECK(parse({"init_timeout=45"}).init_timeout_seconds == 45);
    for (const char* bad : {"init_timeout=0", "init_timeout=3601", "init_timeout=-5",
                            "init_timeout=10s", "init_timeout=", "init_timeout= 5",
                            "init_timeout=99999999999999999999", "init_timeout=0x10"}) {
        INFO(bad);
        const Options o = parse({bad});
        CHECK(o.init_timeout_seconds == 30);
        REQUIRE(o.invalid.size() == 1);
        CHECK(o.invalid[0].rfind(bad, 0) == 0);
    }
}

TEST_CASE("unknown arguments are collected in order", "[options]") {
    const Options o = parse({"debug", "use_first_pass", "nosuchthing=1", "gen_hash"});
    CHECK(o.debug);
    CHECK(o.gen_hash);
    CHECK(o.unknown == std::vector<std::string>{"use_first_pass", "nosuchthing=1"});
}

TEST_CASE("options_to_args round-trips", "[options]") {
    CHECK(polyns::options_to_args(Options{}).empty());
    const Options o = parse({"mount_private", "debug", "conf=/x.conf", "instance_mode=mirror",
                             "init_timeout=5", "gen_hash"});
    const std::vector<std::string> args = polyns::options_to_args(o);
    CHECK(args == std::vector<std::string>{"debug", "gen_hash", "mount_private", "conf=/x.conf",
                                           "instance_mode=mirror", "init_timeout=5"});
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    const Options again = polyns::parse_options(static_cast<int>(argv.size()), argv.data());
    CHECK(polyns::options_to_args(again) == args);
}
