// `agentgraph bench agents`: what an agent costs, each figure next to raw
// CAF 0.17 measured in the same process run (issue 11).
//
//   1. a task on one agent (embedded scripted provider answering at once,
//      no memory, no tools), sequential: each runtime_client::submit
//      callback issues the next submit; the median per task. Baselines: a
//      chain of event-based request/then round trips between two raw typed
//      actors (no timeout: the floor), and a chain whose round trips cross
//      two hops (caller -> relay -> worker and back) with a request timeout
//      on each hop, as a supervised task's hops have;
//   2. tasks/s with 64 in flight (each completion submits the next), next
//      to raw one-hop requests with 64 in flight;
//   3. for each population size N: bytes per agent (heap growth, glibc
//      mallinfo2 uordblks + hblkhd, and RSS growth, /proc/self/statm, over
//      N), process CPU while the N agents sit idle, and the spawn rate of
//      runtime_builder::add_agent (all of it, the first and the last 10 %),
//      next to N idle typed stateful raw actors; at the first size also the
//      breakdown of an agent's bytes that the public API lets us measure.
//
// Only the public embedding API is used on the agentgraph side (Runtime,
// runtime_builder, runtime_client, the metrics registry): what is measured
// is what an application gets. Growing a population stops at the time cap
// or when the machine runs short of memory, and says so; no figure is ever
// extrapolated to the size that was asked. The JSON's population keys
// (bytes_per_agent, idle_cpu_pct_10k, ...) are the first size's: 10 K
// unless --agents names others (the `agents` key says which).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/host/runtime.hpp"
#include "apps/cli/bench_llm.hpp"
#include "apps/cli/commands.hpp"

namespace agentgraph {
class runtime_builder;
}

namespace agentgraph::cli {

// Bounds of the command's options.
inline constexpr uint64_t bench_agents_tasks_max = 1'000'000;
inline constexpr uint64_t bench_agents_population_max = 2'000'000;
inline constexpr size_t bench_agents_populations_max = 4;
inline constexpr uint32_t bench_agents_time_cap_s_max = 3'600;
// Tasks in flight of the throughput rows (issue 11's measure).
inline constexpr uint32_t bench_agents_window = 64;
// The timeout of every hop of the raw two-hop chain: agent_config's default
// request_timeout, the deadline an agent's hops carry.
inline constexpr auto bench_agents_hop_timeout = std::chrono::seconds{30};
// Growth stops when the machine's MemAvailable falls below this: the
// benchmark must not push a shared machine into the OOM killer.
inline constexpr uint64_t bench_agents_mem_available_min = 2ull << 30;

// --- process probes (bench_agents_probe.cpp) ---

// What the process holds at one moment.
struct process_sample {
  int64_t heap_bytes = 0;  // glibc mallinfo2: uordblks + hblkhd, every arena
  int64_t rss_bytes = 0;   // /proc/self/statm resident pages * page size
};
[[nodiscard]] process_sample sample_process();
// User + system CPU of the whole process (every thread), in seconds.
[[nodiscard]] double process_cpu_seconds();
// MemAvailable of /proc/meminfo in bytes; UINT64_MAX when unreadable.
[[nodiscard]] uint64_t mem_available_bytes();
// The machine's 1-minute load average (/proc/loadavg); -1 when unreadable.
// Printed with the figures: on a shared machine the idle CPU row is bounded
// by the CPU the process gets.
[[nodiscard]] double load_average_1m();
// Process CPU over `window` of wall time, in percent of one core; the
// calling thread sleeps meanwhile.
[[nodiscard]] double idle_cpu_pct(std::chrono::milliseconds window);
// Gives freed heap pages back to the kernel (malloc_trim), so the RSS
// growth of the next population starts from a trimmed heap.
void trim_heap();
// The process's peak RSS so far (VmHWM of /proc/self/status); 0 when
// unreadable.
[[nodiscard]] int64_t peak_rss_bytes();
// Resets VmHWM to the current RSS (writes 5 to /proc/self/clear_refs), so
// a later peak_rss_bytes is the peak of what follows; false when the kernel
// refused (the peak then covers the whole process).
[[nodiscard]] bool reset_peak_rss();

// --- one population: N idle actors or agents, grown and held ---

// How a population grew. Checkpoints are (count, seconds since the start)
// pairs, about 100 of them, so the first and last 10 % can be told apart.
struct growth_figures {
  uint64_t target = 0;
  uint64_t reached = 0;
  std::string stopped_by;  // empty when reached == target
  double seconds = 0;      // wall time of the whole growth
  std::vector<std::pair<uint64_t, double>> checkpoints;
  process_sample before;  // after the warm-up unit, before growing
  process_sample after;   // after growing and the settle period
  double idle_cpu_pct = 0;
  [[nodiscard]] double per_second() const { return seconds > 0 ? reached / seconds : 0; }
  [[nodiscard]] double first_10pct_per_second() const;
  [[nodiscard]] double last_10pct_per_second() const;
  [[nodiscard]] double heap_bytes_per_unit() const;
  [[nodiscard]] double rss_bytes_per_unit() const;
};

// Drives a growth loop: `add(i)` adds unit i (false with `why` set stops
// the growth), checking the time cap and the machine's memory, recording
// checkpoints and printing progress to stderr every few seconds.
// `what` names the units in the progress lines ("agents").
class growth_loop {
 public:
  growth_loop(growth_figures& out, std::chrono::seconds time_cap, std::string what);
  template <class Add>
  void run(Add&& add) {
    std::string why;
    for (uint64_t i = 0; i < out_.target; ++i) {
      if (!add(i, why)) {
        out_.stopped_by = why;
        break;
      }
      if (!step(i + 1))
        break;
    }
    finish();
  }

