// `agentgraph bench agents`: the agentgraph side (bench_agents.hpp), through
// the public embedding API only (what an application gets): Runtime,
// runtime_builder::add_provider/add_agent, runtime_client::submit with a
// callback and stats, the metrics registry.
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include <caf/actor_registry.hpp>

#include "actors/host/agentgraph.hpp"
#include "apps/cli/bench_agents.hpp"

namespace agentgraph::cli {

namespace bench_agents_runtime_detail {

// Agents whose agent_stats are read for the breakdown.
constexpr uint64_t state_samples_max = 16;

// Shared by the submit callbacks, which run on CAF threads, several at a
// time when the window is above 1: counters are atomic; latency slot i is
// written only by task i's callback; measured_from by the submit of the
// first measured task, ended by the last callback (both ordered before
// `finished` through the answered counter); the waiting thread reads after
// `finished`.
struct task_loop {
  Runtime* rt = nullptr;
  std::string agent;
  std::string id_prefix;
  uint64_t warmup = 0;
  uint64_t total = 0;
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> answered{0};
  std::vector<int64_t> latency_ns;  // sized total - warmup up front
  bench_clock::time_point measured_from;
  bench_clock::time_point ended;
  std::atomic<uint64_t> errors{0};
  // Set when the waiting thread gave up: no further submits.
  std::atomic<bool> cancelled{false};
  std::mutex first_error_mutex;
  std::string first_error;  // guarded by first_error_mutex
  std::promise<void> finished;
};
using task_loop_ptr = std::shared_ptr<task_loop>;

void submit_next(const task_loop_ptr& st);

void on_done(const task_loop_ptr& st, uint64_t i, bench_clock::time_point begin,
             const caf::expected<task_result>& r) {
  const auto now = bench_clock::now();
  if (i >= st->warmup)
    st->latency_ns[i - st->warmup]
      = std::chrono::duration_cast<std::chrono::nanoseconds>(now - begin).count();
  if (!r || r->output != bench_instant_reply) {
    st->errors.fetch_add(1);
    std::lock_guard<std::mutex> lock{st->first_error_mutex};
    if (st->first_error.empty())
      st->first_error = r ? "unexpected answer '" + r->output + "'" : describe(r.error());
  }
  const uint64_t n = st->answered.fetch_add(1) + 1;
  if (n == st->total) {
    st->ended = now;
    st->finished.set_value();
    return;
  }
  submit_next(st);
}

void submit_next(const task_loop_ptr& st) {
  const uint64_t i = st->sent.fetch_add(1);
  if (i >= st->total || st->cancelled.load())
    return;
  const auto begin = bench_clock::now();
  if (i == st->warmup)
    st->measured_from = begin;
  runtime_client{*st->rt}.submit(st->agent, task_request{st->id_prefix + std::to_string(i), "ping", {}},
                                 [st, i, begin](caf::expected<task_result> r) {
                                   on_done(st, i, begin, r);
                                 });
}

// Evenly spread agent indexes of a population of `reached`.
std::vector<uint64_t> sample_indexes(uint64_t reached) {
  std::vector<uint64_t> out;
  const uint64_t n = std::min(reached, state_samples_max);
  for (uint64_t k = 0; k < n; ++k)
    out.push_back(k * reached / n);
  return out;
}

void read_breakdown(Runtime& rt, agent_population& out) {
  auto& reg = rt.metrics();
  out.families_after = reg.family_count();
  out.series_refused_after = reg.series_refused();
  out.scrape_bytes_after = reg.scrape().size();
  runtime_client client{rt};
  uint64_t sum = 0;
  for (uint64_t i : sample_indexes(out.growth.reached)) {
    auto s = client.stats("a" + std::to_string(i));
    if (!s)
      continue;
    sum += s->memory_bytes;
    ++out.state_samples;
  }
  out.state_bytes_mean = out.state_samples > 0 ? static_cast<double>(sum) / out.state_samples : 0;
}

}  // namespace bench_agents_runtime_detail

bench_temp_dir::bench_temp_dir(const std::string& what) {
  path_ = std::filesystem::temp_directory_path(error_)
          / ("agentgraph-bench-" + what + "-" + std::to_string(::getpid()));
  if (error_)
    return;
  std::filesystem::remove_all(path_, error_);
  if (!error_)
    std::filesystem::create_directories(path_, error_);
}

bench_temp_dir::~bench_temp_dir() {
  std::error_code ignored;
  if (!path_.empty())
    std::filesystem::remove_all(path_, ignored);
}

caf::expected<std::string> write_instant_rules(const std::filesystem::path& dir) {
  const auto path = (dir / "instant.rules.json").string();
  std::ofstream out{path};
  out << R"({"rules":[{"name":"instant reply","reply":")"
      << bench_instant_reply << R"("}]})";
  out.close();
  if (!out)
    return make_error(errc::io_error, "cannot write " + path);
  return path;
}

