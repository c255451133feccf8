// The parser: every grammar feature of namespace.conf(5) plus polyns'
// additions, and every diagnostic with its position, text and hint.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config_test_util.hpp"
#include "polyns/config.hpp"

using namespace polyns;
using polyns::test::all_diagnostics;
using polyns::test::read_config_data;

namespace {

Config parse(std::string_view text) { return parse_config_text(text, "test.conf"); }

// One line that must parse without any diagnostic into exactly one rule.
Rule clean_rule(std::string_view line) {
    const Config c = parse(line);
    INFO(line);
    INFO(all_diagnostics(c));
    REQUIRE(c.diagnostics.empty());
    REQUIRE(c.rules.size() == 1);
    return c.rules[0];
}

// One line that yields exactly one diagnostic of `severity`.
Diagnostic single_diagnostic(std::string_view line, Severity severity) {
    const Config c = parse(line);
    INFO(line);
    INFO(all_diagnostics(c));
    REQUIRE(c.diagnostics.size() == 1);
    REQUIRE(c.diagnostics[0].severity == severity);
    // A line with an error produces no rule; a line with warnings keeps it.
    REQUIRE(c.rules.size() == (severity == Severity::Error ? 0u : 1u));
    return c.diagnostics[0];
}

Diagnostic single_error(std::string_view line) { return single_diagnostic(line, Severity::Error); }
Diagnostic single_warning(std::string_view line) { return single_diagnostic(line, Severity::Warning); }

std::vector<UserSelector> users_of(std::string_view list) {
    return clean_rule("/tmp /tmp-inst/ user " + std::string(list)).users;
}

}  // namespace

// ---------------------------------------------------------------- reference examples

TEST_CASE("parser: every example of namespace.conf(5) parses cleanly", "[parser][examples]") {
    const std::string text = read_config_data("manpage_examples.conf");
    REQUIRE_FALSE(text.empty());
    const Config c = parse(text);
    INFO(all_diagnostics(c));
    CHECK(c.diagnostics.empty());
    REQUIRE(c.rules.size() == 3);

    CHECK(c.rules[0].polydir == "/tmp");
    CHECK(c.rules[0].instance_prefix == "/tmp-inst/");
    CHECK(c.rules[0].method == Method::Level);
    CHECK_FALSE(c.rules[0].only_listed_users);
    REQUIRE(c.rules[0].users.size() == 2);
    CHECK(c.rules[0].users[0].kind == UserSelector::Kind::Name);
    CHECK(c.rules[0].users[0].name == "root");
    CHECK(c.rules[0].users[1].name == "adm");

    CHECK(c.rules[1].polydir == "/var/tmp");
    CHECK(c.rules[1].instance_prefix == "/var/tmp/tmp-inst/");
    CHECK(c.rules[1].method == Method::Level);
    CHECK(c.rules[1].users.size() == 2);

    CHECK(c.rules[2].polydir == "$HOME");
    CHECK(c.rules[2].instance_prefix == "$HOME/$USER.inst/inst-");
    CHECK(c.rules[2].method == Method::Context);
    CHECK(c.rules[2].users.empty());
    CHECK_FALSE(c.rules[2].create.has_value());
    CHECK_FALSE(c.rules[2].noinit);

    CHECK(c.rules[0].loc.file == "test.conf");
    CHECK(c.rules[0].loc.line == 17);
    CHECK(c.rules[0].loc.col == 1);
}

TEST_CASE("parser: each man-page example line parses cleanly on its own", "[parser][examples]") {
    const Rule tmp = clean_rule("/tmp\t  /tmp-inst/\t\t   level      root,adm");
    CHECK(tmp.polydir == "/tmp");
    CHECK(tmp.users.size() == 2);
    const Rule vartmp = clean_rule("/var/tmp /var/tmp/tmp-inst/\t   level      root,adm");
    CHECK(vartmp.instance_prefix == "/var/tmp/tmp-inst/");
    const Rule home = clean_rule("$HOME\t  $HOME/$USER.inst/inst- context");
    CHECK(home.method == Method::Context);
}

TEST_CASE("parser: Debian's commented example lines parse cleanly", "[parser][examples]") {
    const std::string text = read_config_data("debian_examples.conf");
    const Config c = parse(text);
    INFO(all_diagnostics(c));
    CHECK(c.diagnostics.empty());
    REQUIRE(c.rules.size() == 3);
    CHECK(c.rules[0].polydir == "/tmp");
    CHECK(c.rules[0].instance_prefix == "/tmp-inst/");
    CHECK(c.rules[1].polydir == "/var/tmp");
    CHECK(c.rules[2].polydir == "$HOME");
    CHECK(c.rules[2].instance_prefix == "$HOME/$USER.inst/");
    CHECK(c.rules[2].method == Method::Level);
    CHECK(c.rules[2].users.empty());
}

