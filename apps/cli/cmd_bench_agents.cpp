// `agentgraph bench agents` (bench_agents.hpp says what it measures): the
// options, the order of the phases, the table and the JSON object.
//
// Phases, each in a Runtime of its own so that one's timers, clock entries
// and heap do not leak into the next one's figures (the heap is trimmed in
// between):
//   1. the task rows: one Runtime with the scripted provider and one agent;
//      the raw baselines run in that Runtime's actor system, interleaved
//      with the agent's rows over `rounds` rounds;
//   2. per population size N: N raw actors in an empty Runtime's actor
//      system (same runtime_options: scheduler.max-threads=2), then N
//      agents in a fresh Runtime, then (first size only) N agents with a
//      400-byte system prompt, for the prompt's marginal cost.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "actors/host/agentgraph.hpp"
#include "apps/cli/bench_agents.hpp"
#include "apps/cli/cli_options.hpp"
#include "runtime/log.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_bench_agents_detail {

// The task rows run this many interleaved rounds; latencies are pooled,
// rates are the median round's.
constexpr uint32_t rounds = 3;
// The size of the system prompt whose marginal cost the breakdown gives.
constexpr size_t prompt_bytes = 400;
// The population size whose figures the `_1m` JSON keys carry.
constexpr uint64_t million = 1'000'000;

