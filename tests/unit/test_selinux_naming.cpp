// level/context instance names and labels as pam_namespace's form_context()
// and poly_name() make them, and polyns's explicit form (the seed's
// /tmp/user_tmpl/%{UID}) with SELinux: pure string work, tested on any host.
// Reference digests from md5sum(1); the first one is also the directory
// Debian's pam_namespace.so created in the SELinux VM (tests/vm).
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "naming.hpp"
#include "polyns/config.hpp"
#include "polyns/plan.hpp"
#include "selinux_naming.hpp"

using namespace polyns;
using namespace polyns::planner;

TEST_CASE("context_range is everything after user:role:type", "[selinux]") {
    CHECK(context_range("system_u:object_r:tmp_t:s0") == "s0");
    CHECK(context_range("system_u:object_r:tmp_t:s0-s15:c0.c1023") == "s0-s15:c0.c1023");
    CHECK(context_range("staff_u:staff_r:staff_t:s0:c1.c3") == "s0:c1.c3");
    CHECK(context_range("system_u:object_r:tmp_t").empty());
}

TEST_CASE("level: the polydir's user:role:type with the user's whole range", "[selinux]") {
    CHECK(level_context("system_u:object_r:tmp_t:s0-s15:c0.c1023", "staff_u:staff_r:staff_t:s2") ==
          "system_u:object_r:tmp_t:s2");
    // carol's default range s0-s3: the whole range, not the low level
    CHECK(level_context("system_u:object_r:tmp_t:s0", "staff_u:staff_r:staff_t:s0-s3") ==
          "system_u:object_r:tmp_t:s0-s3");
    CHECK(level_context("system_u:object_r:tmp_t:s0", "staff_u:staff_r:staff_t:s0:c1.c3") ==
          "system_u:object_r:tmp_t:s0:c1.c3");
    // no MLS: the polydir's context unchanged
    CHECK(level_context("system_u:object_r:tmp_t", "user_u:user_r:user_t") == "system_u:object_r:tmp_t");
}

TEST_CASE("level/context names: <raw context>_<user>, or <raw context> if shared", "[selinux]") {
    CHECK(context_differentiation("system_u:object_r:tmp_t:s2", "bob", false) == "system_u:object_r:tmp_t:s2_bob");
    CHECK(context_differentiation("system_u:object_r:tmp_t:s2", "bob", true) == "system_u:object_r:tmp_t:s2");
}

TEST_CASE("gen_hash of a context name is the md5 pam_namespace uses", "[selinux]") {
    CHECK(hashed_differentiation(context_differentiation("system_u:object_r:tmp_t:s0", "alice", false), true) ==
          "a3560913eae606b42a8e1dbfdf4896eb");
}

TEST_CASE("a long category list gives an 80-character name: 47 + '_' + md5", "[selinux]") {
    const std::string ctx = "system_u:object_r:tmp_t:s0:c0,c2,c4,c6,c8,c10,c12,c14,c16,c18,c20,c22,c24,c26,c28";
    const std::string full = context_differentiation(ctx, "carol", false);
    REQUIRE(full.size() > kNamespaceMaxDirLen);
    const std::string name = hashed_differentiation(full, false);
    CHECK(name.size() == 80);
    CHECK(name == full.substr(0, 47) + "_" + md5_hex(full));
}

TEST_CASE("explicit instances with level: the name as written at s0, else suffixed by the range", "[selinux]") {
    CHECK(explicit_instance_name("1001", Method::Level, "system_u:object_r:tmp_t:s0") == "1001");
    CHECK(explicit_instance_name("1001", Method::Level, "system_u:object_r:tmp_t") == "1001");
    CHECK(explicit_instance_name("1002", Method::Level, "system_u:object_r:tmp_t:s2") == "1002_s2");
    CHECK(explicit_instance_name("1003", Method::Level, "system_u:object_r:tmp_t:s0-s3") == "1003_s0-s3");
    CHECK(explicit_instance_name("1002", Method::Level, "system_u:object_r:tmp_t:s0:c1.c3") == "1002_s0:c1.c3");
    // two levels of one user never share
    CHECK(explicit_instance_name("1003", Method::Level, "system_u:object_r:tmp_t:s1") !=
          explicit_instance_name("1003", Method::Level, "system_u:object_r:tmp_t:s3"));
}

TEST_CASE("explicit instances with context: always suffixed by the context", "[selinux]") {
    CHECK(explicit_instance_name("1001", Method::Context, "system_u:object_r:user_tmp_t:s0") ==
          "1001_system_u:object_r:user_tmp_t:s0");
    const std::string longer = explicit_instance_name(
        "1001", Method::Context, "system_u:object_r:user_tmp_t:s0:c0,c2,c4,c6,c8,c10,c12,c14,c16,c18,c20,c22,c24,c26");
    CHECK(longer.size() == 80);
}

