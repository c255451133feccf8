// Statistics, the stdout table and the JSON document.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace polyns::bench {

struct Summary {
    std::size_t n = 0;
    double median_us = 0;
    double p90_us = 0;
    double mean_us = 0;
    double min_us = 0;
    std::size_t failures = 0;
};

Summary summarize(std::vector<std::int64_t> nanoseconds, std::size_t failures);

// One point of an axis: every subject's summary at one mount-table size,
// polydir count and init-script setting.
// Wall clock is what a login waits for; CPU time (the child's user+system
// time from wait4) is what it costs, and stays meaningful on a busy machine
// where wall time is mostly waiting for a core.
enum class Metric { Wall, Cpu };

struct RunResult {
    std::string label;
    int mounts = 0;           // actual mount-table size
    int mounts_requested = 0; // the axis value
    int polydirs = 0;
    bool init_script = false;
    std::map<std::string, Summary> subjects;  // wall clock, by subject name
    std::map<std::string, Summary> cpu;       // CPU time, by subject name

    const std::map<std::string, Summary>& of(Metric m) const { return m == Metric::Wall ? subjects : cpu; }
    // subject - its floor (medians); nullopt when a subject was not run.
    std::optional<double> overhead(const std::string& name, Metric m = Metric::Wall) const;
    std::optional<double> ratio(const std::string& numerator, const std::string& denominator,
                                Metric m = Metric::Wall) const;
    // What polyns adds beyond loading any module, over the kernel floor:
    // (overhead(polyns) - overhead(module floor)) / overhead(kernel floor).
    std::optional<double> beyond_module_ratio(Metric m = Metric::Wall) const;
};

struct StormResult {
    std::string subject;
    int workers = 0;
    int sessions_per_worker = 0;
    int users = 0;
    int sessions = 0;
    double seconds = 0;
    double cpu_seconds = 0;  // the sessions' own CPU time (their processes, from wait4), summed
    std::size_t failures = 0;
    Summary latency;  // per session, seen by its worker
    double sessions_per_second() const { return seconds > 0 ? sessions / seconds : 0; }
    // What the storm would reach with the cores to itself: sessions per CPU second.
    double sessions_per_cpu_second() const { return cpu_seconds > 0 ? sessions / cpu_seconds : 0; }
};

struct ModuleInfo {
    std::string path;
    long long size_bytes = 0;
    long long loaded_bytes = 0;  // text + data + bss (size(1)); the file also holds debug info
    std::vector<std::string> needed;  // DT_NEEDED
    std::vector<std::string> ldd;     // all shared libraries it loads (ldd)
};

struct Report {
    std::string build_type;
    int cycles = 0;
    int warmup = 0;
    ModuleInfo module;
    std::vector<RunResult> runs;
    std::vector<StormResult> storms;
    std::vector<std::string> notes;
};

ModuleInfo module_info(const std::string& path);

void print_table(const Report& report);
nlohmann::json to_json(const Report& report);

// The targets, evaluated on this report: one line each, PASS/FAIL/N/A.
std::vector<std::string> target_lines(const Report& report, bool& all_met);

}  // namespace polyns::bench