struct agents_options {
  uint64_t tasks = 30'000;
  uint64_t warmup = 3'000;
  std::vector<uint64_t> populations{10'000, million};
  uint32_t time_cap_s = 120;
  std::chrono::milliseconds settle{1'000};
  std::chrono::milliseconds idle_window{2'000};
  bool json = false;
  double load_at_start = -1;  // the machine's, when the run began
  // Every Runtime of the run, the raw baselines' included, is built with it.
  runtime_options runtime;
};

caf::expected<std::vector<uint64_t>> parse_populations(const std::string& text) {
  std::vector<uint64_t> out;
  std::stringstream in{text};
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || n < 1 || n > bench_agents_population_max)
      return make_error(errc::invalid_argument,
                        "--agents: '" + item + "' is not in [1, "
                          + std::to_string(bench_agents_population_max) + "]");
    out.push_back(n);
  }
  if (out.empty() || out.size() > bench_agents_populations_max)
    return make_error(errc::invalid_argument, "--agents: give 1 to "
                                                + std::to_string(bench_agents_populations_max)
                                                + " sizes, comma-separated");
  return out;
}

std::optional<int> parse(const args& argv, agents_options& o) {
  po::options_description desc{"agentgraph bench agents"};
  std::string agents;
  std::string policy = std::string{to_string(o.runtime.scheduler.policy)};
  desc.add_options()("help", "print this help")(
    "tasks", po::value(&o.tasks), "measured tasks per task row, over 3 rounds (default 30000)")(
    "warmup", po::value(&o.warmup), "warm-up tasks per task row, not measured (default 3000)")(
    "agents", po::value(&agents),
    "population sizes, comma-separated (default 10000,1000000; --quick: 10000)")(
    "time-cap-s", po::value(&o.time_cap_s),
    "growing one population stops after this many seconds and reports the count reached "
    "(default 120)")(
    "quick", "a smoke run: 600 tasks, 60 warm-up, 10000 agents, a 1 s idle window (unless given)")(
    "scheduler-policy", po::value(&policy),
    "the CAF scheduler policy of every Runtime in the run, sharing or stealing (default: the "
    "[runtime] scheduler_policy default)")(
    "json", "print one JSON object on stdout instead of the table");
  po::variables_map vm;
  if (auto code = parse_bench_options(argv, "bench agents", desc, vm))
    return code;
  o.json = vm.count("json") > 0;
  if (policy == "sharing" || policy == "stealing") {
    o.runtime.scheduler.policy
      = policy == "sharing" ? scheduler_policy::sharing : scheduler_policy::stealing;
  } else {
    std::cerr << "agentgraph bench agents: --scheduler-policy must be sharing or stealing\n";
    return 2;
  }
  if (vm.count("quick")) {
    o.tasks = vm.count("tasks") ? o.tasks : 600;
    o.warmup = vm.count("warmup") ? o.warmup : 60;
    o.populations = {10'000};
    o.settle = std::chrono::milliseconds{500};
    o.idle_window = std::chrono::milliseconds{1'000};
  }
  if (vm.count("agents")) {
    auto sizes = parse_populations(agents);
    if (!sizes) {
      std::cerr << "agentgraph bench agents: " << describe(sizes.error()) << "\n";
      return 2;
    }
    o.populations = std::move(*sizes);
  }
  if (o.tasks < rounds || o.tasks > bench_agents_tasks_max || o.warmup > bench_agents_tasks_max) {
    std::cerr << "agentgraph bench agents: --tasks must be in [" << rounds << ", "
              << bench_agents_tasks_max << "] and --warmup at most " << bench_agents_tasks_max
              << "\n";
    return 2;
  }
  if (o.time_cap_s < 1 || o.time_cap_s > bench_agents_time_cap_s_max) {
    std::cerr << "agentgraph bench agents: --time-cap-s must be in [1, "
              << bench_agents_time_cap_s_max << "]\n";
    return 2;
  }
  return std::nullopt;
}

// --- phase 1: the task rows ---

struct task_figures {
  row_figures agent_seq;
  row_figures raw_1hop;
  row_figures raw_2hop;
  row_figures agent_window;
  row_figures raw_window;
  row_figures raw_window_2hop;
  double agent_per_s = 0;  // the median round's, window bench_agents_window
  double raw_per_s = 0;
  // The same window through a relay with a deadline per hop: the shape of a
  // task (gate -> agent -> provider) without any of its work.
  double raw_2hop_per_s = 0;
};

void pool(loop_result& into, loop_result r) {
  into.latency_ns.insert(into.latency_ns.end(), r.latency_ns.begin(), r.latency_ns.end());
  into.seconds += r.seconds;
  if (r.errors > 0 && into.errors == 0)
    into.first_error = r.first_error;
  into.errors += r.errors;
}

double median_of(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double rate_of(const loop_result& r) {
  return r.seconds > 0 ? static_cast<double>(r.latency_ns.size()) / r.seconds : 0;
}

task_figures run_task_rows(Runtime& rt, const agents_options& o) {
  const uint64_t count = (o.tasks + rounds - 1) / rounds;
  const uint64_t warmup = (o.warmup + rounds - 1) / rounds;
  auto& sys = rt.system();
  loop_result agent_seq, raw_1hop, raw_2hop, agent_window, raw_window, raw_window_2hop;
  std::vector<double> agent_rates, raw_rates, raw_2hop_rates;
  for (uint32_t r = 0; r < rounds; ++r) {
    // Task ids "s<round>-<i>" (sequential) and "w<round>-<i>" (window);
    // appended, not concatenated: g++ 12 -O2 warns falsely (-Wrestrict)
    // about `"s" + std::to_string(r)`.
    std::string seq_prefix{"s"};
    seq_prefix.append(std::to_string(r)).append("-");
    std::string window_prefix{"w"};
    window_prefix.append(std::to_string(r)).append("-");
    pool(raw_1hop, run_raw_requests(sys, false, 1, warmup, count));
    pool(raw_2hop, run_raw_requests(sys, true, 1, warmup, count));
    pool(agent_seq, run_agent_tasks(rt, bench_task_agent, 1, warmup, count, seq_prefix));
    auto raw_w = run_raw_requests(sys, false, bench_agents_window, warmup, count);
    raw_rates.push_back(rate_of(raw_w));
    pool(raw_window, std::move(raw_w));
    auto raw_w2 = run_raw_requests(sys, true, bench_agents_window, warmup, count);
    raw_2hop_rates.push_back(rate_of(raw_w2));
    pool(raw_window_2hop, std::move(raw_w2));
    auto agent_w = run_agent_tasks(rt, bench_task_agent, bench_agents_window, warmup, count,
                                   window_prefix);
    agent_rates.push_back(rate_of(agent_w));
    pool(agent_window, std::move(agent_w));
  }
  task_figures f;
  f.agent_seq = summarize(std::move(agent_seq));
  f.raw_1hop = summarize(std::move(raw_1hop));
  f.raw_2hop = summarize(std::move(raw_2hop));
  f.agent_window = summarize(std::move(agent_window));
  f.raw_window = summarize(std::move(raw_window));
  f.raw_window_2hop = summarize(std::move(raw_window_2hop));
  f.agent_per_s = median_of(agent_rates);
  f.raw_per_s = median_of(raw_rates);
  f.raw_2hop_per_s = median_of(raw_2hop_rates);
  return f;
}

// --- phase 2: the populations ---

struct population_figures {
  growth_figures raw;
  agent_population agents;
  std::optional<agent_population> with_prompt;  // the first size only
};

std::string prompt_of_size(size_t bytes) {
  const std::string sentence = "You are a careful assistant: answer briefly, name the tool you "
                               "used and say when you are unsure. ";
  std::string out;
  while (out.size() < bytes)
    out += sentence;
  out.resize(bytes);
  return out;
}

population_figures run_population(const std::string& rules, uint64_t n, bool breakdown,
                                  const agents_options& o) {
  population_figures p;
  const std::chrono::seconds cap{o.time_cap_s};
  std::fprintf(stderr, "bench agents: %llu raw actors\n", static_cast<unsigned long long>(n));
  {
    // An empty Runtime: its actor system is configured as the agents' is.
    Runtime raw_rt{o.runtime};
    p.raw = grow_raw_actors(raw_rt.system(), n, cap, o.settle, o.idle_window);
  }
  trim_heap();
  std::fprintf(stderr, "bench agents: %llu agents\n", static_cast<unsigned long long>(n));
  p.agents = grow_agents(rules, n, "", cap, o.settle, o.idle_window, o.runtime);
  trim_heap();
  if (breakdown) {
    std::fprintf(stderr, "bench agents: %llu agents with a %zu-byte system prompt\n",
                 static_cast<unsigned long long>(n), prompt_bytes);
    // Only its bytes are read: no idle CPU window.
    p.with_prompt = grow_agents(rules, n, prompt_of_size(prompt_bytes), cap, o.settle,
                                std::chrono::milliseconds{0}, o.runtime);
    trim_heap();
  }
  return p;
}

// --- output ---

// The table helpers shared with `bench population` (bench_table.cpp).
std::string fmt(double v, int decimals = 0) {
  return format_fixed(v, decimals);
}
std::string ratio(double ours, double raw) {
  return format_ratio(ours, raw);
}
void row(const std::string& name, const std::string& ours, const std::string& raw,
         const std::string& r, const std::string& note) {
  print_versus_row(name, ours, raw, r, note);
}

void print_header(const agents_options& o) {
#ifdef __OPTIMIZE__
  const char* build = "optimized";
#else
  const char* build = "NOT optimized (-O0): these figures say little";
#endif
  std::printf(
    "agentgraph bench agents: build %s; %u hardware threads; CAF scheduler %s, max-threads=%u; "
    "load average %.2f at the start\n"
    "raw CAF 0.17 baselines in this process: the task rows in the agent's own Runtime actor "
    "system,\nthe populations in an empty Runtime's actor system (same runtime_options)\n"
    "task rows: one agent, scripted provider answering at once, no memory, no tools; "
    "%u interleaved rounds,\n%llu measured + %llu warm-up tasks per row in all; "
    "populations: idle CPU over %.1f s after %.1f s settling\n\n",
    build, std::thread::hardware_concurrency(),
    std::string{to_string(o.runtime.scheduler.policy)}.c_str(), o.runtime.scheduler_threads,
    o.load_at_start, rounds,
    static_cast<unsigned long long>(o.tasks), static_cast<unsigned long long>(o.warmup),
    o.idle_window.count() / 1000.0, o.settle.count() / 1000.0);
  row("measure", "agentgraph", "raw CAF", "ag/raw", "raw baseline");
}

void print_tasks(const task_figures& t) {
  const double us = t.agent_seq.p50_ms * 1000;
  const std::string hop_s = std::to_string(
    std::chrono::duration_cast<std::chrono::seconds>(bench_agents_hop_timeout).count());
  row("task us, sequential (median)", fmt(us, 2), fmt(t.raw_1hop.p50_ms * 1000, 2),
      ratio(us, t.raw_1hop.p50_ms * 1000), "1 hop, request/then, no timeout");
  row("task us, sequential (median)", fmt(us, 2), fmt(t.raw_2hop.p50_ms * 1000, 2),
      ratio(us, t.raw_2hop.p50_ms * 1000), "2 hops via a relay, " + hop_s + " s timeout per hop");
  row("tasks/s, " + std::to_string(bench_agents_window) + " in flight", fmt(t.agent_per_s),
      fmt(t.raw_per_s), ratio(t.agent_per_s, t.raw_per_s), "1 hop, no timeout");
  row("tasks/s, " + std::to_string(bench_agents_window) + " in flight", fmt(t.agent_per_s),
      fmt(t.raw_2hop_per_s), ratio(t.agent_per_s, t.raw_2hop_per_s),
      "2 hops via a relay, " + hop_s + " s timeout per hop");
  row("  p50 / p99 us at " + std::to_string(bench_agents_window) + " in flight",
      fmt(t.agent_window.p50_ms * 1000, 1) + " / " + fmt(t.agent_window.p99_ms * 1000, 1),
      fmt(t.raw_window.p50_ms * 1000, 1) + " / " + fmt(t.raw_window.p99_ms * 1000, 1), "", "");
}

void print_population(const population_figures& p, const agents_options& o) {
  const auto& g = p.agents.growth;
  const auto& r = p.raw;
  const std::string stopped = g.stopped_by.empty() ? "" : " (stopped: " + g.stopped_by + ")";
  std::printf("\n%llu agents: reached %llu%s\n", static_cast<unsigned long long>(g.target),
              static_cast<unsigned long long>(g.reached), stopped.c_str());
  if (!p.agents.error.empty()) {
    std::printf("  failed: %s\n", p.agents.error.c_str());
    return;
  }
  const std::string raw_note = std::to_string(r.reached) + " idle typed stateful actors"
                               + (r.stopped_by.empty() ? "" : " (stopped: " + r.stopped_by + ")");
  row("  bytes per agent, heap (mallinfo2)", fmt(g.heap_bytes_per_unit()),
      fmt(r.heap_bytes_per_unit()), ratio(g.heap_bytes_per_unit(), r.heap_bytes_per_unit()),
      raw_note);
  row("  bytes per agent, RSS (statm)", fmt(g.rss_bytes_per_unit()), fmt(r.rss_bytes_per_unit()),
      ratio(g.rss_bytes_per_unit(), r.rss_bytes_per_unit()), "");
  row("  idle CPU, % of one core", fmt(g.idle_cpu_pct, 2), fmt(r.idle_cpu_pct, 2),
      ratio(g.idle_cpu_pct, r.idle_cpu_pct),
      "process CPU over " + fmt(o.idle_window.count() / 1000.0, 1) + " s");
  row("  spawns/s, whole growth", fmt(g.per_second()), fmt(r.per_second()),
      ratio(g.per_second(), r.per_second()), "add_agent vs spawn");
  row("  spawns/s, first 10 % / last 10 %",
      fmt(g.first_10pct_per_second()) + " / " + fmt(g.last_10pct_per_second()),
      fmt(r.first_10pct_per_second()) + " / " + fmt(r.last_10pct_per_second()), "",
      "last / first: " + ratio(g.last_10pct_per_second(), g.first_10pct_per_second()) + " agents, "
        + ratio(r.last_10pct_per_second(), r.first_10pct_per_second()) + " raw");
  row("  Runtime::shutdown, s", fmt(p.agents.shutdown_seconds, 2), "", "", "");
}

void print_breakdown(const population_figures& p) {
  const auto& a = p.agents;
  const auto& g = a.growth;
  std::printf("\nbreakdown of bytes per agent at %llu agents, measured from outside (heap / RSS)\n",
              static_cast<unsigned long long>(g.reached));
  row("  agent via add_agent, all included", fmt(g.heap_bytes_per_unit()) + " / "
      + fmt(g.rss_bytes_per_unit()), "", "", "agent, its supervision, tables, metrics");
  if (p.with_prompt && p.with_prompt->error.empty()) {
    const auto& w = p.with_prompt->growth;
    row("  " + std::to_string(prompt_bytes) + "-byte system prompt, marginal",
        fmt(w.heap_bytes_per_unit() - g.heap_bytes_per_unit()) + " / "
          + fmt(w.rss_bytes_per_unit() - g.rss_bytes_per_unit()),
        "", "", "same population with the prompt, minus the row above");
  }
  row("  agent's own state", fmt(a.state_bytes_mean), "", "",
      "agent_stats.memory_bytes, mean of " + std::to_string(a.state_samples)
        + " agents (its own accounting)");
  row("  CAF actors per agent", fmt(a.actors_per_agent, 2), "", "",
      "actor_registry::running() growth / agents");
  row("  one raw actor, for scale", fmt(p.raw.heap_bytes_per_unit()), "", "",
      "idle typed stateful CAF actor");
  const double n = g.reached > 0 ? static_cast<double>(g.reached) : 1;
  row("  metrics scrape bytes per agent",
      fmt((static_cast<double>(a.scrape_bytes_after) - a.scrape_bytes_before) / n, 1), "", "",
      "families +" + std::to_string(a.families_after - a.families_before)
        + ", series refused +" + std::to_string(a.series_refused_after - a.series_refused_before));
}

nlohmann::json growth_json(const growth_figures& g) {
  return {{"target", g.target},
          {"reached", g.reached},
          {"stopped_by", g.stopped_by},
          {"seconds", g.seconds},
          {"heap_bytes_per_unit", g.heap_bytes_per_unit()},
          {"rss_bytes_per_unit", g.rss_bytes_per_unit()},
          {"idle_cpu_pct", g.idle_cpu_pct},
          {"spawn_per_s", g.per_second()},
          {"spawn_per_s_first_10pct", g.first_10pct_per_second()},
          {"spawn_per_s_last_10pct", g.last_10pct_per_second()}};
}

nlohmann::json population_json(const population_figures& p) {
  const auto& a = p.agents;
  nlohmann::json j = {{"agents", growth_json(a.growth)},
                      {"raw", growth_json(p.raw)},
                      {"actors_per_agent", a.actors_per_agent},
                      {"agent_state_bytes_mean", a.state_bytes_mean},
                      {"shutdown_s", a.shutdown_seconds}};
  if (!a.error.empty())
    j["error"] = a.error;
  return j;
}

void add_breakdown(nlohmann::json& out, const population_figures& p) {
  const auto& a = p.agents;
  const auto& g = a.growth;
  const double n = g.reached > 0 ? static_cast<double>(g.reached) : 1;
  nlohmann::json b = {{"agents", g.reached},
                      {"agent_heap_bytes", g.heap_bytes_per_unit()},
                      {"agent_rss_bytes", g.rss_bytes_per_unit()},
                      {"agent_state_bytes", a.state_bytes_mean},
                      {"agent_state_samples", a.state_samples},
                      {"actors_per_agent", a.actors_per_agent},
                      {"raw_actor_heap_bytes", p.raw.heap_bytes_per_unit()},
                      {"metrics_families_added", a.families_after - a.families_before},
                      {"metrics_series_refused_added",
                       a.series_refused_after - a.series_refused_before},
                      {"metrics_scrape_bytes_per_agent",
                       (static_cast<double>(a.scrape_bytes_after) - a.scrape_bytes_before) / n}};
  if (p.with_prompt && p.with_prompt->error.empty()) {
    const auto& w = p.with_prompt->growth;
    b["prompt_bytes"] = prompt_bytes;
    b["prompt_marginal_heap_bytes"] = w.heap_bytes_per_unit() - g.heap_bytes_per_unit();
    b["prompt_marginal_rss_bytes"] = w.rss_bytes_per_unit() - g.rss_bytes_per_unit();
  }
  out["breakdown"] = std::move(b);
}

nlohmann::json to_json(const task_figures& t, const std::vector<population_figures>& pops,
                       const agents_options& o) {
  nlohmann::json j = {{"bench", "agents"},
                      {"tasks", o.tasks},
                      {"warmup", o.warmup},
                      {"rounds", rounds},
                      {"scheduler_max_threads", o.runtime.scheduler_threads},
                      {"scheduler_policy", to_string(o.runtime.scheduler.policy)},
                      {"raw_system", "task rows: the agent's Runtime actor system; populations: "
                                     "an empty Runtime's actor system (same runtime_options)"},
                      {"task_us", t.agent_seq.p50_ms * 1000},
                      {"task_p99_us", t.agent_seq.p99_ms * 1000},
                      {"raw_1hop_us", t.raw_1hop.p50_ms * 1000},
                      {"raw_2hop_deadline_us", t.raw_2hop.p50_ms * 1000},
                      {"tasks_per_s_64", t.agent_per_s},
                      {"raw_per_s_64", t.raw_per_s},
                      {"raw_2hop_deadline_per_s_64", t.raw_2hop_per_s},
                      {"task_errors", t.agent_seq.errors + t.agent_window.errors},
                      {"idle_window_s", o.idle_window.count() / 1000.0},
                      {"load_average_at_start", o.load_at_start},
                      {"time_cap_s", o.time_cap_s}};
  const auto& first = pops.front();
  const auto& g = first.agents.growth;
  j.update({{"agents", g.target},
            {"agents_reached", g.reached},
            {"stopped_by", g.stopped_by},
            {"bytes_per_agent", g.heap_bytes_per_unit()},
            {"rss_bytes_per_agent", g.rss_bytes_per_unit()},
            {"raw_bytes_per_actor", first.raw.heap_bytes_per_unit()},
            {"raw_rss_bytes_per_actor", first.raw.rss_bytes_per_unit()},
            {"idle_cpu_pct_10k", g.idle_cpu_pct},
            {"raw_idle_cpu_pct_10k", first.raw.idle_cpu_pct},
            {"spawn_per_s", g.per_second()},
            {"spawn_per_s_first_10pct", g.first_10pct_per_second()},
            {"spawn_per_s_last_10pct", g.last_10pct_per_second()},
            {"raw_spawn_per_s", first.raw.per_second()}});
  add_breakdown(j, first);
  for (const auto& p : pops) {
    j["populations"].push_back(population_json(p));
    if (p.agents.growth.target != million || &p == &first)
      continue;
    const auto& m = p.agents.growth;
    j.update({{"agents_reached_1m", m.reached},
              {"bytes_per_agent_1m", m.heap_bytes_per_unit()},
              {"rss_bytes_per_agent_1m", m.rss_bytes_per_unit()},
              {"idle_cpu_pct_1m", m.idle_cpu_pct},
              {"spawn_per_s_1m", m.per_second()},
              {"raw_bytes_per_actor_1m", p.raw.heap_bytes_per_unit()},
              {"raw_idle_cpu_pct_1m", p.raw.idle_cpu_pct},
              {"raw_spawn_per_s_1m", p.raw.per_second()}});
  }
  return j;
}

int run(const agents_options& o) {
  set_log_level(log_severity::error);
  const bench_temp_dir dir{"agents"};
  auto rules = dir.error()
                 ? caf::expected<std::string>{make_error(errc::io_error, dir.error().message())}
                 : write_instant_rules(dir.path());
  if (!rules) {
    std::cerr << "agentgraph bench agents: " << describe(rules.error()) << "\n";
    return 1;
  }
  task_figures tasks;
  {
    std::fprintf(stderr, "bench agents: task rows\n");
    auto rt = make_task_runtime(*rules, o.runtime);
    if (!rt) {
      std::cerr << "agentgraph bench agents: " << describe(rt.error()) << "\n";
      return 1;
    }
    tasks = run_task_rows(**rt, o);
  }
  trim_heap();
  std::vector<population_figures> pops;
  for (size_t i = 0; i < o.populations.size(); ++i)
    pops.push_back(run_population(*rules, o.populations[i], i == 0, o));
  if (o.json) {
    std::cout << to_json(tasks, pops, o).dump(2) << "\n";
  } else {
    print_header(o);
    print_tasks(tasks);
    for (const auto& p : pops)
      print_population(p, o);
    print_breakdown(pops.front());
  }
  bool failed = false;
  for (const auto* f : {&tasks.agent_seq, &tasks.agent_window, &tasks.raw_1hop, &tasks.raw_2hop,
                        &tasks.raw_window, &tasks.raw_window_2hop})
    if (f->errors > 0 || f->requests == 0) {
      std::cerr << "agentgraph bench agents: task errors: " << f->errors
                << (f->errors > 0 ? ", first: " + f->first_error : "") << "\n";
      failed = true;
    }
  for (const auto& p : pops)
    if (!p.agents.error.empty() || p.agents.growth.reached == 0 || p.raw.reached == 0) {
      std::cerr << "agentgraph bench agents: a population failed: " << p.agents.error << "\n";
      failed = true;
    }
  return failed ? 1 : 0;
}

}  // namespace cmd_bench_agents_detail

int bench_agents(const args& argv) {
  cmd_bench_agents_detail::agents_options o;
  if (auto code = cmd_bench_agents_detail::parse(argv, o))
    return *code;
  o.load_at_start = load_average_1m();
  return cmd_bench_agents_detail::run(o);
}

}  // namespace agentgraph::cli
