// make_plan with hand-made identities and configurations: no system access.
#include <catch2/catch.hpp>

#include <sys/mount.h>

#include <map>
#include <string>

#include "polyns/config.hpp"
#include "polyns/plan.hpp"

using namespace polyns;

namespace {

class TableResolver : public NameResolver {
public:
    std::map<std::string, uid_t> users{{"root", 0}, {"alice", 1001}, {"bob", 1002},
                                       {"alias", 1001}, {"svc", 990}};
    std::map<std::string, gid_t> primary{{"root", 0}, {"alice", 1001}, {"bob", 1002},
                                         {"svc", 991}};
    std::map<std::string, gid_t> groups{{"root", 0}, {"alice", 1001}, {"staff", 50},
                                        {"wheel", 10}};
    std::optional<uid_t> uid_of(const std::string& user) const override {
        auto it = users.find(user);
        if (it == users.end()) return std::nullopt;
        return it->second;
    }
    std::optional<gid_t> gid_of(const std::string& group) const override {
        auto it = groups.find(group);
        if (it == groups.end()) return std::nullopt;
        return it->second;
    }
    std::optional<gid_t> primary_gid_of(const std::string& user) const override {
        auto it = primary.find(user);
        if (it == primary.end()) return std::nullopt;
        return it->second;
    }
};

Identity alice() {
    Identity who;
    who.user = "alice";
    who.uid = 1001;
    who.gid = 1001;
    who.home = "/home/alice";
    who.group_names = {"alice", "staff"};
    return who;
}

Identity bob() {
    Identity who;
    who.user = "bob";
    who.uid = 1002;
    who.gid = 1002;
    who.home = "/home/bob";
    who.group_names = {"bob"};
    return who;
}

Identity root() {
    Identity who;
    who.user = "root";
    who.uid = 0;
    who.gid = 0;
    who.home = "/root";
    who.group_names = {"root"};
    return who;
}

PlanContext context() {
    PlanContext c;
    c.security_dir = "/etc/security";
    c.selinux_enabled = false;
    return c;
}

Rule rule(std::string polydir, std::string prefix, Method method = Method::User,
          unsigned line = 1) {
    Rule r;
    r.polydir = std::move(polydir);
    r.instance_prefix = std::move(prefix);
    r.method = method;
    r.loc = SourceLoc{"namespace.conf", line, 1};
    return r;
}

UserSelector name(std::string n) {
    UserSelector s;
    s.kind = UserSelector::Kind::Name;
    s.name = std::move(n);
    return s;
}

UserSelector group(std::string n) {
    UserSelector s;
    s.kind = UserSelector::Kind::Group;
    s.name = std::move(n);
    return s;
}

UserSelector uids(uid_t first, uid_t last) {
    UserSelector s;
    s.kind = UserSelector::Kind::UidRange;
    s.first = first;
    s.last = last;
    return s;
}

Result<Plan> plan_for(const Config& config, const Identity& who, const Options& options = {}) {
    static const TableResolver names;
    return make_plan(config, who, options, names, context());
}

Plan plan_ok(const Config& config, const Identity& who, const Options& options = {}) {
    auto p = plan_for(config, who, options);
    if (!p) FAIL(p.error().message());
    return p.value();
}

Config config_of(std::initializer_list<Rule> rules) {
    Config c;
    c.rules = rules;
    return c;
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
    for (const auto& l : lines)
        if (l.find(text) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("the seed's A5 config: private 0700 instances named by uid", "[planner]") {
    const Config cfg = parse_config_text(
        "/tmp     /tmp/user_tmpl/%{UID}     level:level,root\n"
        "/var/tmp /var/tmp/user_tmpl/%{UID} level:level,root\n",
        "namespace.conf");
    REQUIRE(cfg.rules.size() == 2);
    const Plan p = plan_ok(cfg, alice());
    REQUIRE(p.steps.size() == 2);
    CHECK(p.skipped.empty());

    const MountStep& tmp = p.steps[0];
    CHECK(tmp.polydir == "/tmp");
    CHECK(tmp.method == Method::Level);
    CHECK(tmp.kind == MountKind::Bind);
    CHECK(tmp.instance_kind == InstanceKind::Named);
    CHECK(tmp.instance == "/tmp/user_tmpl/1001");
    CHECK(tmp.template_dir == "/tmp/user_tmpl");
    CHECK(tmp.instance_name == "1001");
    CHECK_FALSE(tmp.mirror_polydir);
    CHECK(tmp.instance_owner.uid == 1001);
    CHECK(tmp.instance_owner.gid == 1001);
    CHECK(tmp.instance_owner.mode == 0700);
    CHECK(tmp.mount_flags == 0);
    CHECK(tmp.fs_options.empty());
    CHECK(tmp.init_script == std::string("/etc/security/namespace.init"));
    CHECK(tmp.init_script_if_exists);
    CHECK(tmp.user_controlled_root.empty());
    CHECK(tmp.source.line == 1);

    CHECK(p.steps[1].instance == "/var/tmp/user_tmpl/1001");
    CHECK(p.steps[1].template_dir == "/var/tmp/user_tmpl");
    // level falls back to user (no SELinux), once per rule
    CHECK(p.notices.size() == 2);
    CHECK(mentions(p.notices, "method level for /tmp uses the user method"));
}

TEST_CASE("Linux-PAM's man page examples", "[planner]") {
    Rule tmp = rule("/tmp", "/tmp-inst/", Method::Level, 1);
    tmp.users = {name("root"), name("adm")};
    Rule vtmp = rule("/var/tmp", "/var/tmp/tmp-inst/", Method::Level, 2);
    vtmp.users = {name("root"), name("adm")};
    Rule home = rule("$HOME", "$HOME/$USER.inst/inst-", Method::Context, 3);
    const Config cfg = config_of({tmp, vtmp, home});

    const Plan a = plan_ok(cfg, alice());
    REQUIRE(a.steps.size() == 3);
    CHECK(a.steps[0].instance == "/tmp-inst/alice");
    CHECK(a.steps[1].instance == "/var/tmp/tmp-inst/alice");
    CHECK(a.steps[1].template_dir == "/var/tmp/tmp-inst");
    CHECK(a.steps[2].polydir == "/home/alice");
    CHECK(a.steps[2].instance == "/home/alice/alice.inst/inst-alice");
    CHECK(a.steps[2].template_dir == "/home/alice/alice.inst");
    CHECK(a.steps[2].user_controlled_root == "/home/alice");
    CHECK(a.steps[0].user_controlled_root.empty());

    const Plan r = plan_ok(cfg, root());
    REQUIRE(r.steps.size() == 1);
    CHECK(r.steps[0].polydir == "/root");
    REQUIRE(r.skipped.size() == 2);
    CHECK(r.skipped[0].polydir == "/tmp");
    CHECK(r.skipped[0].reason == "root is excluded by the user list");
    CHECK(r.skipped[0].source.line == 1);
}

TEST_CASE("user method appends the user name; gen_hash and long names hash it", "[planner]") {
    const Config cfg = config_of({rule("/tmp", "/tmp/inst/")});
    CHECK(plan_ok(cfg, alice()).steps[0].instance == "/tmp/inst/alice");

    Options hash;
    hash.gen_hash = true;
    CHECK(plan_ok(cfg, alice(), hash).steps[0].instance ==
          "/tmp/inst/6384e2b2184bcbf58eccf10ca7a6563c");

    Identity longname = alice();
    longname.user = std::string(100, 'u');
    CHECK(plan_ok(cfg, longname).steps[0].instance ==
          "/tmp/inst/" + std::string(47, 'u') + "_9d3415dc51fca22538843a18baeb055b");

    // explicit form: gen_hash does not apply, a notice says so
    const Plan explicit_form =
        plan_ok(config_of({rule("/tmp", "/tmp/user_tmpl/%{UID}")}), alice(), hash);
    CHECK(explicit_form.steps[0].instance == "/tmp/user_tmpl/1001");
    CHECK(mentions(explicit_form.notices, "gen_hash"));
}

TEST_CASE("a trailing slash after %{UID} returns to Linux-PAM's rule", "[planner]") {
    const Plan p = plan_ok(config_of({rule("/tmp", "/tmp/user_tmpl/%{UID}/")}), alice());
    CHECK(p.steps[0].instance == "/tmp/user_tmpl/1001/alice");
    CHECK(p.steps[0].template_dir == "/tmp/user_tmpl/1001");
}

TEST_CASE("tmpdir and tmpfs methods", "[planner]") {
    Rule tmpdir = rule("/tmp", "/tmp/tmp-inst/sess-", Method::Tmpdir);
    const Plan d = plan_ok(config_of({tmpdir}), alice());
    REQUIRE(d.steps.size() == 1);
    CHECK(d.steps[0].instance_kind == InstanceKind::Unique);
    CHECK(d.steps[0].kind == MountKind::Bind);
    CHECK(d.steps[0].template_dir == "/tmp/tmp-inst");
    CHECK(d.steps[0].instance_name == "sess-");
    CHECK(d.steps[0].instance.empty());

    Rule tmpfs = rule("/tmp", "none", Method::Tmpfs);  // prefix is not used
    tmpfs.mntopts = "size=10M,nosuid,nodev,mode=1777,noexec";
    const Plan f = plan_ok(config_of({tmpfs}), alice());
    REQUIRE(f.steps.size() == 1);
    CHECK(f.steps[0].kind == MountKind::Tmpfs);
    CHECK(f.steps[0].instance_kind == InstanceKind::None);
    CHECK(f.steps[0].template_dir.empty());
    CHECK(f.steps[0].instance.empty());
    CHECK(f.steps[0].mount_flags == (MS_NOSUID | MS_NODEV | MS_NOEXEC));
    CHECK(f.steps[0].fs_options == "size=10M,mode=1777,nr_inodes=400k");
}

TEST_CASE("tmpfs instances: nosuid,nodev and systemd's nested limits unless the rule says", "[planner]") {
    // Issue 12, item 4: pam_namespace.so mounts a tmpfs with only the flags
    // mntopts names and the kernel's half of RAM; polyns gives it what
    // systemd gives a PrivateTmp=disconnected tmpfs, and what the rule
    // writes wins.
    auto step = [](std::optional<std::string> mntopts) {
        Rule r = rule("/tmp", "none", Method::Tmpfs);
        r.mntopts = std::move(mntopts);
        const Plan p = plan_ok(config_of({r}), alice());
        REQUIRE(p.steps.size() == 1);
        return p.steps[0];
    };
    MountStep s = step(std::nullopt);
    CHECK(s.mount_flags == (MS_NOSUID | MS_NODEV));
    CHECK(s.fs_options == "size=10%,nr_inodes=400k");
    s = step("mode=0700");
    CHECK(s.mount_flags == (MS_NOSUID | MS_NODEV));
    CHECK(s.fs_options == "mode=0700,size=10%,nr_inodes=400k");
    s = step("suid,size=1G");  // the rule lifts nosuid and sets its own size
    CHECK(s.mount_flags == MS_NODEV);
    CHECK(s.fs_options == "size=1G,nr_inodes=400k");
    s = step("dev,suid,nr_blocks=100,nr_inodes=0");  // 0: no limit, as tmpfs(5) says
    CHECK(s.mount_flags == 0);
    CHECK(s.fs_options == "nr_blocks=100,nr_inodes=0");
    s = step("size=0,noexec");
    CHECK(s.mount_flags == (MS_NOSUID | MS_NODEV | MS_NOEXEC));
    CHECK(s.fs_options == "size=0,nr_inodes=400k");
    s = step("suid,nosuid,size=1M");  // both: the restricting flag wins
    CHECK((s.mount_flags & MS_NOSUID) != 0);
}

TEST_CASE("mntopts on bind instances: flags yes, tmpfs options no", "[planner]") {
    Rule r = rule("/tmp", "/tmp/user_tmpl/%{UID}");
    r.mntopts = "nosuid,nodev";
    const Plan p = plan_ok(config_of({r}), alice());
    CHECK(p.steps[0].mount_flags == (MS_NOSUID | MS_NODEV));
    CHECK(p.steps[0].fs_options.empty());

    r.mntopts = "nosuid,size=10M";
    auto bad = plan_for(config_of({r}), alice());
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message().find("bind mount") != std::string::npos);
    CHECK(bad.error().message().find("namespace.conf:1") != std::string::npos);
    CHECK_FALSE(bad.error().hint.empty());
    CHECK(bad.error().polydir == "/tmp");

    r.mntopts = "nosuid,bogus";
    CHECK_FALSE(plan_for(config_of({r}), alice()).ok());
}

TEST_CASE("mntopts parsing through libmount", "[planner]") {
    auto opts = [](const std::string& text, MountKind kind = MountKind::Tmpfs) {
        Rule r = rule("/tmp", "/tmp/user_tmpl/", kind == MountKind::Tmpfs ? Method::Tmpfs : Method::User);
        r.mntopts = text;
        return plan_for(config_of({r}), alice());
    };
    CHECK(opts("", MountKind::Bind)->steps[0].mount_flags == 0);
    CHECK(opts("noexec", MountKind::Bind)->steps[0].mount_flags == MS_NOEXEC);
    CHECK(opts("noexec")->steps[0].mount_flags == (MS_NOSUID | MS_NODEV | MS_NOEXEC));
    CHECK(opts("nr_inodes=1k,size=50%")->steps[0].fs_options == "nr_inodes=1k,size=50%");
    CHECK(opts("mpol=\"bind:0-3\",size=1M,nr_inodes=0")->steps[0].fs_options ==
          "mpol=\"bind:0-3\",size=1M,nr_inodes=0");
    CHECK(opts("inode64,noswap")->steps[0].fs_options == "inode64,noswap,size=10%,nr_inodes=400k");
    CHECK_FALSE(opts("ro").ok());          // generic flag we do not apply
    CHECK_FALSE(opts("suid", MountKind::Bind).ok());  // a bind instance keeps its source's flags
    CHECK_FALSE(opts("dev", MountKind::Bind).ok());
    CHECK_FALSE(opts("suid=1").ok());
    CHECK_FALSE(opts("noauto").ok());      // fstab-only option
    CHECK_FALSE(opts("size").ok());        // needs a value
    CHECK_FALSE(opts("size=").ok());
    CHECK_FALSE(opts("inode64=1").ok());   // takes none
    CHECK_FALSE(opts("nosuid=1").ok());
    CHECK_FALSE(opts("frobnicate=3").ok());
}

TEST_CASE("user lists: names, uids by name, @group, ranges, ~", "[planner]") {
    auto applies = [](Rule r, const Identity& who) {
        const Plan p = plan_ok(config_of({r}), who);
        return p.steps.size() == 1;
    };
    Rule r = rule("/tmp", "/tmp/inst/");

    r.users = {name("bob")};
    CHECK(applies(r, alice()));
    CHECK_FALSE(applies(r, bob()));

    // a name is matched by uid too (Linux-PAM compares uids): alias has uid 1001
    r.users = {name("alias")};
    CHECK_FALSE(applies(r, alice()));

    // unknown names match no one
    r.users = {name("nobody-here")};
    CHECK(applies(r, alice()));

    r.users = {group("staff")};
    CHECK_FALSE(applies(r, alice()));
    CHECK(applies(r, bob()));

    r.users = {uids(0, 999)};
    CHECK(applies(r, alice()));
    CHECK_FALSE(applies(r, root()));
    r.users = {uids(1002, 1002)};
    CHECK_FALSE(applies(r, bob()));

    r.only_listed_users = true;
    CHECK(applies(r, bob()));
    CHECK_FALSE(applies(r, alice()));
    r.users = {};
    CHECK_FALSE(applies(r, alice()));  // "~" alone: nobody

    r.users = {name("root"), group("staff")};
    const Plan p = plan_ok(config_of({r}), bob());
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.skipped[0].reason == "bob is not in the ~ list");
    CHECK(p.skipped[0].polydir == "/tmp");

    r.only_listed_users = false;
    const Plan q = plan_ok(config_of({r}), alice());
    REQUIRE(q.skipped.size() == 1);
    CHECK(q.skipped[0].reason == "alice is excluded by the user list (entry '@staff')");
}

TEST_CASE("an excluded user never fails on a rule that is not theirs", "[planner]") {
    Rule r = rule("$HOME", "$HOME/.inst/", Method::User);
    r.users = {name("alice")};
    Identity weird = alice();
    weird.home = "not-absolute";
    const Plan p = plan_ok(config_of({r}), weird);
    CHECK(p.steps.empty());
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.skipped[0].polydir == "$HOME");
    // but a user the rule applies to gets the error
    r.users = {};
    CHECK_FALSE(plan_for(config_of({r}), weird).ok());
}

