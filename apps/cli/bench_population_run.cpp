// `agentgraph bench population`: the measured phases (bench_population.hpp),
// through the public embedding API only: Runtime, runtime_builder
// (add_provider, add_population), Runtime::population and its messages.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>
#include <thread>

#include <caf/all.hpp>

#include "actors/host/agentgraph.hpp"
#include "apps/cli/bench_loop.hpp"
#include "apps/cli/bench_population.hpp"
#include "runtime/blocking_ask.hpp"

namespace agentgraph::cli {

namespace bench_population_run_detail {

// Touching runs in about this many chunks; the RSS and stats are read
// between two chunks (the window drains at each boundary, a small cost to
// the rate against a sample that sees no task in flight).
constexpr uint64_t touch_chunks = 100;
constexpr uint64_t touch_chunk_min = 1'000;
// The stats sampler asks the population this often while tasks run: the
// most keys active at once seen under load, not only between chunks.
constexpr auto sampler_every = std::chrono::milliseconds{100};
// Bound on pop_passivate_all's answer.
constexpr auto passivate_all_timeout = std::chrono::seconds{60};
constexpr auto stats_timeout = std::chrono::seconds{30};

std::string key_of(uint64_t i) {
  std::string k{"k"};
  k.append(std::to_string(i));
  return k;
}

caf::expected<population_stats> stats_of(caf::actor_system& sys, const population_actor& pop) {
  return blocking_ask<population_stats>(sys, pop, stats_timeout, "population stats",
                                        stats_atom::value);
}

// Reads the population's stats every sampler_every on its own thread until
// stopped: the largest `active` seen and whether it ever exceeded the bound.
class stats_sampler {
 public:
  stats_sampler(caf::actor_system& sys, population_actor pop, uint64_t active_max)
    : sys_(sys), pop_(std::move(pop)), active_max_(active_max), thread_([this] { loop(); }) {}
  ~stats_sampler() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }
  uint64_t max_active() const { return max_active_.load(); }
  bool bound_held() const { return bound_held_.load(); }
  void observe(uint64_t active) {
    uint64_t prev = max_active_.load();
    while (active > prev && !max_active_.compare_exchange_weak(prev, active)) {
    }
    if (active > active_max_)
      bound_held_ = false;
  }

