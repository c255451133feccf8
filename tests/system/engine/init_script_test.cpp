// Init scripts: arguments, environment, fds, process group, timeout, failure,
// trust checks, and a caller that ignores SIGCHLD.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <thread>

#include "isolation.hpp"
#include "polyns/engine.hpp"

using namespace polyns;
using namespace polyns::test;

namespace {

const std::string report_script = R"SH(#!/bin/sh
out=/run/polyns-engine-test/out
echo "args:$1|$2|$3|$4|$5|$6|$#" > $out/args
env | sort > $out/env
ls -l /proc/$$/fd/ > $out/fds
echo "$$ $(cut -d' ' -f5 /proc/$$/stat)" > $out/pgrp
cat /proc/$$/status | grep -E '^(SigIgn|SigBlk)' > $out/signals
exit 0
)SH";

Plan plan_with_script(const std::string& script, unsigned timeout = 30) {
    Plan plan = empty_plan();
    MountStep s = bind_step(tmp_dir(), tmp_template(), "1001");
    s.init_script = script;
    plan.steps = {s};
    plan.init_timeout_seconds = timeout;
    return plan;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("the init script gets the documented args, env, fds and its own process group", "[engine][init]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        make_dir(scratch + "/out", 0755);
        write_file(scratch + "/report.sh", report_script, 0755);
        // An fd the caller leaked (no O_CLOEXEC): the script must not get it.
        write_file(scratch + "/canary", "c");
        int leaked = ::open((scratch + "/canary").c_str(), O_RDONLY);
        CHILD_REQUIRE(checks, leaked >= 0);
        // A caller that blocks and ignores signals: the script starts clean.
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        ::sigprocmask(SIG_BLOCK, &block, nullptr);
        ::signal(SIGINT, SIG_IGN);
        ::setenv("SECRET_FROM_CALLER", "leak", 1);
        CollectingLog log;
        auto state = apply_plan(plan_with_script(scratch + "/report.sh"), log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        std::string args = read_file(scratch + "/out/args");
        CHILD_CHECK_INFO(checks, args == "args:" + tmp_dir() + "|" + tmp_template() + "/1001|1|alice|1|0|6\n", args);  // $6: the template is under the polydir
        std::string env = read_file(scratch + "/out/env");
        std::string expected_env = "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nPOLYNS_INSTANCE=" + tmp_template() +
                                   "/1001\nPOLYNS_INSTANCE_FD=5\nPOLYNS_NEWLY_CREATED=1\nPOLYNS_POLYDIR=" + tmp_dir() +
                                   "\nPOLYNS_USER=alice\n";
        // The shell adds PWD (and nothing else we did not give it).
        std::string env_without_pwd;
        std::istringstream lines(env);
        for (std::string line; std::getline(lines, line);)
            if (line.rfind("PWD=", 0) != 0) env_without_pwd += line + "\n";
        CHILD_CHECK_INFO(checks, env_without_pwd == expected_env, env);
        std::string fds = read_file(scratch + "/out/fds");
        CHILD_CHECK_INFO(checks, contains(fds, "0 -> /dev/null") && contains(fds, "1 -> /dev/null") &&
                                     contains(fds, "2 -> /dev/null"),
                         fds);
        CHILD_CHECK_INFO(checks, !contains(fds, "canary"), fds);
        // Only 0-2, the script itself (3), the instance (5) and what the shell
        // opens for itself (its script file, the redirection to out/fds).
        std::istringstream fd_lines(fds);
        for (std::string line; std::getline(fd_lines, line);) {
            if (line.rfind("total", 0) == 0 || line.empty()) continue;
            bool ok = contains(line, "/dev/null") || contains(line, "/report.sh") || contains(line, "/out/fds") ||
                      contains(line, " 5 -> " + tmp_template() + "/1001");
            CHILD_CHECK_INFO(checks, ok, "unexpected fd: " + line);
        }
        std::istringstream pg(read_file(scratch + "/out/pgrp"));
        long pid = 0, pgrp = -1;
        pg >> pid >> pgrp;
        CHILD_CHECK_INFO(checks, pid == pgrp && pid > 0, read_file(scratch + "/out/pgrp"));
        std::string sigs = read_file(scratch + "/out/signals");
        CHILD_CHECK_INFO(checks, contains(sigs, "SigIgn:\t0000000000000000") && contains(sigs, "SigBlk:\t0000000000000000"),
                         sigs);
        ::close(leaked);
    });
}

TEST_CASE("the init script is told 0 for an existing instance", "[engine][init]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        make_dir(scratch + "/out", 0755);
        make_dir(tmp_template() + "/1001", 0700, 1001, 1001);
        write_file(scratch + "/report.sh", report_script, 0755);
        CollectingLog log;
        auto state = apply_plan(plan_with_script(scratch + "/report.sh"), log);
        CHILD_REQUIRE_INFO(checks, state.ok(), state ? "" : state.error().message());
        std::string args = read_file(scratch + "/out/args");
        CHILD_CHECK_INFO(checks, contains(args, "|0|alice|1|0|6"), args);
    });
}