TEST_CASE("a home directory of / is refused for $HOME and %{HOME} rules", "[planner]") {
    Identity rooted = alice();
    for (const char* home : {"/", "//"}) {
        rooted.home = home;
        auto p = plan_for(config_of({rule("$HOME/tmp", "$HOME/.inst/", Method::User)}), rooted);
        REQUIRE_FALSE(p.ok());
        CHECK(p.error().message().find("is the root directory") != std::string::npos);
        CHECK_FALSE(plan_for(config_of({rule("/tmp", "%{HOME}/.inst/", Method::User)}), rooted).ok());
        // Rules without the home are not affected.
        CHECK(plan_for(config_of({rule("/tmp", "/tmp/inst/", Method::User)}), rooted).ok());
    }
}

TEST_CASE("instance_mode=mirror copies the polydir's owner and mode", "[planner]") {
    Options mirror;
    mirror.instance_mode = InstanceMode::Mirror;
    const Plan p = plan_ok(config_of({rule("/tmp", "/tmp/inst/")}), alice(), mirror);
    CHECK(p.steps[0].mirror_polydir);
    CHECK_FALSE(plan_ok(config_of({rule("/tmp", "/tmp/inst/")}), alice()).steps[0].mirror_polydir);
}

TEST_CASE("create= resolves owner and group", "[planner]") {
    Rule r = rule("/data/$USER", "/data-inst/");
    r.create = CreateFlag{};
    Plan p = plan_ok(config_of({r}), alice());
    REQUIRE(p.steps[0].create_polydir);
    CHECK_FALSE(p.steps[0].create_polydir->mode);
    CHECK(p.steps[0].create_polydir->uid == 1001);
    CHECK(p.steps[0].create_polydir->gid == 1001);

    r.create = CreateFlag{0750, std::string("svc"), std::nullopt};
    p = plan_ok(config_of({r}), alice());
    CHECK(p.steps[0].create_polydir->mode == mode_t{0750});
    CHECK(p.steps[0].create_polydir->uid == 990);
    CHECK(p.steps[0].create_polydir->gid == 991);  // svc's primary group, as Linux-PAM

    r.create = CreateFlag{std::nullopt, std::string("root"), std::string("staff")};
    p = plan_ok(config_of({r}), alice());
    CHECK(p.steps[0].create_polydir->uid == 0);
    CHECK(p.steps[0].create_polydir->gid == 50);

    r.create = CreateFlag{std::nullopt, std::string("4242"), std::string("4343")};
    p = plan_ok(config_of({r}), alice());
    CHECK(p.steps[0].create_polydir->uid == 4242);
    CHECK(p.steps[0].create_polydir->gid == 4343);

    r.create = CreateFlag{std::nullopt, std::string("4294967295"), std::nullopt};
    CHECK_FALSE(plan_for(config_of({r}), alice()).ok());

    r.create = CreateFlag{std::nullopt, std::string("ghost"), std::nullopt};
    auto bad = plan_for(config_of({r}), alice());
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message().find("ghost") != std::string::npos);

    r.create = CreateFlag{std::nullopt, std::nullopt, std::string("ghosts")};
    CHECK_FALSE(plan_for(config_of({r}), alice()).ok());
}