TEST_CASE("parser: the seed's A5 lines load with one warning each naming level,root",
          "[parser][examples]") {
    const std::string text = read_config_data("seed_a5.conf");
    const Config c = parse(text);
    REQUIRE(c.rules.size() == 2);
    REQUIRE(c.diagnostics.size() == 2);
    CHECK(c.warning_count() == 2);
    CHECK_FALSE(c.has_errors());
    const unsigned expected_col[] = {42, 42};
    for (std::size_t i = 0; i < 2; ++i) {
        const Diagnostic& d = c.diagnostics[i];
        CHECK(d.severity == Severity::Warning);
        CHECK(d.loc.line == i + 1);
        CHECK(d.loc.col == expected_col[i]);
        CHECK(d.text == "level,root");
        CHECK_THAT(d.message, Catch::Contains("unknown flag 'level,root'"));
        CHECK(d.hint == "did you mean to list users in the 4th field, e.g. `level root`?");
    }
    CHECK(c.rules[0].polydir == "/tmp");
    CHECK(c.rules[0].instance_prefix == "/tmp/user_tmpl/%{UID}");
    CHECK(c.rules[0].method == Method::Level);
    CHECK(c.rules[0].users.empty());  // the ignored flag does not become a user list
    CHECK(c.rules[1].polydir == "/var/tmp");
    CHECK(c.rules[1].instance_prefix == "/var/tmp/user_tmpl/%{UID}");
    CHECK(format_diagnostic(c.diagnostics[0]) ==
          "test.conf:1:42: warning: unknown flag 'level,root' in method field; ignored "
          "[hint: did you mean to list users in the 4th field, e.g. `level root`?]");
}

// ---------------------------------------------------------------- lines and comments

TEST_CASE("parser: comments and blank lines produce nothing", "[parser]") {
    const Config c = parse("# comment\n\n   \t\n  # indented\n\r\n/tmp /x/ user # trailing\n#/var/tmp /y/ user\n");
    CHECK(c.diagnostics.empty());
    REQUIRE(c.rules.size() == 1);
    CHECK(c.rules[0].loc.line == 6);
    CHECK(parse("").rules.empty());
    CHECK(parse("").diagnostics.empty());
}

TEST_CASE("parser: line numbers count every line; CRLF works", "[parser]") {
    const Config c = parse("/a /x/ user\r\n\r\n# c\r\n/b /y/ user root\r\n/c /z/ bogus\n");
    REQUIRE(c.rules.size() == 2);
    CHECK(c.rules[0].loc.line == 1);
    CHECK(c.rules[1].loc.line == 4);
    CHECK(c.rules[1].users.at(0).name == "root");
    REQUIRE(c.diagnostics.size() == 1);
    CHECK(c.diagnostics[0].loc.line == 5);
}

TEST_CASE("parser: quoted and escaped fields", "[parser]") {
    const Rule r = clean_rule("\"/srv/my dir\" /inst\\ dir/ user \"a,b\"");
    CHECK(r.polydir == "/srv/my dir");
    CHECK(r.instance_prefix == "/inst dir/");
    REQUIRE(r.users.size() == 2);
    CHECK(r.users[1].name == "b");
    CHECK(clean_rule("/a\\tb /x\\by\\n user").instance_prefix == "/x\by\n");
    CHECK(clean_rule("/a\\tb /x/ user").polydir == "/a\tb");
    CHECK(clean_rule("\"/a\"\"b\" /x/ user").polydir == "/ab");
}

TEST_CASE("parser: a 1 MiB line parses; a 1 MiB garbage line gets a positioned diagnostic",
          "[parser][long]") {
    const std::string dir = "/" + std::string(1u << 20, 'd');
    const Rule r = clean_rule(dir + " /x/ user root");
    CHECK(r.polydir.size() == dir.size());

    std::string users;
    for (int i = 0; i < 100000; ++i) users += "user" + std::to_string(i) + ",";
    users += "last";
    CHECK(clean_rule("/tmp /x/ user " + users).users.size() == 100001);

    const std::string garbage = "/tmp /x/ user:" + std::string(1u << 20, '\x01');
    const Config c = parse(garbage);
    REQUIRE(c.diagnostics.size() == 1);
    CHECK(c.diagnostics[0].loc.col == 15);
    CHECK(c.diagnostics[0].text.size() < 300);  // clipped, not the whole megabyte
    CHECK(format_diagnostic(c.diagnostics[0]).size() < 1000);
}

