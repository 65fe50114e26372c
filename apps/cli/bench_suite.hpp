// `agentgraph bench all` (issue 15): the pure part of the suite. The command
// (cmd_bench_suite.cpp) runs every sub-benchmark as a child process of this
// executable (`bench <sub> --json [--quick]`) and hands each child's JSON
// here; this file turns it into headline figures next to the baseline the
// same child measured, and formats the summary as text, markdown and JSON.
// No process, clock or file in here, so tests/unit/bench_suite_test.cpp
// drives it with JSON captured from real runs (tests/data/bench_suite/).
//
// One mechanism picks the figures: a table of specs (bench_suite.cpp,
// `figure_specs`), each naming a path into the child's JSON for our figure
// and, when the child measured one, a path for its baseline. A path that
// is absent or null is reported as missing; no figure or baseline is ever
// made up.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentgraph::cli {

// A sub-benchmark the suite knows, in the order the suite runs them, with
// the wall time it may take before the suite kills it, in seconds (why
// these: suite_benches() in bench_suite.cpp).
struct suite_bench {
  std::string_view name;
  int quick_bound_s;
  int full_bound_s;
};

[[nodiscard]] const std::vector<suite_bench>& suite_benches();

// `--only llm,cluster`: the names in suite order, or the reason the list is
// bad (an unknown or repeated name, an empty item). Empty text: all of them.
struct suite_selection {
  std::vector<suite_bench> benches;
  std::string error;
};
[[nodiscard]] suite_selection select_benches(std::string_view only);

// The value at `path` in `doc`, or nothing when any step is absent or the
// value is null. A path is steps joined by '.'; a step is an object key,
// optionally followed by `[field=value&field=value]`, which picks the first
// element of that array whose fields have those values (strings compared
// as text, numbers numerically, booleans as true/false). Inside brackets
// '.' and ',' are plain text (row names hold both).
[[nodiscard]] std::optional<nlohmann::json> json_at(const nlohmann::json& doc,
                                                    std::string_view path);

// One headline figure of a sub-benchmark and its same-run baseline.
struct suite_figure {
  std::string key;    // unique within the sub-benchmark, e.g. "req_per_s_c32"
  std::string label;  // what was measured, for people
  std::string unit;   // "req/s", "us", "bytes", ...
  bool higher_is_better = true;
  std::optional<double> value;
  // Empty when the sub-benchmark's JSON has no baseline for this figure.
  std::string baseline_label;
  std::optional<double> baseline;
  // value / baseline, when both are there and the baseline is not zero.
  std::optional<double> ratio;
  // The `errors` field of the row a figure (or its baseline) came from,
  // when that row has one and it is not zero: a rate with failures in it
  // is shown with them, never alone.
  std::optional<double> errors;
  std::optional<double> baseline_errors;
  // What was looked for and not found (paths); empty when nothing was.
  std::vector<std::string> missing;
};

// The headline figures of `bench` (a suite_benches() name) from its JSON.
// A figure whose path is absent keeps its spec (key, label) with an empty
// value and the path in `missing`.
[[nodiscard]] std::vector<suite_figure> extract_figures(std::string_view bench,
                                                        const nlohmann::json& raw);

// What ran the suite, measured at run time (cmd_bench_suite.cpp fills it).
struct machine_info {
  std::string cpu_model;
  unsigned cpus = 0;  // logical CPUs in /proc/cpuinfo
  double ram_gib = 0;
  std::string kernel;    // uname: sysname release machine
  std::string compiler;  // "gcc 12.2.0"
  std::string build;     // CMake build type and flags, and whether optimised
  std::string caf_version;
  std::string date_utc_start;
  std::string date_utc_end;
  std::string load_average_start;  // /proc/loadavg's first three fields
  std::string load_average_end;
};

// Pure parsers of /proc text (bounded: the first 4096 lines).
[[nodiscard]] std::string cpu_model_of(std::string_view cpuinfo);
[[nodiscard]] unsigned cpu_count_of(std::string_view cpuinfo);
[[nodiscard]] double mem_total_gib_of(std::string_view meminfo);
// "1706" -> "0.17.6" (CAF_VERSION's encoding: major * 10000 + minor * 100 + patch).
[[nodiscard]] std::string caf_version_of(long encoded);

// One sub-benchmark's run.
struct suite_result {
  std::string name;
  bool ok = false;
  std::string reason;  // why it failed: exit status, killed at the bound, bad JSON
  double seconds = 0;
  nlohmann::json raw;  // the child's whole JSON, or null
  std::vector<suite_figure> figures;
};

// {machine:{...}, command, benchmarks:{<name>:{status, seconds, headline,
// baseline, ratio, missing, raw}}, failed:[names]}.
[[nodiscard]] nlohmann::json suite_json(const machine_info& m, const std::string& command,
                                        const std::vector<suite_result>& results);
// The machine block, the command and one table row per figure, for README.
[[nodiscard]] std::string suite_markdown(const machine_info& m, const std::string& command,
                                         const std::vector<suite_result>& results);
// The same for a terminal: aligned columns.
[[nodiscard]] std::string suite_text(const machine_info& m, const std::string& command,
                                     const std::vector<suite_result>& results);

// A figure for people: thousands separated past 1,000, three significant
// digits below ("1,234", "123", "12.3", "1.23", "0.123").
[[nodiscard]] std::string format_figure(double v);

}  // namespace agentgraph::cli