 private:
  bool step(uint64_t count);  // false: stop (stopped_by set)
  void finish();
  growth_figures& out_;
  std::chrono::seconds time_cap_;
  std::string what_;
  uint64_t checkpoint_every_ = 1;
  bench_clock::time_point start_;
  bench_clock::time_point last_progress_;
  uint64_t last_progress_count_ = 0;
};

// --- raw CAF baselines (bench_agents_raw.cpp) ---

// A chain (window 1) or a closed loop (window > 1) of requests from one
// event-based actor: `warmup` first, then `count` measured ones.
// two_hops: each request goes to a relay that asks the worker, each hop
// with bench_agents_hop_timeout; otherwise straight to the worker with no
// timeout. Figures as run_actor_loop's (bench_loop.hpp).
[[nodiscard]] loop_result run_raw_requests(caf::actor_system& sys, bool two_hops, uint32_t window,
                                           uint64_t warmup, uint64_t count);

// N idle typed stateful raw actors spawned from this thread into `sys`
// (after one warm-up actor), held through the settle period and the idle
// CPU window, then stopped.
[[nodiscard]] growth_figures grow_raw_actors(caf::actor_system& sys, uint64_t n,
                                             std::chrono::seconds time_cap,
                                             std::chrono::milliseconds settle,
                                             std::chrono::milliseconds idle_window);

// --- the agentgraph side (bench_agents_runtime.cpp), public API only ---

// A fresh directory <temp>/agentgraph-bench-<what>-<pid> (emptied first),
// removed with its contents when destroyed. error() is set when it could
// not be made.
class bench_temp_dir {
 public:
  explicit bench_temp_dir(const std::string& what);
  ~bench_temp_dir();
  bench_temp_dir(const bench_temp_dir&) = delete;
  bench_temp_dir& operator=(const bench_temp_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] const std::error_code& error() const { return error_; }

 private:
  std::filesystem::path path_;
  std::error_code error_;
};

// Writes the scripted rules every bench agent's provider reads (one rule:
// "pong" at once, whatever the task) into `dir`; returns the file's path.
[[nodiscard]] caf::expected<std::string> write_instant_rules(const std::filesystem::path& dir);

// The reply of the instant rule: a task answering anything else failed.
inline constexpr const char* bench_instant_reply = "pong";
// Adds the scripted provider named "scripted" reading `rules`.
[[nodiscard]] caf::error add_instant_provider(runtime_builder& build, const std::string& rules);

// The Runtime of the task rows: the scripted provider and one agent,
// `bench_task_agent`, that accepts a full window of tasks at once.
inline constexpr const char* bench_task_agent = "bench";
[[nodiscard]] caf::expected<std::unique_ptr<Runtime>> make_task_runtime(const std::string& rules,
                                                                      const runtime_options& opts);

// Tasks on `agent`: `window` in flight, each completion submitting the
// next from its runtime_client::submit callback (window 1: a chain).
// latency_ns: from submit to callback, per measured task (failed ones
// too); seconds: from the submit of the first measured task to the last
// completion. A task that fails or does not answer "pong" is an error.
[[nodiscard]] loop_result run_agent_tasks(Runtime& rt, const std::string& agent, uint32_t window,
                                          uint64_t warmup, uint64_t count,
                                          const std::string& id_prefix);

// N agents added through runtime_builder::add_agent to a fresh Runtime
// (one scripted provider shared by all, every other agent_config key at its
// default), after one warm-up agent; with the figures of the breakdown
// that can be read from outside. idle_window 0: no idle CPU measure.
struct agent_population {
  growth_figures growth;
  std::string error;  // set when the Runtime could not be set up
  // CAF actors running (actor_registry::running) added per agent.
  double actors_per_agent = 0;
  // The metrics registry before and after the growth.
  size_t families_before = 0;
  size_t families_after = 0;
  uint64_t series_refused_before = 0;
  uint64_t series_refused_after = 0;
  size_t scrape_bytes_before = 0;
  size_t scrape_bytes_after = 0;
  // agent_stats::memory_bytes (the agent's own accounting of its state),
  // mean over a sample of agents spread over the population.
  double state_bytes_mean = 0;
  uint32_t state_samples = 0;
  double shutdown_seconds = 0;  // Runtime::shutdown of the population
};
[[nodiscard]] agent_population grow_agents(const std::string& rules, uint64_t n,
                                           const std::string& system_prompt,
                                           std::chrono::seconds time_cap,
                                           std::chrono::milliseconds settle,
                                           std::chrono::milliseconds idle_window,
                                           const runtime_options& opts);

}  // namespace agentgraph::cli
