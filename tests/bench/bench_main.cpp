// polyns-bench: what a session costs with pam_polyns.so, against the kernel
// floor (the same syscalls without PAM) and Linux-PAM's pam_namespace.so, as
// the mount table, the number of polydirs and the login rate grow (issue 5).
//
// Runs only inside the harness's throwaway namespace: use
//   tests/bench/run_bench.sh [OPTIONS]
// which enters it, adds the users and runs this program.
//
//   polyns-bench [--cycles N] [--warmup N] [--mounts 30,1000,4000]
//                [--polydirs 2,8,32] [--storm-workers 16] [--storm-sessions 200]
//                [--storm-users 50] [--no-init-run] [--json FILE] [--subjects a,b]
//                [--module PATH] [--smoke] [--require-targets]
//   polyns-bench loop [--cycles 200] [--user bench00] [--module PATH]
//
// Exit status: 0; 1 when a subject failed to open or close a session (or, in
// loop mode, when fds or mounts were not back to where they started); 2 for
// a setup error; 3 with --require-targets when a target was missed; 64 usage.
// POLYNS_BENCH_PHASES=1 in the environment prints each PAM cycle's pam_start
// and pam_open_session times on stderr (for finding where time goes).
#include <dirent.h>
#include <security/pam_appl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench_report.hpp"
#include "bench_subjects.hpp"
#include "bench_world.hpp"

#ifndef POLYNS_BENCH_BUILD_TYPE
#define POLYNS_BENCH_BUILD_TYPE "unknown"
#endif