TEST_CASE("parser: binary input never throws and is reported with positions", "[parser]") {
    std::string binary;
    for (int i = 0; i < 4096; ++i) binary.push_back(static_cast<char>((i * 7919) & 0xff));
    Config c;
    REQUIRE_NOTHROW(c = parse(binary));
    CHECK(c.has_errors());
    for (const Diagnostic& d : c.diagnostics) {
        CHECK(d.loc.line >= 1);
        CHECK(d.loc.col >= 1);
    }
    const Diagnostic nul = single_error(std::string("/tmp /x/ user\0root", 18));
    CHECK(nul.loc.col == 14);
    CHECK(nul.message == "NUL byte in line");
}

TEST_CASE("parser: unterminated quote is an error at the quote", "[parser]") {
    const Diagnostic d = single_error("/tmp \"/tmp-inst user");
    CHECK(d.loc.col == 6);
    CHECK(d.message == "unterminated quote");
    CHECK_FALSE(d.hint.empty());
}

// ---------------------------------------------------------------- fields

TEST_CASE("parser: missing fields are errors pointing past the last field", "[parser]") {
    Diagnostic d = single_error("/tmp");
    CHECK(d.message == "missing instance prefix after '/tmp'");
    CHECK(d.loc.col == 5);
    d = single_error("/tmp   /tmp-inst/");
    CHECK(d.message == "missing method after '/tmp-inst/'");
    CHECK(d.loc.col == 18);
}

TEST_CASE("parser: a 5th field is an error (pam_namespace silently drops it)", "[parser]") {
    Diagnostic d = single_error("/tmp /tmp-inst/ level root, adm");
    CHECK(d.loc.col == 29);
    CHECK(d.text == "adm");
    CHECK_THAT(d.message, Catch::Contains("5th field 'adm'"));
    CHECK(d.hint == "write the user list without blanks, e.g. `root,adm`");
    d = single_error("/tmp /tmp-inst/ level root extra");
    CHECK_THAT(d.hint, Catch::Contains("at most 4 fields"));
}

TEST_CASE("parser: polydir and instance prefix must be absolute", "[parser][paths]") {
    Diagnostic d = single_error("tmp /tmp-inst/ user");
    CHECK(d.loc.col == 1);
    CHECK(d.message == "polydir 'tmp' is not an absolute path");
    CHECK_THAT(d.hint, Catch::Contains("`/tmp`"));
    d = single_error("/tmp tmp-inst/ user");
    CHECK(d.loc.col == 6);
    CHECK(d.message == "instance prefix 'tmp-inst/' is not an absolute path");
    d = single_error("\xEF\xBB\xBF/tmp /x/ user");
    CHECK_THAT(d.hint, Catch::Contains("byte-order mark"));
    d = single_error("$USER/x /x/ user");
    CHECK_THAT(d.message, Catch::Contains("not an absolute path"));
    d = single_error("\"\" /x/ user");
    CHECK(d.message == "polydir is empty");
    d = single_error("/tmp \"\" user");
    CHECK(d.message == "instance prefix is empty");
    // $HOME and %{HOME} expand to an absolute path.
    CHECK(clean_rule("$HOME/tmp $HOME/.inst/ user").polydir == "$HOME/tmp");
    CHECK(clean_rule("%{HOME}/tmp %{HOME}/.inst/ user").instance_prefix == "%{HOME}/.inst/");
    CHECK(clean_rule("$HOMEdir /x/ user").polydir == "$HOMEdir");
    // pam_namespace does not use a tmpfs line's prefix as a path.
    CHECK(clean_rule("/tmp none tmpfs:mntopts=size=1M").instance_prefix == "none");
}

TEST_CASE("parser: '..' and the root directory are refused", "[parser][paths]") {
    Diagnostic d = single_error("/tmp/../etc /x/ user");
    CHECK(d.loc.col == 6);
    CHECK_THAT(d.message, Catch::Contains("contains '..'"));
    d = single_error("/tmp /x/a..b/ user");
    CHECK(d.loc.col == 10);
    d = single_error("/tmp ../x tmpfs");
    CHECK_THAT(d.message, Catch::Contains("'..'"));
    d = single_error("/ /x/ user");
    CHECK(d.message == "the root directory cannot be polyinstantiated");
    CHECK(single_error("/// /x/ user").message == "the root directory cannot be polyinstantiated");
}