TEST_CASE("ignore_config_error skips a rule that cannot be planned, like Linux-PAM", "[planner]") {
    Rule bad = rule("/var/tmp/area1", "/var/tmp/inst/a1-");
    bad.create = CreateFlag{0700, std::string("root"), std::string("nosuchgroup")};
    Rule good = rule("/var/tmp/area2", "/var/tmp/inst/a2-");
    good.create = CreateFlag{};
    Config config = config_of({bad, good});

    auto strict = plan_for(config, alice());
    REQUIRE_FALSE(strict.ok());
    CHECK(strict.error().message().find("nosuchgroup") != std::string::npos);

    Options lenient;
    lenient.ignore_config_error = true;
    Plan p = plan_ok(config, alice(), lenient);
    REQUIRE(p.steps.size() == 1);
    CHECK(p.steps[0].polydir == "/var/tmp/area2");
    CHECK(p.steps[0].instance == "/var/tmp/inst/a2-alice");
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.skipped[0].polydir == "/var/tmp/area1");
    CHECK(p.skipped[0].reason.find("nosuchgroup") != std::string::npos);
    CHECK(mentions(p.notices, "ignore_config_error"));
}

TEST_CASE("init scripts: default, iscript=, noinit", "[planner]") {
    Rule r = rule("/tmp", "/tmp/inst/");
    MountStep s = plan_ok(config_of({r}), alice()).steps[0];
    CHECK(s.init_script == std::string("/etc/security/namespace.init"));
    CHECK(s.init_script_if_exists);

    r.iscript = "tmp.init";
    s = plan_ok(config_of({r}), alice()).steps[0];
    CHECK(s.init_script == std::string("/etc/security/namespace.d/tmp.init"));
    CHECK_FALSE(s.init_script_if_exists);

    r.iscript = "/usr/local/sbin/ns-init";
    s = plan_ok(config_of({r}), alice()).steps[0];
    CHECK(s.init_script == std::string("/usr/local/sbin/ns-init"));

    r.iscript = "../../bin/sh";
    CHECK_FALSE(plan_for(config_of({r}), alice()).ok());

    r.iscript.reset();
    r.noinit = true;
    s = plan_ok(config_of({r}), alice()).steps[0];
    CHECK_FALSE(s.init_script);
    CHECK_FALSE(s.init_script_if_exists);
}