caf::error add_instant_provider(runtime_builder& build, const std::string& rules) {
  provider_config p;
  p.name = "scripted";
  p.kind = provider_kind::scripted;
  p.rules = rules;
  auto h = build.add_provider(p);
  return h ? caf::error{} : std::move(h.error());
}

caf::expected<std::unique_ptr<Runtime>> make_task_runtime(const std::string& rules,
                                                          const runtime_options& opts) {
  auto rt = std::make_unique<Runtime>(opts);
  runtime_builder build{*rt};
  if (auto err = add_instant_provider(build, rules))
    return err;
  agent_config a;
  a.name = bench_task_agent;
  a.provider = "scripted";
  // The throughput row keeps a full window in flight; the default (16)
  // would answer the rest `overloaded`.
  a.tasks_in_flight_max = 2 * bench_agents_window;
  if (auto h = build.add_agent(a); !h)
    return std::move(h.error());
  return rt;
}

loop_result run_agent_tasks(Runtime& rt, const std::string& agent, uint32_t window,
                            uint64_t warmup, uint64_t count, const std::string& id_prefix) {
  using namespace bench_agents_runtime_detail;
  auto st = std::make_shared<task_loop>();
  st->rt = &rt;
  st->agent = agent;
  st->id_prefix = id_prefix;
  st->warmup = warmup;
  st->total = warmup + count;
  st->latency_ns.resize(count);
  auto done = st->finished.get_future();
  for (uint32_t k = 0; k < window; ++k)
    submit_next(st);
  loop_result out;
  if (done.wait_for(bench_loop_wait_max) != std::future_status::ready) {
    st->cancelled = true;
    out.add_error("no end within the loop's bound");
    return out;
  }
  out.latency_ns = std::move(st->latency_ns);
  out.seconds = std::chrono::duration<double>(st->ended - st->measured_from).count();
  out.errors = st->errors.load();
  out.first_error = st->first_error;
  return out;
}

agent_population grow_agents(const std::string& rules, uint64_t n, const std::string& system_prompt,
                             std::chrono::seconds time_cap, std::chrono::milliseconds settle,
                             std::chrono::milliseconds idle_window, const runtime_options& opts) {
  using namespace bench_agents_runtime_detail;
  agent_population out;
  out.growth.target = n;
  Runtime rt{opts};
  runtime_builder build{rt};
  if (auto err = add_instant_provider(build, rules)) {
    out.error = describe(err);
    return out;
  }
  // The minimal agent: a name, the shared provider, everything else at its
  // default (no memory, no tools).
  agent_config a;
  a.provider = "scripted";
  a.system_prompt = system_prompt;
  a.name = "warm-up";
  // The first agent pays one-off costs (metric families, CAF's first spawn
  // of each actor type): it comes before the baseline sample.
  if (auto h = build.add_agent(a); !h) {
    out.error = describe(h.error());
    return out;
  }
  auto& reg = rt.metrics();
  out.families_before = reg.family_count();
  out.series_refused_before = reg.series_refused();
  out.scrape_bytes_before = reg.scrape().size();
  const size_t running_before = rt.system().registry().running();
  out.growth.before = sample_process();
  growth_loop{out.growth, time_cap, "agents"}.run([&](uint64_t i, std::string& why) {
    a.name = "a" + std::to_string(i);
    auto h = build.add_agent(a);
    if (!h)
      why = "add_agent failed: " + describe(h.error());
    return static_cast<bool>(h);
  });
  std::this_thread::sleep_for(settle);
  out.growth.after = sample_process();
  const size_t running_after = rt.system().registry().running();
  if (idle_window.count() > 0)
    out.growth.idle_cpu_pct = idle_cpu_pct(idle_window);
  if (out.growth.reached > 0)
    out.actors_per_agent = (static_cast<double>(running_after) - static_cast<double>(running_before))
                           / static_cast<double>(out.growth.reached);
  read_breakdown(rt, out);
  if (out.growth.reached >= 100'000)
    std::fprintf(stderr, "bench agents: stopping %llu agents\n",
                 static_cast<unsigned long long>(out.growth.reached));
  const auto t0 = bench_clock::now();
  (void)rt.shutdown();
  out.shutdown_seconds = std::chrono::duration<double>(bench_clock::now() - t0).count();
  return out;
}

}  // namespace agentgraph::cli