TEST_CASE("an init script that does not finish is killed with its process group", "[engine][init][timeout]") {
    run_isolated([](ChildChecks& checks) {
        make_standard_layout();
        write_file(scratch + "/hang.sh",
                   "#!/bin/sh\nsleep 300 &\necho $! > /run/polyns-engine-test/bgpid\nsleep 300\n", 0755);
        auto ns = mount_ns_inode();
        auto start = std::chrono::steady_clock::now();
        CollectingLog log;
        auto state = apply_plan(plan_with_script(scratch + "/hang.sh", 1), log);
        auto took = std::chrono::steady_clock::now() - start;
        CHILD_REQUIRE(checks, !state.ok());
        CHILD_CHECK_INFO(checks, state.error().err == ETIMEDOUT, state.error().message());
        CHILD_CHECK(checks, took < std::chrono::seconds(10));
        CHILD_CHECK(checks, mount_ns_inode() == ns);
        CHILD_CHECK(checks, mounts_at_count(tmp_dir()) == 0);
        // The background sleep of the script died with the group.
        pid_t bg = static_cast<pid_t>(std::stol(read_file(scratch + "/bgpid")));
        bool gone = false;
        for (int i = 0; i < 200 && !gone; ++i) {
            std::string stat = read_file("/proc/" + std::to_string(bg) + "/stat");
            gone = stat.empty() || contains(stat, ") Z ");
            if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        CHILD_CHECK(checks, gone);
    });
}

TEST_CASE("init scripts work when the caller ignores or blocks SIGCHLD", "[engine][init][sigchld]") {
    auto mode = GENERATE(as<std::string>{}, "ignored", "blocked", "handler");
    run_isolated([&](ChildChecks& checks) {
        make_standard_layout();
        write_file(scratch + "/ok.sh", "#!/bin/sh\nexit 0\n", 0755);
        write_file(scratch + "/fail.sh", "#!/bin/sh\nexit 7\n", 0755);
        if (mode == "ignored") ::signal(SIGCHLD, SIG_IGN);
        if (mode == "handler") ::signal(SIGCHLD, [](int) {});
        if (mode == "blocked") {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGCHLD);
            ::sigprocmask(SIG_BLOCK, &set, nullptr);
        }
        CollectingLog log;
        auto bad = apply_plan(plan_with_script(scratch + "/fail.sh"), log);
        CHILD_CHECK_INFO(checks, !bad.ok() && contains(bad.error().message(), "exited with status 7"),
                         bad ? "succeeded" : bad.error().message());
        auto good = apply_plan(plan_with_script(scratch + "/ok.sh"), log);
        CHILD_CHECK_INFO(checks, good.ok(), good ? "" : good.error().message());
        struct sigaction now {};
        ::sigaction(SIGCHLD, nullptr, &now);
        if (mode == "ignored") CHILD_CHECK(checks, now.sa_handler == SIG_IGN);
        if (mode == "blocked") CHILD_CHECK(checks, now.sa_handler == SIG_DFL);
    });
}

TEST_CASE("init scripts must be root-owned and not group/other-writable", "[engine][init][refuse]") {
    auto kind = GENERATE(as<std::string>{}, "user-owned", "group-writable", "symlink", "missing", "missing-if-exists");
    run_isolated([&](ChildChecks& checks) {
        make_standard_layout();
        std::string script = scratch + "/init.sh";
        std::string real = scratch + "/real.sh";
        write_file(real, "#!/bin/sh\nexit 0\n", 0755);
        if (kind == "user-owned") {
            write_file(script, "#!/bin/sh\nexit 0\n", 0755);
            CHILD_REQUIRE(checks, ::chown(script.c_str(), 1001, 1001) == 0);
        } else if (kind == "group-writable") {
            write_file(script, "#!/bin/sh\nexit 0\n", 0775);
        } else if (kind == "symlink") {
            CHILD_REQUIRE(checks, ::symlink(real.c_str(), script.c_str()) == 0);
        }
        Plan plan = plan_with_script(script);
        plan.steps[0].init_script_if_exists = kind == "missing-if-exists";
        auto ns = mount_ns_inode();
        CollectingLog log;
        auto state = apply_plan(plan, log);
        if (kind == "missing-if-exists") {
            CHILD_CHECK_INFO(checks, state.ok(), state ? "" : state.error().message());
            return;
        }
        CHILD_REQUIRE(checks, !state.ok());
        CHILD_CHECK_INFO(checks, state.error().step == "open init script", state.error().message());
        CHILD_CHECK(checks, mount_ns_inode() == ns);
    });
}