TEST_CASE("plan flags come from the options", "[planner]") {
    Options o;
    o.mount_private = true;
    o.unmnt_remnt = true;
    o.unmnt_only = true;
    o.unmount_on_close = true;
    o.ignore_instance_parent_mode = true;
    o.init_timeout_seconds = 7;
    const Plan p = plan_ok(Config{}, alice(), o);
    CHECK(p.mount_private);
    CHECK(p.unmount_previous);
    CHECK(p.unmount_only);
    CHECK(p.unmount_on_close);
    CHECK(p.ignore_instance_parent_mode);
    CHECK(p.init_timeout_seconds == 7);
    CHECK_FALSE(p.empty());
    CHECK(plan_ok(Config{}, alice()).empty());
    CHECK(plan_ok(Config{}, alice()).identity.user == "alice");
}

TEST_CASE("level/context: shared instances are skipped without SELinux", "[planner]") {
    Rule r = rule("/tmp", "/tmp/inst/", Method::Context);
    r.shared = true;
    const Plan p = plan_ok(config_of({r}), alice());
    CHECK(p.steps.empty());
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.skipped[0].reason.find("shared") != std::string::npos);
}

TEST_CASE("require_selinux fails when SELinux is off", "[planner]") {
    Options o;
    o.require_selinux = true;
    auto p = plan_for(config_of({rule("/tmp", "/tmp/inst/")}), alice(), o);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().message().find("require_selinux") != std::string::npos);
}