TEST_CASE("parser: $USER $HOME %{USER} %{UID} %{HOME} stay for the planner", "[parser][paths]") {
    const Rule r = clean_rule("/tmp/%{USER} /inst/%{UID}/$USER-%{HOME}/ user");
    CHECK(r.polydir == "/tmp/%{USER}");
    CHECK(r.instance_prefix == "/inst/%{UID}/$USER-%{HOME}/");
    CHECK(clean_rule("/tmp /x/100% user").instance_prefix == "/x/100%");
    CHECK(clean_rule("/tmp /x/%u user").instance_prefix == "/x/%u");
    CHECK(clean_rule("/tmp /x/$1 user").instance_prefix == "/x/$1");
}

TEST_CASE("parser: an unknown %{...} is an error with a hint", "[parser][paths]") {
    Diagnostic d = single_error("/tmp /tmp/user_tmpl/%{UUID} user");
    CHECK(d.loc.col == 21);
    CHECK(d.text == "%{UUID}");
    CHECK(d.message == "unknown expansion '%{UUID}' in instance prefix");
    CHECK_THAT(d.hint, Catch::StartsWith("did you mean `%{UID}`?"));
    d = single_error("/tmp/%{GROUP} /x/ user");
    CHECK(d.loc.col == 6);
    CHECK_THAT(d.hint, Catch::Contains("%{USER}, %{UID}, %{HOME}"));
    d = single_error("/tmp /x/%{UID user");
    CHECK_THAT(d.message, Catch::Contains("unterminated '%{'"));
    CHECK(single_error("/tmp /x/%{} user").text == "%{}");
}

TEST_CASE("parser: a $NAME other than $HOME/$USER is a warning (it stays literal)",
          "[parser][paths]") {
    const Diagnostic d = single_warning("/tmp /x/$UID/ user");
    CHECK(d.loc.col == 9);
    CHECK(d.text == "$UID");
    CHECK_THAT(d.message, Catch::Contains("not expanded"));
    CHECK_THAT(d.hint, Catch::Contains("%{UID}"));
}

// ---------------------------------------------------------------- methods

TEST_CASE("parser: each method", "[parser][methods]") {
    CHECK(clean_rule("/tmp /x/ user").method == Method::User);
    CHECK(clean_rule("/tmp /x/ level").method == Method::Level);
    CHECK(clean_rule("/tmp /x/ context").method == Method::Context);
    CHECK(clean_rule("/tmp /x/ tmpdir").method == Method::Tmpdir);
    CHECK(clean_rule("/tmp /x/ tmpfs:mntopts=size=1M").method == Method::Tmpfs);
    CHECK(method_name(Method::User) == "user");
    CHECK(method_name(Method::Level) == "level");
    CHECK(method_name(Method::Context) == "context");
    CHECK(method_name(Method::Tmpdir) == "tmpdir");
    CHECK(method_name(Method::Tmpfs) == "tmpfs");
}

TEST_CASE("parser: an unknown or empty method is an error", "[parser][methods]") {
    Diagnostic d = single_error("/tmp /x/ levle");
    CHECK(d.loc.col == 10);
    CHECK(d.message == "unknown method 'levle'");
    CHECK(d.hint == "did you mean `level`?");
    d = single_error("/tmp /x/ users");
    CHECK(d.hint == "did you mean `user`?");
    CHECK(single_error("/tmp /x/ User").hint == "did you mean `user`?");
    d = single_error("/tmp /x/ root,adm");
    CHECK_THAT(d.hint, Catch::Contains("4th field"));
    d = single_error("/tmp /x/ :user");
    CHECK(d.message == "method field starts with ':'");
    d = single_error("/tmp /x/ \"\"");
    CHECK(d.message == "method is empty");
    CHECK(single_error("/tmp /x/ :").loc.col == 10);
    // Methods are matched exactly too.
    CHECK(single_error("/tmp /x/ username").message == "unknown method 'username'");
}

// ---------------------------------------------------------------- flags

TEST_CASE("parser: flag create with and without parameters", "[parser][flags]") {
    Rule r = clean_rule("/tmp /x/ user:create");
    REQUIRE(r.create.has_value());
    CHECK_FALSE(r.create->mode.has_value());
    CHECK_FALSE(r.create->owner.has_value());
    CHECK_FALSE(r.create->group.has_value());

    r = clean_rule("/tmp /x/ user:create=");
    REQUIRE(r.create.has_value());
    CHECK_FALSE(r.create->mode.has_value());

    r = clean_rule("/tmp /x/ user:create=0750");
    REQUIRE(r.create->mode.has_value());
    CHECK(*r.create->mode == 0750);

    r = clean_rule("/tmp /x/ user:create=01777,root,adm");
    CHECK(*r.create->mode == 01777);
    CHECK(*r.create->owner == "root");
    CHECK(*r.create->group == "adm");

    // An owner without a mode parses, with a warning (issue 12 item 4: the
    // mode is a fixed 0755, never the caller's umask; say so).
    Diagnostic d = single_diagnostic("/tmp /x/ user:create=,0,", Severity::Warning);
    CHECK(d.message.find("owner but no mode") != std::string::npos);
    Config c = parse("/tmp /x/ user:create=,0,");
    REQUIRE(c.rules.size() == 1);
    r = c.rules[0];
    CHECK_FALSE(r.create->mode.has_value());
    CHECK(*r.create->owner == "0");
    CHECK_FALSE(r.create->group.has_value());

    r = clean_rule("/tmp /x/ user:create=,,wheel");
    CHECK(*r.create->group == "wheel");
    CHECK(*clean_rule("/tmp /x/ user:create=0").create->mode == 0);
    CHECK(*clean_rule("/tmp /x/ user:create=7").create->mode == 7);
}