 private:
  void loop() {
    while (!stop_) {
      if (auto s = stats_of(sys_, pop_))
        observe(s->active);
      std::this_thread::sleep_for(sampler_every);
    }
  }
  caf::actor_system& sys_;
  population_actor pop_;
  uint64_t active_max_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> max_active_{0};
  std::atomic<bool> bound_held_{true};
  std::thread thread_;
};

// One task on each key [from, from + count): `window` in flight from one
// event-based actor. No request timeout: a timed request keeps a clock
// entry until it fires (toolchain.md §9.21), a million of them would be
// part of what is measured; run_actor_loop bounds the wait instead.
std::optional<loop_result> touch(caf::actor_system& sys, const population_actor& pop,
                                 uint64_t from, uint64_t count) {
  return run_actor_loop(
    sys, bench_population_touch_window, 0, count,
    [pop, from](caf::event_based_actor* self, uint64_t i, auto done) {
      self->request(pop, caf::infinite, pop_execute_atom::value, key_of(from + i),
                    task_request{"", "ping", {}})
        .then(
          [done](task_result& r) {
            done(r.output == bench_instant_reply
                   ? caf::error{}
                   : make_error(errc::internal, "unexpected answer '" + r.output + "'"));
          },
          [done](caf::error& err) { done(err); });
    });
}

// Where the next chunk ends: at active_max first (the all-active sample),
// then every `chunk` keys.
uint64_t chunk_end(uint64_t next, uint64_t chunk, uint64_t active_max, uint64_t keys) {
  if (next < active_max)
    return std::min(next + chunk, active_max);
  return std::min(next + chunk, keys);
}

void touch_all(caf::actor_system& sys, const population_actor& pop,
               const population_bench_options& o, uint64_t active_max,
               population_bench_figures& f) {
  const uint64_t chunk = std::max(touch_chunk_min, o.keys / touch_chunks);
  // Latency slots written in place: allocated and made resident before the
  // first sample, so they are not counted as the population's bytes.
  std::vector<int64_t> latency_ns(o.keys, 0);
  size_t filled = 0;
  loop_result pooled;
  auto run_chunk = [&](uint64_t from, uint64_t to) {
    auto r = touch(sys, pop, from, to - from);
    if (!r) {
      f.stopped_by = "a chunk of tasks did not end within the loop's bound";
      return false;
    }
    std::copy(r->latency_ns.begin(), r->latency_ns.end(),
              latency_ns.begin() + static_cast<ptrdiff_t>(filled));
    filled += r->latency_ns.size();
    pooled.seconds += r->seconds;
    if (r->errors > 0 && pooled.errors == 0)
      pooled.first_error = r->first_error;
    pooled.errors += r->errors;
    f.touched = to;
    return true;
  };
  // The first key pays one-off costs (the instance type's first spawn,
  // metric series, the store's first statements): before the baseline.
  if (!run_chunk(0, 1))
    return;
  f.at_start = sample_process();
  stats_sampler sampler{sys, pop, active_max};
  const auto t0 = bench_clock::now();
  uint64_t next = 1;
  while (next < o.keys) {
    const uint64_t end = chunk_end(next, chunk, active_max, o.keys);
    if (!run_chunk(next, end))
      break;
    next = end;
    population_sample s;
    s.touched = next;
    s.seconds = std::chrono::duration<double>(bench_clock::now() - t0).count();
    s.process = sample_process();
    if (auto st = stats_of(sys, pop)) {
      s.active = st->active;
      sampler.observe(st->active);
    }
    f.samples.push_back(s);
    if (next == active_max)
      f.at_active_max = s.process;
    if (next >= active_max && next % (chunk * 10) < chunk)
      std::fprintf(stderr, "bench population: %llu of %llu keys touched, RSS %.0f MB\n",
                   static_cast<unsigned long long>(next), static_cast<unsigned long long>(o.keys),
                   s.process.rss_bytes / 1e6);
    if (next < o.keys && mem_available_bytes() < bench_agents_mem_available_min) {
      f.stopped_by = "memory: the machine's MemAvailable fell below "
                     + std::to_string(bench_agents_mem_available_min >> 30) + " GiB";
      break;
    }
  }
  f.touch_seconds = std::chrono::duration<double>(bench_clock::now() - t0).count();
  sampler.stop();
  f.at_end = sample_process();
  f.max_active_seen = sampler.max_active();
  f.active_bound_held = sampler.bound_held();
  latency_ns.resize(filled);
  pooled.latency_ns = std::move(latency_ns);
  f.task_errors = pooled.errors;
  f.first_task_error = pooled.first_error;
  f.touch = summarize(std::move(pooled));
}

// pop_activate on `activations` distinct random keys among those touched
// (all passivated first), one at a time from an event-based actor; at most
// active_max of them, so that no activation has to evict another key.
void activate_saved(caf::actor_system& sys, const population_actor& pop,
                    const population_bench_options& o, uint64_t active_max,
                    population_bench_figures& f) {
  auto passivated = blocking_ask<uint64_t>(sys, pop, passivate_all_timeout, "passivate all",
                                           pop_passivate_all_atom::value);
  // Without pop_passivate_all's answer the last active_max keys may still
  // be active: the keys are drawn from the ones evicted while touching
  // (k0 .. k<touched - active_max - 1>, saved and passive), and each
  // activation then evicts the least recently used idle key (immediate
  // under durability task). Said in the output.
  uint64_t pool = f.touched;
  if (passivated) {
    f.passivated_all = *passivated;
  } else {
    f.passivate_all_error = describe(passivated.error());
    // Where the population was when it did not answer in time.
    if (auto st = stats_of(sys, pop))
      f.passivate_all_error += "; then " + std::to_string(st->active) + " active, "
                               + std::to_string(st->passivating) + " passivating, "
                               + std::to_string(st->activating) + " activating, "
                               + std::to_string(st->waiting) + " waiting, "
                               + std::to_string(st->tasks_in_flight) + " tasks in flight";
    pool = f.touched > active_max ? f.touched - active_max : 0;
  }
  const uint64_t n = std::min({pool, active_max, o.activation_warmup + o.activations});
  if (n == 0)
    return;
  const uint64_t warmup = std::min(o.activation_warmup, n / 10);
  // A partial Fisher-Yates shuffle: n distinct keys, uniformly.
  std::vector<uint64_t> keys(pool);
  std::iota(keys.begin(), keys.end(), uint64_t{0});
  std::mt19937_64 rng{std::random_device{}()};
  for (uint64_t i = 0; i < n; ++i)
    std::swap(keys[i], keys[i + rng() % (keys.size() - i)]);
  keys.resize(n);
  auto r = run_actor_loop(
    sys, 1, warmup, n - warmup,
    [pop, &keys](caf::event_based_actor* self, uint64_t i, auto done) {
      self->request(pop, caf::infinite, pop_activate_atom::value, key_of(keys[i]))
        .then([done](bool active) {
                done(active ? caf::error{} : make_error(errc::internal, "not active"));
              },
              [done](caf::error& err) { done(err); });
    });
  if (!r) {
    f.error = "activations did not end within the loop's bound";
    return;
  }
  f.activation_errors = r->errors;
  f.first_activation_error = r->first_error;
  f.activation = summarize(std::move(*r));
}

void run_population(const population_bench_options& o, const std::string& rules,
                    const std::filesystem::path& dir, uint64_t active_max,
                    population_bench_figures& f) {
  Runtime rt{o.runtime};
  runtime_builder build{rt};
  if (auto err = add_instant_provider(build, rules)) {
    f.error = describe(err);
    return;
  }
  population_config pc;
  pc.name = bench_population_type;
  pc.agent.provider = "scripted";
  pc.active_max = static_cast<uint32_t>(active_max);
  pc.store_path = (dir / "populations.sqlite").string();
  auto pop = build.add_population(pc);
  if (!pop) {
    f.error = "add_population: " + describe(pop.error());
    return;
  }
  std::fprintf(stderr, "bench population: touching %llu keys, active_max %llu\n",
               static_cast<unsigned long long>(o.keys), static_cast<unsigned long long>(active_max));
  touch_all(rt.system(), *pop, o, active_max, f);
  // The touch figures, on stderr before the activations: a run that
  // stops later still leaves them.
  std::fprintf(stderr,
               "bench population: touched %llu keys in %.1f s; RSS MB at k0 %.1f, at active_max "
               "%.1f, at the end %.1f; heap MB %.1f, %.1f, %.1f\n",
               static_cast<unsigned long long>(f.touched), f.touch_seconds,
               f.at_start.rss_bytes / 1e6, f.at_active_max.rss_bytes / 1e6,
               f.at_end.rss_bytes / 1e6, f.at_start.heap_bytes / 1e6,
               f.at_active_max.heap_bytes / 1e6, f.at_end.heap_bytes / 1e6);
  if (f.touched > 0 && f.error.empty()) {
    std::fprintf(stderr, "bench population: activating %llu saved keys\n",
                 static_cast<unsigned long long>(o.activations));
    activate_saved(rt.system(), *pop, o, active_max, f);
  }
  f.peak_rss_bytes = peak_rss_bytes();
  if (auto st = stats_of(rt.system(), *pop))
    f.stats_end = *st;
  const auto t0 = bench_clock::now();
  (void)rt.shutdown();
  f.shutdown_seconds = std::chrono::duration<double>(bench_clock::now() - t0).count();
}

}  // namespace bench_population_run_detail

uint64_t population_active_max(const population_bench_options& o) {
  return o.active_max > 0 ? o.active_max : std::clamp<uint64_t>(o.keys / 10, 1, 100'000);
}

population_bench_figures run_population_bench(const population_bench_options& o) {
  using namespace bench_population_run_detail;
  population_bench_figures f;
  const uint64_t active_max = population_active_max(o);
  const bench_temp_dir dir{"population"};
  if (dir.error()) {
    f.error = "cannot create " + dir.path().string() + ": " + dir.error().message();
    return f;
  }
  auto rules = write_instant_rules(dir.path());
  if (!rules) {
    f.error = describe(rules.error());
    return f;
  }
  {
    std::fprintf(stderr, "bench population: %llu raw actors\n",
                 static_cast<unsigned long long>(active_max));
    // An empty Runtime: its actor system is configured as the population's.
    Runtime raw_rt{o.runtime};
    f.raw = grow_raw_actors(raw_rt.system(), active_max, o.raw_time_cap,
                            std::chrono::milliseconds{500}, std::chrono::milliseconds{0});
  }
  trim_heap();
  f.peak_reset = reset_peak_rss();
  run_population(o, *rules, dir.path(), active_max, f);
  return f;
}

}  // namespace agentgraph::cli