TEST_CASE("duplicate polydirs: the first applicable rule wins", "[planner]") {
    Rule first = rule("/tmp", "/tmp/a/", Method::User, 1);
    Rule second = rule("/tmp/", "/tmp/b/", Method::User, 2);
    const Plan p = plan_ok(config_of({first, second}), alice());
    REQUIRE(p.steps.size() == 1);
    CHECK(p.steps[0].instance == "/tmp/a/alice");
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.skipped[0].source.line == 2);
    CHECK(p.skipped[0].reason.find("namespace.conf:1") != std::string::npos);

    // an excluded first rule does not shadow the second
    first.users = {name("alice")};
    const Plan q = plan_ok(config_of({first, second}), alice());
    REQUIRE(q.steps.size() == 1);
    CHECK(q.steps[0].instance == "/tmp/b/alice");
}

TEST_CASE("a uid or gid of -1 (chown's 'no change') is refused", "[planner]") {
    Identity who = alice();
    who.uid = static_cast<uid_t>(-1);
    auto p = plan_for(config_of({rule("/tmp", "/inst/")}), who);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().message().find("(uid_t)-1") != std::string::npos);
    who = alice();
    who.gid = static_cast<gid_t>(-1);
    CHECK_FALSE(plan_for(config_of({rule("/tmp", "/inst/")}), who).ok());
    who.uid = 4294967294u;
    who.gid = 4294967294u;
    CHECK(plan_for(config_of({rule("/tmp", "/inst/")}), who).ok());
}