TEST_CASE("parser: a mode without leading 0 is octal, with a warning", "[parser][flags]") {
    const Diagnostic d = single_warning("/tmp /x/ user:create=750");
    CHECK(d.loc.col == 22);
    CHECK(d.text == "750");
    CHECK_THAT(d.message, Catch::Contains("decimal (01356)"));
    CHECK(d.hint == "write create=0750 to mean the same to both");
    CHECK(*parse("/tmp /x/ user:create=750").rules.at(0).create->mode == 0750);
}

TEST_CASE("parser: bad create values are errors", "[parser][flags]") {
    Diagnostic d = single_error("/tmp /x/ user:create=abc");
    CHECK(d.loc.col == 22);
    CHECK(d.text == "abc");
    CHECK(d.message == "invalid mode 'abc' in create=");
    CHECK_THAT(d.hint, Catch::Contains("octal"));
    CHECK(single_error("/tmp /x/ user:create=0x1ed").message == "invalid mode '0x1ed' in create=");
    CHECK(single_error("/tmp /x/ user:create=0789").text == "0789");
    CHECK(single_error("/tmp /x/ user:create=017777").text == "017777");
    CHECK(single_error("/tmp /x/ user:create=-1").text == "-1");
    CHECK(single_error("/tmp /x/ user:create=0777777777777777777777777777").loc.col == 22);
    d = single_error("/tmp /x/ user:create=0700,a,b,c");
    CHECK(d.loc.col == 31);
    CHECK_THAT(d.message, Catch::Contains("at most mode,owner,group"));
}

TEST_CASE("parser: flag iscript", "[parser][flags]") {
    CHECK(*clean_rule("/tmp /x/ user:iscript=/etc/security/ns.sh").iscript == "/etc/security/ns.sh");
    CHECK(*clean_rule("/tmp /x/ user:iscript=tmp.init").iscript == "tmp.init");
    Diagnostic d = single_error("/tmp /x/ user:iscript=");
    CHECK(d.loc.col == 15);
    CHECK(d.message == "iscript needs a path");
    CHECK(single_error("/tmp /x/ user:iscript").message == "iscript needs a path");
}

TEST_CASE("parser: flags noinit and shared", "[parser][flags]") {
    CHECK(clean_rule("/tmp /x/ user:noinit").noinit);
    CHECK(clean_rule("/tmp /x/ level:shared").shared);
    CHECK(clean_rule("/tmp /x/ context:shared").shared);
    Diagnostic d = single_error("/tmp /x/ user:noinit=1");
    CHECK(d.message == "flag 'noinit' takes no value");
    CHECK(single_error("/tmp /x/ level:shared=yes").loc.col == 16);
    d = single_warning("/tmp /x/ user:shared");
    CHECK_THAT(d.message, Catch::Contains("only affects the context and level methods"));
}

TEST_CASE("parser: a tmpfs rule without size= is warned about", "[parser][flags]") {
    // Issue 12, item 4: each session has its own tmpfs; without size= it gets
    // polyns's default limit, which the admin should know of and choose.
    for (const char* line : {"/tmp none tmpfs", "/tmp none tmpfs:mntopts=nosuid,mode=0700",
                             "/tmp none tmpfs:mntopts=nr_inodes=1k", "/tmp none tmpfs:mntopts=sizex=1"}) {
        const Diagnostic d = single_warning(line);
        CHECK(d.loc.col == 11);
        CHECK_THAT(d.message, Catch::Contains("tmpfs without size=") && Catch::Contains("size=10%"));
        CHECK_THAT(d.hint, Catch::Contains("mntopts=size="));
    }
    clean_rule("/tmp none tmpfs:mntopts=size=64M");
    clean_rule("/tmp none tmpfs:mntopts=mode=0700,nr_blocks=100");
    clean_rule("/tmp none tmpfs:mntopts=nosuid,size=0");
    clean_rule("/tmp /x/ user");  // only tmpfs mounts a filesystem of its own
}