namespace {

struct NoNames : NameResolver {
    std::optional<uid_t> uid_of(const std::string&) const override { return std::nullopt; }
    std::optional<gid_t> gid_of(const std::string&) const override { return std::nullopt; }
};

// The refpolicy answers the VM gave (MLS): tmp_t polydirs, member user_tmp_t.
struct TableContexts : SelinuxContexts {
    std::optional<std::string> user = std::string("staff_u:staff_r:staff_t:s2");
    std::map<std::string, std::string> dirs{{"/tmp", "system_u:object_r:tmp_t:s0-s15:c0.c1023"},
                                            {"/var/tmp", "system_u:object_r:tmp_t:s0-s15:c0.c1023"},
                                            {"/srv/u", "system_u:object_r:var_t:s0"}};
    Result<std::string> user_context() const override {
        if (!user) return make_error("get the SELinux context of", "bob", "getexeccon", 0, "no exec context is set");
        return *user;
    }
    Result<std::string> polydir_context(const std::string& p, bool) const override {
        auto it = dirs.find(p);
        if (it == dirs.end()) return make_error("read the SELinux label of", p, "getfilecon", ENOENT);
        return it->second;
    }
    Result<std::string> member_context(const std::string& u, const std::string&) const override {
        return "system_u:object_r:user_tmp_t:" + std::string(context_range(u));
    }
    Result<std::string> create_context(const std::string&) const override { return std::string(); }
};

Identity bob() {
    Identity who;
    who.user = "bob";
    who.uid = 1002;
    who.gid = 1002;
    who.home = "/home/bob";
    return who;
}

Rule rule(std::string polydir, std::string prefix, Method method, bool shared = false) {
    Rule r;
    r.polydir = std::move(polydir);
    r.instance_prefix = std::move(prefix);
    r.method = method;
    r.shared = shared;
    r.loc = SourceLoc{"namespace.conf", 1, 1};
    return r;
}

Result<Plan> plan_with(const TableContexts& contexts, std::initializer_list<Rule> rules, Options options = {}) {
    Config config;
    config.rules = rules;
    PlanContext context;
    context.security_dir = "/etc/security";
    context.selinux_enabled = true;
    context.selinux = &contexts;
    static const NoNames names;
    return make_plan(config, bob(), options, names, context);
}

}  // namespace

TEST_CASE("planner: level and context steps carry names and labels", "[selinux][planner]") {
    TableContexts contexts;
    auto p = plan_with(contexts, {rule("/tmp", "/tmp-inst/", Method::Level),
                                  rule("/var/tmp", "/var/tmp/tmp-inst/", Method::Context),
                                  rule("/srv/u", "/srv/u-inst/", Method::User)});
    REQUIRE(p);
    REQUIRE(p->steps.size() == 3);
    CHECK(p->selinux);
    CHECK(p->steps[0].instance == "/tmp-inst/system_u:object_r:tmp_t:s2_bob");
    CHECK(p->steps[0].selinux->instance_context == "system_u:object_r:tmp_t:s2");
    CHECK(p->steps[0].selinux->polydir_context == "system_u:object_r:tmp_t:s0-s15:c0.c1023");
    CHECK_FALSE(p->steps[0].selinux->check_existing);
    CHECK(p->steps[1].instance == "/var/tmp/tmp-inst/system_u:object_r:user_tmp_t:s2_bob");
    // user: named by the user, labelled as the pinned polydir
    CHECK(p->steps[2].instance == "/srv/u-inst/bob");
    REQUIRE(p->steps[2].selinux);
    CHECK(p->steps[2].selinux->instance_context.empty());
    CHECK(p->notices.empty());
}

TEST_CASE("planner: shared level instance is named by the context alone", "[selinux][planner]") {
    TableContexts contexts;
    auto p = plan_with(contexts, {rule("/tmp", "/tmp-inst/", Method::Level, true)});
    REQUIRE(p);
    CHECK(p->steps.at(0).instance == "/tmp-inst/system_u:object_r:tmp_t:s2");
}

TEST_CASE("planner: the seed's explicit %{UID} instance with level", "[selinux][planner]") {
    TableContexts contexts;
    auto p = plan_with(contexts, {rule("/tmp", "/tmp/user_tmpl/%{UID}", Method::Level)});
    REQUIRE(p);
    CHECK(p->steps.at(0).instance == "/tmp/user_tmpl/1002_s2");
    CHECK(p->steps.at(0).selinux->check_existing);
    contexts.user = "staff_u:staff_r:staff_t:s0";
    auto single = plan_with(contexts, {rule("/tmp", "/tmp/user_tmpl/%{UID}", Method::Level)});
    REQUIRE(single);
    CHECK(single->steps.at(0).instance == "/tmp/user_tmpl/1002");
    CHECK(single->steps.at(0).selinux->instance_context == "system_u:object_r:tmp_t:s0");
}

TEST_CASE("planner: no user context fails level rules with the pam_selinux hint", "[selinux][planner]") {
    TableContexts contexts;
    contexts.user.reset();
    auto p = plan_with(contexts, {rule("/tmp", "/tmp-inst/", Method::Level)});
    REQUIRE_FALSE(p);
    CHECK(p.error().message().find("pam_selinux.so open") != std::string::npos);
    // the user method does not need the user's context
    auto u = plan_with(contexts, {rule("/srv/u", "/srv/u-inst/", Method::User)});
    CHECK(u);
}

TEST_CASE("planner: tmpfs steps get no SELinux label (pam_namespace sets none)", "[selinux][planner]") {
    TableContexts contexts;
    auto p = plan_with(contexts, {rule("/tmp", "", Method::Tmpfs)});
    REQUIRE(p);
    CHECK_FALSE(p->steps.at(0).selinux);
}