TEST_CASE("dangerous or impossible layouts are refused with the line", "[planner]") {
    auto refused = [](std::initializer_list<Rule> rules) {
        auto p = plan_for(config_of(rules), alice());
        if (p.ok()) return std::string();
        return p.error().message();
    };
    CHECK(refused({rule("/", "/inst/")}).find("root directory") != std::string::npos);
    // instances directly in the polydir
    CHECK_FALSE(refused({rule("/tmp", "/tmp/")}).empty());
    // polydir among the instances (a user named "tmp" would get it)
    CHECK_FALSE(refused({rule("/var/tmp", "/var/")}).empty());
    // polydir inside its own instance
    CHECK_FALSE(refused({rule("/srv/alice/x", "/srv/")}).empty());
    // polydir equal to another rule's template
    CHECK_FALSE(refused({rule("/tmp", "/inst/", Method::User, 1),
                         rule("/inst", "/other/", Method::User, 2)})
                    .empty());
    // template equal to another rule's polydir
    CHECK_FALSE(refused({rule("/srv", "/other/", Method::User, 1),
                         rule("/tmp", "/srv/", Method::User, 2)})
                    .empty());
    // nested polydirs, either order
    const std::string nested = refused({rule("/tmp", "/inst1/", Method::User, 1),
                                        rule("/tmp/cache", "/inst2/", Method::User, 2)});
    CHECK(nested.find("namespace.conf:2") != std::string::npos);
    CHECK(nested.find("namespace.conf:1") != std::string::npos);
    CHECK_FALSE(refused({rule("/tmp/cache", "/inst1/", Method::User, 1),
                         rule("/tmp", "/inst2/", Method::User, 2)})
                    .empty());
    // relative or .. paths
    CHECK_FALSE(refused({rule("tmp", "/inst/")}).empty());
    CHECK_FALSE(refused({rule("/tmp", "/inst/../etc/")}).empty());
    CHECK_FALSE(refused({rule("/tmp/../etc", "/inst/")}).empty());
    CHECK_FALSE(refused({rule("/tmp", "inst/")}).empty());
    // allowed: /etc as polydir because the admin wrote it; not /proc, which
    // the module itself (and every program) needs
    CHECK(refused({rule("/etc", "/etc-inst/")}).empty());
    CHECK(refused({rule("/proc", "/proc-inst/")}).find("/proc cannot be a polydir") != std::string::npos);
    CHECK_FALSE(refused({rule("/proc/sys", "/inst/")}).empty());
    CHECK(refused({rule("/process", "/inst/")}).empty());
    // allowed: a template under another rule's polydir (engine pins it first)
    CHECK(refused({rule("/tmp", "/tmp/user_tmpl/%{UID}", Method::User, 1),
                   rule("/var/tmp", "/tmp/vtmpl/%{UID}", Method::User, 2)})
              .empty());
}