TEST_CASE("parser: flag mntopts", "[parser][flags]") {
    Rule r = clean_rule("/tmp /x/ tmpfs:mntopts=size=64M,nosuid,nodev,noexec");
    REQUIRE(r.mntopts.has_value());
    CHECK(*r.mntopts == "size=64M,nosuid,nodev,noexec");
    Diagnostic d = single_error("/tmp /x/ tmpfs:mntopts=");
    CHECK(d.message == "mntopts needs mount options");
    CHECK(single_error("/tmp /x/ tmpfs:mntopts").message == "mntopts needs mount options");
    // As pam_namespace: options apply to tmpfs only; elsewhere they are ignored.
    d = single_warning("/tmp /x/ user:mntopts=size=1M");
    CHECK(d.loc.col == 15);
    CHECK_THAT(d.message, Catch::Contains("only to the tmpfs method"));
    CHECK_FALSE(parse("/tmp /x/ user:mntopts=size=1M").rules.at(0).mntopts.has_value());
}

TEST_CASE("parser: several flags at once", "[parser][flags]") {
    const Rule r = clean_rule(
        "/tmp /tmp-inst/ tmpfs:create=0700,root,root:iscript=t.sh:noinit:mntopts=size=1M ~alice");
    CHECK(r.method == Method::Tmpfs);
    CHECK(*r.create->mode == 0700);
    CHECK(*r.iscript == "t.sh");
    CHECK(r.noinit);
    CHECK(*r.mntopts == "size=1M");
    CHECK(r.only_listed_users);
}

TEST_CASE("parser: flags match exactly, never by prefix", "[parser][flags]") {
    Diagnostic d = single_warning("/tmp /x/ user:createXYZ");
    CHECK(d.loc.col == 15);
    CHECK(d.text == "createXYZ");
    CHECK(d.message == "unknown flag 'createXYZ' in method field; ignored");
    CHECK_THAT(d.hint, Catch::Contains("matched exactly"));
    CHECK_THAT(d.hint, Catch::Contains("`create`"));
    CHECK_FALSE(parse("/tmp /x/ user:createXYZ").rules.at(0).create.has_value());
    CHECK_FALSE(parse("/tmp /x/ user:noinitx").rules.at(0).noinit);
    CHECK_FALSE(parse("/tmp /x/ level:shared2").rules.at(0).shared);
    CHECK_FALSE(parse("/tmp /x/ tmpfs:mntoptsX=size=1M").rules.at(0).mntopts.has_value());
    CHECK_FALSE(parse("/tmp /x/ user:iscripts=a").rules.at(0).iscript.has_value());
}

TEST_CASE("parser: unknown flags are warnings with a useful hint", "[parser][flags]") {
    Diagnostic d = single_warning("/tmp /x/ user:nonit");
    CHECK(d.hint == "did you mean `noinit`?");
    d = single_warning("/tmp /x/ level:root,adm");
    CHECK(d.hint == "did you mean to list users in the 4th field, e.g. `level root,adm`?");
    d = single_warning("/tmp /x/ context:~alice");
    CHECK(d.hint == "did you mean to list users in the 4th field, e.g. `context ~alice`?");
    d = single_warning("/tmp /x/ user:tmpfs");
    CHECK_THAT(d.hint, Catch::Contains("one method"));
    d = single_warning("/tmp /x/ user:frobnicate");
    CHECK_THAT(d.hint, Catch::Contains("known flags"));
    d = single_warning("/tmp /x/ level:root");
    CHECK_THAT(d.hint, Catch::EndsWith("list it in the 4th field: `level root`"));
    d = single_warning("/tmp \"/x/\" \"user\":\\zbad");
    CHECK(d.text == "zbad");
    CHECK(d.loc.col == 19);  // the column of the flag in the source, past quotes and escapes
}

TEST_CASE("parser: empty and repeated flags are warnings", "[parser][flags]") {
    Diagnostic d = single_warning("/tmp /x/ user::noinit");
    CHECK(d.loc.col == 15);
    CHECK_THAT(d.message, Catch::Contains("empty flag"));
    CHECK(single_warning("/tmp /x/ user:").loc.col == 15);
    d = single_warning("/tmp /x/ user:iscript=a:iscript=b");
    CHECK(d.loc.col == 25);
    CHECK_THAT(d.message, Catch::Contains("given twice"));
    CHECK(*parse("/tmp /x/ user:iscript=a:iscript=b").rules.at(0).iscript == "b");
}

// ---------------------------------------------------------------- user lists

