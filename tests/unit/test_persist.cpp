// persist (issue 16), the pure parts: options, the planner's decision, the
// pin's key and record. No system access.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "polyns/config.hpp"
#include "polyns/persist.hpp"
#include "polyns/plan.hpp"

using namespace polyns;

namespace {

class NoNames : public NameResolver {
public:
    std::optional<uid_t> uid_of(const std::string& user) const override {
        return user == "root" ? std::optional<uid_t>(0) : std::nullopt;
    }
    std::optional<gid_t> gid_of(const std::string& group) const override {
        return group == "root" ? std::optional<gid_t>(0) : std::nullopt;
    }
};

Identity alice() {
    Identity who;
    who.user = "alice";
    who.uid = 1001;
    who.gid = 1001;
    who.home = "/home/alice";
    return who;
}

Options args(std::vector<const char*> argv) { return parse_options(static_cast<int>(argv.size()), argv.data()); }

Plan plan_for(const std::string& conf, const Options& options, const Identity& who = alice()) {
    Config config = parse_config_text(conf, "namespace.conf");
    REQUIRE(config.error_count() == 0);
    NoNames names;
    PlanContext context;
    context.security_dir = "/etc/security";
    auto plan = make_plan(config, who, options, names, context);
    REQUIRE(plan);
    return *plan;
}

const char* kConf = "/tmp /tmp/user_tmpl/ user root\n/var/tmp /var/tmp/user_tmpl/ user root\n";

}  // namespace

TEST_CASE("persist and persist_clean are module options", "[persist]") {
    Options o = args({"persist"});
    CHECK(o.persist);
    CHECK_FALSE(o.persist_clean);
    CHECK(o.unknown.empty());
    o = args({"persist_clean"});
    CHECK(o.persist_clean);
    CHECK(options_to_args(o) == std::vector<std::string>{"persist_clean"});
    CHECK_FALSE(args({"persistent"}).persist);
}

TEST_CASE("the planner persists only what has no per-session meaning", "[persist]") {
    Plan plan = plan_for(kConf, args({"persist"}));
    CHECK(plan.persist);
    CHECK_FALSE(plan.persist_clean);
    CHECK(plan.notices.empty());

    CHECK(plan_for(kConf, args({"persist_clean"})).persist_clean);
    CHECK_FALSE(plan_for(kConf, args({})).persist);

    Plan su = plan_for(kConf, args({"persist", "unmnt_remnt"}));
    CHECK_FALSE(su.persist);
    REQUIRE(su.notices.size() == 1);
    CHECK_THAT(su.notices[0], Catch::Contains("unmnt_remnt"));

    Plan tmpdir = plan_for("/tmp /tmp/t/ tmpdir root\n/var/tmp /var/tmp/v/ user root\n", args({"persist"}));
    CHECK_FALSE(tmpdir.persist);
    REQUIRE(tmpdir.notices.size() == 1);
    CHECK_THAT(tmpdir.notices[0], Catch::Contains("tmpdir"));

    Plan tmpfs = plan_for("/tmp /tmp/t/ tmpfs root\n", args({"persist"}));
    CHECK(tmpfs.persist);

    Plan close = plan_for(kConf, args({"persist", "unmount_on_close"}));
    CHECK(close.persist);
    CHECK_FALSE(close.unmount_on_close);
    CHECK(close.notices.size() == 1);
}

TEST_CASE("the pin's key changes with everything that decides the mounts", "[persist]") {
    const Options o = args({"persist"});
    const std::string base = persist_key(plan_for(kConf, o));
    CHECK(base == persist_key(plan_for(kConf, o)));
    // A rule for someone else, a comment: the same key.
    CHECK(base == persist_key(plan_for(std::string(kConf) + "# note\n/srv /srv/t/ user ~bob\n", o)));
    // Her rules, her identity, options that change the plan: another key.
    CHECK(base != persist_key(plan_for("/tmp /tmp/user_tmpl/ user root\n", o)));
    CHECK(base != persist_key(plan_for("/tmp /tmp/other/ user root\n/var/tmp /var/tmp/user_tmpl/ user root\n", o)));
    CHECK(base != persist_key(plan_for(kConf, args({"persist", "mount_private"}))));
    CHECK(base != persist_key(plan_for(kConf, args({"persist", "instance_mode=mirror"}))));
    Identity renumbered = alice();
    renumbered.uid = 1005;
    CHECK(base != persist_key(plan_for(kConf, o, renumbered)));
    Identity moved = alice();
    moved.home = "/srv/home/alice";
    CHECK(base != persist_key(plan_for(kConf, o, moved)));
}

TEST_CASE("the pin's record reads back what was written, and nothing else", "[persist]") {
    PinRecord r;
    r.ns = {4, 4026532001};
    r.mounts = {{512, 2049, 131073}, {513, 2049, 131099}};
    r.key = persist_key(plan_for(kConf, args({"persist"})));
    auto back = parse_pin_record(format_pin_record(r));
    REQUIRE(back);
    CHECK(back->ns == r.ns);
    REQUIRE(back->mounts.size() == 2);
    CHECK(back->mounts[1].mount_id == 513);
    CHECK(back->mounts[1].ino == 131099);
    CHECK(back->key == r.key);

    CHECK_FALSE(parse_pin_record(""));
    CHECK_FALSE(parse_pin_record("polyns-pin 2\n"));
    CHECK_FALSE(parse_pin_record("polyns-pin 1\nns 4 x\nmounts 0\nkey\n"));
    CHECK_FALSE(parse_pin_record("polyns-pin 1\nns 4 5\nmounts 1\nkey\n"));
    CHECK_FALSE(parse_pin_record("polyns-pin 1\nns 4 5\nmounts 99999999\n"));
}