namespace polyns::bench {
namespace {

struct Settings {
    int cycles = 300;
    int warmup = 20;
    std::vector<int> mounts{30, 1000, 4000};
    std::vector<int> polydirs{2, 8, 32};
    int storm_workers = 16;
    int storm_sessions = 200;
    int storm_users = 50;
    bool init_run = true;
    std::vector<std::string> only;  // --subjects: run only these (profiling)
    bool require_targets = false;
    std::string json_path;
    std::string module_path;
    // loop mode
    bool loop = false;
    std::string loop_user = "bench00";
};

int usage() {
    std::fprintf(stderr,
                 "usage: polyns-bench [--cycles N] [--warmup N] [--mounts LIST] [--polydirs LIST]\n"
                 "                    [--storm-workers N] [--storm-sessions N] [--storm-users N]\n"
                 "                    [--no-init-run] [--json FILE] [--module PATH] [--smoke] [--require-targets]\n"
                 "       polyns-bench loop [--cycles N] [--user NAME] [--module PATH]\n"
                 "Run it through tests/bench/run_bench.sh (it needs the harness's namespace).\n");
    return 64;
}

bool parse_int(const char* text, int& out, int min) {
    char* end = nullptr;
    long v = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < min || v > 1000000) return false;
    out = static_cast<int>(v);
    return true;
}

bool parse_list(const char* text, std::vector<int>& out) {
    out.clear();
    std::string s(text);
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t comma = s.find(',', start);
        std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        int v = 0;
        if (!parse_int(item.c_str(), v, 1)) return false;
        out.push_back(v);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return !out.empty();
}

bool parse_args(int argc, char** argv, Settings& s) {
    int i = 1;
    if (i < argc && std::string_view(argv[i]) == "loop") {
        s.loop = true;
        s.cycles = 200;
        ++i;
    }
    for (; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        const char* v = nullptr;
        if (a == "--cycles") {
            if (!(v = value()) || !parse_int(v, s.cycles, 1)) return false;
        } else if (a == "--warmup") {
            if (!(v = value()) || !parse_int(v, s.warmup, 0)) return false;
        } else if (a == "--mounts") {
            if (!(v = value()) || !parse_list(v, s.mounts)) return false;
        } else if (a == "--polydirs") {
            if (!(v = value()) || !parse_list(v, s.polydirs)) return false;
        } else if (a == "--storm-workers") {
            if (!(v = value()) || !parse_int(v, s.storm_workers, 0)) return false;
        } else if (a == "--storm-sessions") {
            if (!(v = value()) || !parse_int(v, s.storm_sessions, 1)) return false;
        } else if (a == "--storm-users") {
            if (!(v = value()) || !parse_int(v, s.storm_users, 1)) return false;
        } else if (a == "--json") {
            if (!(v = value())) return false;
            s.json_path = v;
        } else if (a == "--module") {
            if (!(v = value())) return false;
            s.module_path = v;
        } else if (a == "--user") {
            if (!(v = value())) return false;
            s.loop_user = v;
        } else if (a == "--subjects") {
            if (!(v = value())) return false;
            std::string list = v;
            for (std::size_t start = 0; start <= list.size();) {
                std::size_t comma = list.find(',', start);
                s.only.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        } else if (a == "--no-init-run") {
            s.init_run = false;
        } else if (a == "--require-targets") {
            s.require_targets = true;
        } else if (a == "--smoke") {
            s.cycles = 10;
            s.warmup = 2;
            s.mounts = {30};
            s.polydirs = {2};
            s.storm_workers = 4;
            s.storm_sessions = 10;
            s.storm_users = 8;
        } else {
            return false;
        }
    }
    if (s.module_path.empty()) {
        const char* env = std::getenv("POLYNS_MODULE");
        if (env == nullptr) return false;
        s.module_path = env;
    }
    return true;
}

bool linux_pam_module_present() {
    for (const char* dir : {"/usr/lib/x86_64-linux-gnu/security", "/lib/x86_64-linux-gnu/security",
                            "/usr/lib64/security", "/usr/lib/security", "/lib/security"}) {
        if (::access((std::string(dir) + "/pam_namespace.so").c_str(), R_OK) == 0) return true;
    }
    return false;
}

struct Failure {
    std::string what;
};

// Subjects interleaved A B C ... A B C ...: slow drift of the machine
// (another build on the other core) lands on all of them alike.
RunResult measure(const Settings& s, World& world, const std::vector<Subject>& subjects, const BenchUser& user,
                  int mounts_requested, std::vector<Failure>& failures) {
    RunResult run;
    run.mounts_requested = mounts_requested;
    run.mounts = mount_table_size();
    run.polydirs = world.polydirs();
    run.init_script = world.init_script_present();
    run.label = std::to_string(run.mounts) + " mounts, " + std::to_string(run.polydirs) + " polydirs" +
                (run.init_script ? ", namespace.init present" : "");
    std::vector<std::vector<std::int64_t>> samples(subjects.size());
    std::vector<std::vector<std::int64_t>> cpu_samples(subjects.size());
    std::vector<std::size_t> failed(subjects.size(), 0);
    const std::vector<KernelStep> steps = world.kernel_steps(user);
    // persist's repeat login: another session of the user is open meanwhile
    // (opened after configure(), so the pin matches the config measured).
    Holder holder;
    for (const Subject& subj : subjects) {
        if (subj.kind != SubjectKind::PersistRepeat) continue;
        holder = start_holder(subj.service, user.name);
        if (holder.pid < 0) failures.push_back({"persist holder (" + run.label + "): could not open a session"});
    }
    std::fflush(nullptr);
    for (int round = 0; round < s.warmup + s.cycles; ++round) {
        for (std::size_t k = 0; k < subjects.size(); ++k) {
            CycleResult r = run_cycle(subjects[k], subjects[k].user.empty() ? user.name : subjects[k].user, steps);
            if (r.exit_code != 0) {
                ++failed[k];
                if (failed[k] == 1)
                    failures.push_back({subjects[k].name + " (" + run.label + "): " + describe_exit_code(r.exit_code)});
                continue;
            }
            if (round >= s.warmup) {
                samples[k].push_back(r.nanoseconds);
                cpu_samples[k].push_back(r.cpu_nanoseconds);
            }
        }
    }
    if (holder.pid >= 0 && !release_holder(holder))
        failures.push_back({"persist holder (" + run.label + "): its close failed"});
    for (std::size_t k = 0; k < subjects.size(); ++k) {
        run.subjects[subjects[k].name] = summarize(std::move(samples[k]), failed[k]);
        run.cpu[subjects[k].name] = summarize(std::move(cpu_samples[k]), failed[k]);
    }
    return run;
}

double seconds_now() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// 16 workers, each running its sessions back to back (fork -> PAM -> reap),
// users spread so that several workers open the same user's session at once.
StormResult storm(const Settings& s, const Subject& subj, const std::vector<BenchUser>& users) {
    StormResult result;
    result.subject = subj.name;
    result.workers = s.storm_workers;
    result.sessions_per_worker = s.storm_sessions;
    result.users = static_cast<int>(users.size());
    result.sessions = s.storm_workers * s.storm_sessions;
    struct Slot {
        std::int64_t nanoseconds;
        std::int64_t cpu_nanoseconds;
        int exit_code;
    };
    const std::size_t total = static_cast<std::size_t>(result.sessions);
    void* shared = ::mmap(nullptr, total * sizeof(Slot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        std::perror("polyns-bench: mmap");
        std::exit(2);
    }
    auto* slots = static_cast<Slot*>(shared);
    for (std::size_t i = 0; i < total; ++i) slots[i] = {0, 0, -1};  // -1: never ran
    std::fflush(nullptr);
    const double start = seconds_now();
    std::vector<pid_t> workers;
    for (int w = 0; w < s.storm_workers; ++w) {
        pid_t pid = ::fork();
        if (pid < 0) {
            std::perror("polyns-bench: fork");
            break;
        }
        if (pid == 0) {
            for (int k = 0; k < s.storm_sessions; ++k) {
                const BenchUser& u = users[static_cast<std::size_t>(w + k * s.storm_workers) % users.size()];
                CycleResult r = run_cycle(subj, u.name, {});
                slots[static_cast<std::size_t>(w * s.storm_sessions + k)] = {r.nanoseconds, r.cpu_nanoseconds,
                                                                              r.exit_code};
            }
            ::_exit(0);
        }
        workers.push_back(pid);
    }
    for (pid_t pid : workers) {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    result.seconds = seconds_now() - start;
    std::vector<std::int64_t> latencies;
    for (std::size_t i = 0; i < total; ++i) {
        result.cpu_seconds += static_cast<double>(slots[i].cpu_nanoseconds) / 1e9;
        if (slots[i].exit_code == 0) latencies.push_back(slots[i].nanoseconds);
        else ++result.failures;
    }
    result.latency = summarize(std::move(latencies), result.failures);
    ::munmap(shared, total * sizeof(Slot));
    return result;
}

int run_benchmark(const Settings& s) {
    require_harness_namespace();
    World world(s.module_path);
    const int users_needed = std::max(2, s.storm_workers > 0 ? s.storm_users : 2);
    // The parent is set up like a login program just before it opens a
    // session (sshd, su, login, cron): the user was resolved through NSS
    // (bench_users) and it has logged, so the time zone is loaded and its
    // syslog socket is connected. Each child inherits that, as the session
    // process of those programs does; otherwise every subject would pay
    // glibc's first-use costs per cycle.
    const std::vector<BenchUser> users = bench_users(users_needed);
    const BenchUser& user = users.front();
    ::tzset();
    ::openlog("polyns-bench", LOG_NDELAY, LOG_AUTHPRIV);

    Report report;
    report.build_type = POLYNS_BENCH_BUILD_TYPE;
    report.cycles = s.cycles;
    report.warmup = s.warmup;
    report.module = module_info(s.module_path);

    std::vector<Subject> subjects{subject(SubjectKind::Fork), subject(SubjectKind::PamFloor),
                                  subject(SubjectKind::ModuleFloor), subject(SubjectKind::Kernel)};
    const bool have_linux_pam = linux_pam_module_present();
    if (have_linux_pam) subjects.push_back(subject(SubjectKind::LinuxPam));
    else report.notes.push_back("pam_namespace.so not found: the Linux-PAM subject was skipped");
    subjects.push_back(subject(SubjectKind::Polyns));
    subjects.push_back(subject(SubjectKind::PersistRepeat));
    if (users.size() > 1) {
        Subject first = subject(SubjectKind::PersistFirst);
        first.user = users[1].name;  // nobody holds a session of this one
        subjects.push_back(first);
    }
    if (!s.only.empty()) {
        std::erase_if(subjects, [&](const Subject& x) {
            return std::find(s.only.begin(), s.only.end(), x.name) == s.only.end();
        });
    }

    std::vector<Failure> failures;
    world.set_init_script(false);
    report.notes.push_back("namespace.init absent in the main runs: neither module forks a script, like the "
                           "kernel floor; the 'init' run restores Debian's script (both modules then run it)");
    report.notes.push_back("the parent resolved the users (NSS), loaded the time zone and connected to syslog before "
                           "forking, as a login program has when it opens a session; every subject's child inherits that");
    report.notes.push_back("polyns reads its config with conf=" + std::string(polyns_config_path) +
                           " (Linux-PAM has no such option and reads " + linux_pam_config_path + ")");

    std::vector<int> mount_axis = s.mounts;
    std::sort(mount_axis.begin(), mount_axis.end());  // mounts are only ever added
    const int base_mounts = mount_axis.front();
    const int base_size = world.grow_mount_table(base_mounts);
    if (base_size > base_mounts)
        report.notes.push_back("the harness world alone has " + std::to_string(base_size) +
                               " mounts: the smallest mount-table point is " + std::to_string(base_size) +
                               " instead of " + std::to_string(base_mounts));

    // Polydir axis at the smallest mount table (2 first: it is also the mount axis' first point).
    std::vector<int> polydir_axis = s.polydirs;
    std::sort(polydir_axis.begin(), polydir_axis.end());
    if (std::find(polydir_axis.begin(), polydir_axis.end(), 2) == polydir_axis.end()) polydir_axis.insert(polydir_axis.begin(), 2);
    for (int pd : polydir_axis) {
        world.configure(pd);
        std::fprintf(stderr, "polyns-bench: measuring %d mounts, %d polydirs...\n", mount_table_size(), pd);
        report.runs.push_back(measure(s, world, subjects, user, base_mounts, failures));
    }

    world.configure(2);
    if (s.storm_workers > 0) {
        std::fprintf(stderr, "polyns-bench: login storm...\n");
        report.storms.push_back(storm(s, subject(SubjectKind::Polyns), users));
        if (have_linux_pam) report.storms.push_back(storm(s, subject(SubjectKind::LinuxPam), users));
        // persist: every user of the storm has a session open already (repeat logins).
        std::vector<Holder> holders;
        for (const BenchUser& u : users) holders.push_back(start_holder(service_polyns_persist, u.name));
        std::size_t held = 0;
        for (const Holder& h : holders) held += h.pid >= 0 ? 1 : 0;
        if (held != holders.size())
            failures.push_back({"persist storm: " + std::to_string(holders.size() - held) + " holder sessions failed"});
        report.storms.push_back(storm(s, subject(SubjectKind::PersistRepeat), users));
        for (Holder& h : holders) {
            if (h.pid >= 0 && !release_holder(h)) failures.push_back({"persist storm: a holder's close failed"});
        }
    }

    if (s.init_run && have_linux_pam && world.init_script_present() == false) {
        std::fprintf(stderr, "polyns-bench: measuring with namespace.init present...\n");
        world.set_init_script(true);
        std::vector<Subject> init_subjects{subject(SubjectKind::PamFloor), subject(SubjectKind::LinuxPam),
                                           subject(SubjectKind::Polyns)};
        report.runs.push_back(measure(s, world, init_subjects, user, base_mounts, failures));
        world.set_init_script(false);
    }

    for (std::size_t i = 1; i < mount_axis.size(); ++i) {
        int size = world.grow_mount_table(mount_axis[i]);
        std::fprintf(stderr, "polyns-bench: measuring %d mounts, 2 polydirs...\n", size);
        report.runs.push_back(measure(s, world, subjects, user, mount_axis[i], failures));
    }

    print_table(report);
    bool all_met = true;
    std::printf("\n");
    for (const std::string& line : target_lines(report, all_met)) std::printf("%s\n", line.c_str());
    if (!s.json_path.empty()) {
        std::ofstream out(s.json_path);
        out << to_json(report).dump(2) << "\n";
        if (!out) {
            std::fprintf(stderr, "polyns-bench: cannot write %s\n", s.json_path.c_str());
            return 2;
        }
        std::printf("JSON: %s\n", s.json_path.c_str());
    }
    std::fflush(stdout);
    for (const Failure& f : failures) std::fprintf(stderr, "polyns-bench: FAILED: %s\n", f.what.c_str());
    for (const StormResult& st : report.storms) {
        if (st.failures > 0)
            std::fprintf(stderr, "polyns-bench: FAILED: %zu of %d %s storm sessions\n", st.failures, st.sessions,
                         st.subject.c_str());
    }
    bool storm_failed = false;
    for (const StormResult& st : report.storms)
        storm_failed = storm_failed || ((st.subject == "polyns" || st.subject == "persist") && st.failures > 0);
    if (!failures.empty() || storm_failed) return 1;
    if (s.require_targets && !all_met) return 3;
    return 0;
}

// ---------------------------------------------------------------- loop mode

int count_open_fds() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return -1;
    int n = 0;
    while (struct dirent* e = ::readdir(dir)) {
        if (e->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    return n - 1;  // the directory's own fd
}

int quiet_conversation(int count, const pam_message** messages, pam_response** responses, void*) {
    if (count <= 0) return PAM_CONV_ERR;
    for (int i = 0; i < count; ++i) {
        if (messages[i]->msg_style != PAM_ERROR_MSG && messages[i]->msg_style != PAM_TEXT_INFO)
            return PAM_CONV_ERR;
    }
    *responses = static_cast<pam_response*>(std::calloc(static_cast<size_t>(count), sizeof(pam_response)));
    return *responses == nullptr ? PAM_BUF_ERR : PAM_SUCCESS;
}

// One process, one PAM handle, N open/close cycles with unmount_on_close:
// each open unshares again (from the previous session's namespace) and each
// close unmounts what it mounted, so the mount table and the fds must come
// back to where they were. Meant to run under valgrind.
int run_loop(const Settings& s) {
    require_harness_namespace();
    World world(s.module_path);
    world.set_init_script(false);
    world.configure(2);

    const int fds_before = count_open_fds();
    const int mounts_before = mount_table_size();
    const pam_conv conversation{quiet_conversation, nullptr};
    pam_handle_t* handle = nullptr;
    int status = pam_start(service_polyns_loop, s.loop_user.c_str(), &conversation, &handle);
    if (status != PAM_SUCCESS) {
        std::fprintf(stderr, "polyns-bench loop: pam_start: %s\n", pam_strerror(handle, status));
        return 1;
    }
    int fds_after_first = -1, mounts_after_first = -1, failures = 0;
    std::vector<std::int64_t> cycle_cpu;  // the module's work per open+close, without loading it
    for (int i = 0; i < s.cycles; ++i) {
        struct timespec cpu_start {};
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu_start);
        status = pam_open_session(handle, 0);
        if (status != PAM_SUCCESS) {
            std::fprintf(stderr, "polyns-bench loop: cycle %d: pam_open_session: %s\n", i, pam_strerror(handle, status));
            ++failures;
            break;
        }
        status = pam_close_session(handle, 0);
        if (status != PAM_SUCCESS) {
            std::fprintf(stderr, "polyns-bench loop: cycle %d: pam_close_session: %s\n", i, pam_strerror(handle, status));
            ++failures;
            break;
        }
        struct timespec cpu_end {};
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu_end);
        cycle_cpu.push_back((cpu_end.tv_sec - cpu_start.tv_sec) * 1000000000LL + (cpu_end.tv_nsec - cpu_start.tv_nsec));
        if (i == 0) {
            fds_after_first = count_open_fds();
            mounts_after_first = mount_table_size();
        }
    }
    const int fds_after_last = count_open_fds();
    const int mounts_after_last = mount_table_size();
    pam_end(handle, status);
    const int fds_after_end = count_open_fds();
    // libpam logs through syslog(3), whose connection to /dev/log glibc keeps
    // open for the process once used: not the module's. Close it to compare.
    ::closelog();
    const int fds_after = count_open_fds();

    std::printf("polyns-bench loop: %d open/close cycles of %s for %s (unmount_on_close)\n", s.cycles,
                service_polyns_loop, s.loop_user.c_str());
    std::printf("open fds: before pam_start %d, after cycle 1 %d, after cycle %d %d, after pam_end %d, "
                "after closelog %d\n",
                fds_before, fds_after_first, s.cycles, fds_after_last, fds_after_end, fds_after);
    std::printf("mount table: before %d, after cycle 1 %d, after cycle %d %d\n", mounts_before,
                mounts_after_first, s.cycles, mounts_after_last);
    const Summary cpu = summarize(std::move(cycle_cpu), static_cast<std::size_t>(failures));
    std::printf("CPU time per open+close cycle (module already loaded; unshare, mounts and unmounts "
                "included): median %.0f us, p90 %.0f us\n",
                cpu.median_us, cpu.p90_us);
    bool ok = failures == 0 && fds_after == fds_before && fds_after_last == fds_after_first &&
              mounts_after_last == mounts_before && mounts_after_first == mounts_before;
    std::printf("%s\n", ok ? "loop: PASS (every cycle succeeded; fds and mounts back to where they started)"
                           : "loop: FAIL");
    return ok ? 0 : 1;
}

}  // namespace
}  // namespace polyns::bench

int main(int argc, char** argv) {
    polyns::bench::Settings settings;
    if (!polyns::bench::parse_args(argc, argv, settings)) return polyns::bench::usage();
    return settings.loop ? polyns::bench::run_loop(settings) : polyns::bench::run_benchmark(settings);
}