TEST_CASE("parser: user list of names; '~' means only these", "[parser][users]") {
    std::vector<UserSelector> u = users_of("root,adm,nosuchuser");
    REQUIRE(u.size() == 3);
    CHECK(u[2].kind == UserSelector::Kind::Name);
    CHECK(u[2].name == "nosuchuser");  // unknown names simply match no one

    const Rule only = clean_rule("/tmp /x/ user ~alice,bob");
    CHECK(only.only_listed_users);
    REQUIRE(only.users.size() == 2);
    CHECK(only.users[0].name == "alice");
    CHECK_FALSE(clean_rule("/tmp /x/ user alice").only_listed_users);
    CHECK(clean_rule("/tmp /x/ user").users.empty());
}

TEST_CASE("parser: @group, uids and uid ranges", "[parser][users]") {
    const std::vector<UserSelector> u = users_of("@wheel,0,1000-1999,4294967294,www-data,1a");
    REQUIRE(u.size() == 6);
    CHECK(u[0].kind == UserSelector::Kind::Group);
    CHECK(u[0].name == "wheel");
    CHECK(u[1].kind == UserSelector::Kind::UidRange);
    CHECK(u[1].first == 0);
    CHECK(u[1].last == 0);
    CHECK(u[2].kind == UserSelector::Kind::UidRange);
    CHECK(u[2].first == 1000);
    CHECK(u[2].last == 1999);
    CHECK(u[3].first == 4294967294u);
    CHECK(u[4].kind == UserSelector::Kind::Name);
    CHECK(u[4].name == "www-data");
    CHECK(u[5].kind == UserSelector::Kind::Name);
    CHECK(users_of("5-5").at(0).last == 5);
}

TEST_CASE("parser: bad user list entries are errors", "[parser][users]") {
    Diagnostic d = single_error("/tmp /x/ user 9-1");
    CHECK(d.loc.col == 15);
    CHECK(d.text == "9-1");
    CHECK_THAT(d.message, Catch::Contains("is empty: 9 > 1"));
    CHECK(d.hint == "write it low to high: `1-9`");

    d = single_error("/tmp /x/ user root,,adm");
    CHECK(d.loc.col == 20);
    CHECK_THAT(d.message, Catch::Contains("empty entry"));
    CHECK(single_error("/tmp /x/ user root,").loc.col == 20);
    CHECK(single_error("/tmp /x/ user ,root").loc.col == 15);

    d = single_error("/tmp /x/ user ~");
    CHECK(d.message == "'~' without users");
    CHECK(d.loc.col == 15);
    CHECK(single_error("/tmp /x/ user \"\"").message == "user list is empty");
    CHECK(single_error("/tmp /x/ user @").message == "'@' without a group name");
    CHECK(single_error("/tmp /x/ user 5-").message == "malformed uid range '5-'");
    CHECK(single_error("/tmp /x/ user -5").message == "malformed uid range '-5'");
    CHECK(single_error("/tmp /x/ user 1-2-3").text == "1-2-3");

    d = single_error("/tmp /x/ user 4294967295");
    CHECK_THAT(d.message, Catch::Contains("out of range"));
    d = single_error("/tmp /x/ user 99999999999999999999999999999");
    CHECK(d.loc.col == 15);
    d = single_error("/tmp /x/ user 0-99999999999");
    CHECK(d.loc.col == 17);  // points at the bound that is out of range
}

TEST_CASE("parser: user list oddities that still match are warnings", "[parser][users]") {
    Diagnostic d = single_warning("/tmp /x/ user root,~adm");
    CHECK(d.loc.col == 20);
    CHECK_THAT(d.message, Catch::Contains("start of the user list"));
    d = single_warning("/tmp /x/ user \"root adm\"");
    CHECK_THAT(d.message, Catch::Contains("contains blanks"));
}

// ---------------------------------------------------------------- diagnostics

TEST_CASE("parser: a line with an error gives no rule; warnings keep it", "[parser][diagnostics]") {
    const Config c = parse(
        "/tmp /tmp-inst/ user:nonit\n"    // warning: kept
        "/var/tmp /v/ bogus\n"            // error: dropped
        "/srv /s/ user 9-1\n"             // error: dropped
        "/run/x /r/ tmpfs:mntopts=size=1M\n");
    REQUIRE(c.rules.size() == 2);
    CHECK(c.rules[0].polydir == "/tmp");
    CHECK(c.rules[1].polydir == "/run/x");
    CHECK(c.error_count() == 2);
    CHECK(c.warning_count() == 1);
    CHECK(c.has_errors());
    CHECK(c.diagnostics.size() == 3);
}