TEST_CASE("$HOME-relative rules record the user-controlled root", "[planner]") {
    const Plan p = plan_ok(config_of({rule("/srv/cache", "%{HOME}/.inst/")}), alice());
    CHECK(p.steps[0].user_controlled_root == "/home/alice");
    CHECK(p.steps[0].instance == "/home/alice/.inst/alice");
    const Plan q = plan_ok(config_of({rule("$HOME/tmp", "/srv/inst/")}), alice());
    CHECK(q.steps[0].user_controlled_root == "/home/alice");
}

TEST_CASE("plan invariants hold across a grid of configurations", "[planner]") {
    const std::vector<std::string> polydirs = {"/tmp", "/var/tmp/", "$HOME", "%{HOME}/x",
                                               "/srv/$USER", "/", "//tmp//", "/tmp/../x",
                                               "rel", "/a/%{UID}", "$HOMEdir", "/x/%{FOO}"};
    const std::vector<std::string> prefixes = {"/tmp/user_tmpl/%{UID}", "/tmp/user_tmpl/",
                                               "/inst-", "$HOME/.i/", "/i/$USER", "/",
                                               "//", "/i/%{UID}/", "none", "/i/../j/",
                                               "/i/./", "/tmp/", "/tmp", "/i/" + std::string(300, 'n')};
    const std::vector<std::string> methods = {"user", "level", "context:shared", "tmpdir",
                                              "tmpfs", "user:create=0700,root,staff",
                                              "user:mntopts=nosuid", "tmpfs:mntopts=size=1M"};
    const TableResolver names;
    std::size_t planned = 0, refused = 0;
    for (const auto& p : polydirs) {
        for (const auto& i : prefixes) {
            for (const auto& m : methods) {
                const std::string text = "\"" + p + "\" \"" + i + "\" " + m + "\n";
                const Config cfg = parse_config_text(text, "grid.conf");
                for (const Identity& who : {alice(), root()}) {
                    auto plan = make_plan(cfg, who, Options{}, names, context());
                    if (!plan) {
                        ++refused;
                        CHECK_FALSE(plan.error().message().empty());
                        continue;
                    }
                    ++planned;
                    for (const auto& s : plan->steps) {
                        INFO(text << " for " << who.user);
                        CHECK(s.polydir.front() == '/');
                        CHECK(s.polydir != "/");
                        CHECK(s.polydir.find("//") == std::string::npos);
                        CHECK(s.polydir.find("/..") == std::string::npos);
                        CHECK(s.polydir.back() != '/');
                        if (s.instance_kind == InstanceKind::None) {
                            CHECK(s.template_dir.empty());
                            continue;
                        }
                        CHECK(s.template_dir.front() == '/');
                        CHECK(s.template_dir.find("//") == std::string::npos);
                        CHECK(s.instance_name.find('/') == std::string::npos);
                        CHECK(s.instance_name != "..");
                        CHECK(s.instance_name != ".");
                        if (s.instance_kind == InstanceKind::Named) {
                            CHECK_FALSE(s.instance_name.empty());
                            CHECK(s.instance_name.size() <= 255);
                            CHECK(s.instance == (s.template_dir == "/" ? "" : s.template_dir) +
                                                    "/" + s.instance_name);
                            CHECK(s.instance != s.polydir);
                        }
                        CHECK(s.template_dir != s.polydir);
                    }
                }
            }
        }
    }
    CHECK(planned > 0);
    CHECK(refused > 0);
}

TEST_CASE("mntopts on a user rule: nosuid/nodev/noexec reach the bind mount", "[planner]") {
    const Config cfg = parse_config_text("/tmp /tmp/user_tmpl/ user:mntopts=nosuid,size=1M,noexec\n",
                                         "namespace.conf");
    REQUIRE(cfg.rules.size() == 1);
    // size= is tmpfs-only: pam_namespace ignores it with a warning, so does the parser
    CHECK(cfg.warning_count() == 1);
    CHECK(cfg.rules[0].mntopts == std::string("nosuid,noexec"));
    const Plan p = plan_ok(cfg, alice());
    CHECK(p.steps[0].mount_flags == (MS_NOSUID | MS_NOEXEC));
    CHECK(p.steps[0].fs_options.empty());
}
