// `agentgraph bench population` (issue 14): what a population of keyed
// agents costs on one node, each figure measured in this run, next to raw
// CAF 0.17 actors spawned in the same process.
//
//   1. raw baseline: `active_max` idle typed stateful actors (bench agents'
//      grow_raw_actors): bytes and microseconds per spawn;
//   2. touch: one real task (pop_execute, the scripted provider answering
//      at once) on every key k0..k<keys-1>, `touch_window` in flight from one
//      event-based actor, in chunks; between chunks the process's RSS and
//      the population's stats are read (active <= active_max is checked),
//      and the run stops early when the machine's MemAvailable falls below
//      bench agents' bound. The RSS after the first active_max keys (all
//      active, none passivated yet) and at the end give bytes per active and
//      per passivated key;
//   3. activation: pop_passivate_all, then pop_activate on `activations`
//      distinct random saved keys, one at a time from an event-based actor
//      (what an actor caller sees): p50/p99 of request -> reply.
//
// Only the public embedding API on the agentgraph side (Runtime,
// runtime_builder::add_population, Runtime::population and its messages).
// The population's store is a SQLite file in a fresh temp directory,
// removed at the end. Nothing is extrapolated: a run stopped early reports
// the keys it reached.
#pragma once

#include <cstdint>
#include <string>

#include "actors/host/runtime.hpp"
#include "apps/cli/bench_agents.hpp"

namespace agentgraph::cli {

// Bounds of the command's options.
inline constexpr uint64_t bench_population_keys_max = 10'000'000;
inline constexpr uint64_t bench_population_active_max_max = 1'000'000;
inline constexpr uint64_t bench_population_activations_max = 1'000'000;
// Tasks in flight while touching (well under the population's
// activating_max default, 4096: no task is refused as overloaded).
inline constexpr uint32_t bench_population_touch_window = 256;
// The population's type: keys are "bench/k<i>".
inline constexpr const char* bench_population_type = "bench";

struct population_bench_options {
  uint64_t keys = 1'000'000;
  uint64_t active_max = 0;  // 0: min(keys / 10, 100000)
  uint64_t activations = 10'000;
  uint64_t activation_warmup = 200;
  std::chrono::seconds raw_time_cap{120};
  bool json = false;
  double load_at_start = -1;
  runtime_options runtime;
};

// RSS and heap at one point of the touch phase.
struct population_sample {
  uint64_t touched = 0;
  double seconds = 0;  // since the touch began
  process_sample process;
  uint64_t active = 0;  // population_stats::active
};

struct population_bench_figures {
  std::string error;       // set when the run could not be done
  uint64_t touched = 0;    // keys that got their task (== keys unless stopped)
  std::string stopped_by;  // empty unless touching stopped early
  uint64_t task_errors = 0;
  std::string first_task_error;
  double touch_seconds = 0;
  row_figures touch;  // latencies of the touching tasks
  uint64_t max_active_seen = 0;
  bool active_bound_held = true;  // every stats read had active <= active_max
  process_sample at_start;        // before the first key
  process_sample at_active_max;   // after the first active_max keys
  process_sample at_end;          // after the last key
  std::vector<population_sample> samples;
  int64_t peak_rss_bytes = 0;  // VmHWM after touching and activating
  bool peak_reset = false;     // VmHWM was reset after the raw phase
  // Activation of saved keys, all passivated first.
  uint64_t passivated_all = 0;  // pop_passivate_all's answer
  // Set when pop_passivate_all did not answer: the activations were then
  // drawn from the keys evicted while touching.
  std::string passivate_all_error;
  row_figures activation;
  uint64_t activation_errors = 0;
  std::string first_activation_error;
  population_stats stats_end;  // stats at the end of the run
  double shutdown_seconds = 0;
  growth_figures raw;  // the raw CAF baseline
};

// The active_max the run uses: o.active_max, or min(keys / 10, 100000).
[[nodiscard]] uint64_t population_active_max(const population_bench_options& o);

// The run, phases in order (raw, touch, activation). Progress on stderr.
[[nodiscard]] population_bench_figures run_population_bench(const population_bench_options& o);

}  // namespace agentgraph::cli