TEST_CASE("parser: one line's diagnostics are ordered by column", "[parser][diagnostics]") {
    const Config c = parse("tmp /x/%{X} bogus:level 9-1");
    REQUIRE(c.diagnostics.size() >= 3);
    for (std::size_t i = 1; i < c.diagnostics.size(); ++i)
        CHECK(c.diagnostics[i - 1].loc.col <= c.diagnostics[i].loc.col);
}

TEST_CASE("parser: every diagnostic has a position, the offending text and a hint",
          "[parser][diagnostics]") {
    const std::vector<std::string> bad_lines = {
        "/tmp",
        "/tmp /x/",
        "/tmp /x/ user a b",
        "/tmp \"/x",
        std::string("/tmp\0", 5),
        "tmp /x/ user",
        "/tmp x/ user",
        "/a/../b /x/ user",
        "/ /x/ user",
        "/tmp /x/%{NOPE} user",
        "/tmp /x/%{UID user",
        "/tmp /x/$FOO user",
        "/tmp /x/ nomethod",
        "/tmp /x/ :user",
        "/tmp /x/ user:createXYZ",
        "/tmp /x/ user:create=abc",
        "/tmp /x/ user:create=750",
        "/tmp /x/ user:create=1,2,3,4",
        "/tmp /x/ user:iscript=",
        "/tmp /x/ user:mntopts=",
        "/tmp /x/ user:mntopts=size=1",
        "/tmp /x/ user:noinit=1",
        "/tmp /x/ user:shared",
        "/tmp /x/ user::",
        "/tmp /x/ user:noinit:noinit",
        "/tmp /x/ level:level,root",
        "/tmp /x/ user ~",
        "/tmp /x/ user \"\"",
        "/tmp /x/ user a,,b",
        "/tmp /x/ user @",
        "/tmp /x/ user 9-1",
        "/tmp /x/ user 1-",
        "/tmp /x/ user 99999999999",
        "/tmp /x/ user a,~b",
        "/tmp /x/ user \"a b\"",
    };
    for (const std::string& line : bad_lines) {
        INFO(line);
        const Config c = parse(line);
        REQUIRE_FALSE(c.diagnostics.empty());
        for (const Diagnostic& d : c.diagnostics) {
            INFO(format_diagnostic(d));
            CHECK(d.loc.file == "test.conf");
            CHECK(d.loc.line == 1);
            CHECK(d.loc.col >= 1);
            CHECK(d.loc.col <= line.size() + 1);
            CHECK_FALSE(d.text.empty());
            CHECK_FALSE(d.message.empty());
            CHECK_FALSE(d.hint.empty());
        }
    }
}

TEST_CASE("format_diagnostic: compiler style on one line", "[diagnostics]") {
    Diagnostic d;
    d.severity = Severity::Error;
    d.loc = SourceLoc{"/etc/security/namespace.conf", 3, 22};
    d.message = "unknown method 'x'";
    d.hint = "did you mean `user`?";
    CHECK(format_diagnostic(d) ==
          "/etc/security/namespace.conf:3:22: error: unknown method 'x' [hint: did you mean `user`?]");
    d.hint.clear();
    d.severity = Severity::Warning;
    CHECK(format_diagnostic(d) == "/etc/security/namespace.conf:3:22: warning: unknown method 'x'");
    d.loc.line = 0;
    d.loc.col = 0;
    CHECK(format_diagnostic(d) == "/etc/security/namespace.conf: warning: unknown method 'x'");
    // Control bytes never reach a terminal or syslog raw.
    d.message = "bad\x1b[31m\nline";
    CHECK(format_diagnostic(d) == "/etc/security/namespace.conf: warning: bad\\x1b[31m\\x0aline");
    CHECK(format_diagnostic(Diagnostic{}).find("error: ") != std::string::npos);
}

TEST_CASE("parser: messages show control bytes escaped", "[diagnostics]") {
    const Diagnostic d = single_warning("/tmp /x/ user:bad\\tflag");
    CHECK(d.text == "bad\tflag");
    CHECK(d.message == "unknown flag 'bad\\x09flag' in method field; ignored");
    // Well-formed UTF-8 is shown as is, broken UTF-8 byte by byte.
    CHECK(single_warning("/tmp /x/ user:caf\xC3\xA9").message ==
          "unknown flag 'caf\xC3\xA9' in method field; ignored");
    CHECK(single_warning("/tmp /x/ user:a\xC3\xFF" "b").message ==
          "unknown flag 'a\\xc3\\xffb' in method field; ignored");
    CHECK(single_warning("/tmp /x/ user:\xE2\x82").message ==
          "unknown flag '\\xe2\\x82' in method field; ignored");
}
