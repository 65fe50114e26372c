// `agentgraph sim SCENARIO`: runs a scenario (actors/sim/) in virtual time
// and writes its report. With --check-determinism it runs twice and fails
// on the first event where the two traces differ. Wall-clock figures (the
// speed against real time) go to stdout and <out>/speed.json only, never
// into the report, which must be the same bytes on every run of a seed.
// Exit codes: 0 done, 1 the run failed or diverged, 2 bad usage or scenario.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "actors/sim/scenario.hpp"
#include "actors/sim/sim_keys.hpp"
#include "actors/sim/sim_report.hpp"
#include "actors/sim/sim_runner.hpp"
#include "apps/cli/commands.hpp"
#include "runtime/config/config_schema.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_sim_detail {

struct sim_options {
  std::string scenario;
  std::optional<uint64_t> seed;
  std::string out;
  bool check_determinism = false;
  bool quiet = false;
  bool json = false;
  std::vector<std::string> overrides;
  std::string log_level = "error";
  // Chaos: the scenario's faults replaced by this many drawn from the seed.
  uint32_t chaos = 0;
  // --seeds A..B: one chaos run per seed.
  std::optional<std::pair<uint64_t, uint64_t>> seeds;
  std::string argv_scenario;  // as typed, for the replay command
};

// Bounds of one sweep: each run is a whole simulation.
constexpr uint64_t sweep_seeds_max = 100'000;
constexpr uint32_t chaos_faults_max = 64;

std::optional<std::pair<uint64_t, uint64_t>> parse_seed_range(const std::string& text) {
  const auto dots = text.find("..");
  if (dots == std::string::npos)
    return std::nullopt;
  try {
    size_t used = 0;
    const auto a = std::stoull(text.substr(0, dots), &used);
    if (used != dots)
      return std::nullopt;
    const auto rest = text.substr(dots + 2);
    const auto b = std::stoull(rest, &used);
    if (used != rest.size() || b < a || b - a >= sweep_seeds_max)
      return std::nullopt;
    return std::make_pair(static_cast<uint64_t>(a), static_cast<uint64_t>(b));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string replay_command(const sim_options& o, uint64_t seed) {
  std::string cmd = "agentgraph sim " + o.argv_scenario + " --seed " + std::to_string(seed);
  if (o.chaos > 0)
    cmd += " --chaos " + std::to_string(o.chaos);
  for (const auto& s : o.overrides)
    cmd += " --set " + s;
  return cmd;
}

caf::expected<sim::run_record> run_once(const sim::scenario& sc, uint64_t seed, bool quiet,
                                        double& wall_s);

// --seeds A..B: every seed's chaos run, quietly; the seeds that break an
// invariant, each with the command that replays it.
int sweep(const sim_options& o, const sim::scenario& base) {
  const auto [first, last] = *o.seeds;
  uint64_t broken = 0, failed = 0;
  sim::key_figures keys;  // summed over the seeds (a population's shared store)
  for (uint64_t seed = first; seed <= last; ++seed) {
    auto sc = sim::with_random_faults(base, seed, o.chaos);
    double wall = 0;
    auto rec = run_once(sc, seed, true, wall);
    if (!rec) {
      ++failed;
      std::cout << "seed " << seed << ": the run failed: " << describe(rec.error())
                << "\n  replay: " << replay_command(o, seed) << "\n";
      continue;
    }
    sim::add_key_figures(keys, rec->keys);
    auto bad = sim::violations(*rec);
    if (!bad.empty()) {
      ++broken;
      std::cout << "seed " << seed << ":";
      for (const auto& b : bad)
        std::cout << " " << b << ";";
      std::cout << "\n  replay: " << replay_command(o, seed) << "\n";
    }
    std::fprintf(stderr, "\rseed %llu of %llu..%llu: %llu broke an invariant, %llu failed to run",
                 static_cast<unsigned long long>(seed), static_cast<unsigned long long>(first),
                 static_cast<unsigned long long>(last), static_cast<unsigned long long>(broken),
                 static_cast<unsigned long long>(failed));
  }
  std::fprintf(stderr, "\n");
  if (keys.audited)
    std::cout << "all seeds' " << sim::describe_keys(keys) << "\n";
  std::cout << "sweep " << first << ".." << last << " with " << o.chaos << " random faults each: "
            << broken << " seed(s) broke an invariant, " << failed << " failed to run\n";
  return broken + failed == 0 ? 0 : 1;
}

// A progress bar on stderr, redrawn in place when stderr is a terminal and
// printed every 10 % otherwise.
struct progress_bar {
  bool tty = ::isatty(STDERR_FILENO) == 1;
  int last_decile = -1;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  void operator()(double done, double sim_s) {
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const int pct = static_cast<int>(done * 100);
    if (!tty && pct / 10 == last_decile)
      return;
    last_decile = pct / 10;
    constexpr int width = 40;
    std::string bar(static_cast<size_t>(width * done), '=');
    bar.resize(width, ' ');
    std::fprintf(stderr, "%s[%s] %3d%% sim %.1f s, %.1fx real time%s", tty ? "\r" : "",
                 bar.c_str(), pct, sim_s, wall > 0 ? sim_s / wall : 0.0, tty ? "" : "\n");
    std::fflush(stderr);
  }
  void end() {
    if (tty)
      std::fprintf(stderr, "\n");
  }
};

caf::expected<sim::run_record> run_once(const sim::scenario& sc, uint64_t seed, bool quiet,
                                        double& wall_s) {
  sim::run_options ro;
  ro.seed = seed;
  progress_bar bar;
  if (!quiet)
    ro.progress = [&bar](double done, double sim_s) { bar(done, sim_s); };
  const auto t0 = std::chrono::steady_clock::now();
  auto rec = sim::run_scenario(sc, ro);
  wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet)
    bar.end();
  return rec;
}

// The first line where a and b differ, as "line N: <a> | <b>".
std::optional<std::string> first_divergence(const sim::run_record& a, const sim::run_record& b) {
  const size_t n = std::min(a.trace.size(), b.trace.size());
  for (size_t i = 0; i < n; ++i)
    if (a.trace[i] != b.trace[i])
      return "event " + std::to_string(i + 1) + ":\n  run 1: " + a.trace[i] + "\n  run 2: " + b.trace[i];
  if (a.trace_lines != b.trace_lines)
    return "the runs logged " + std::to_string(a.trace_lines) + " and " + std::to_string(b.trace_lines)
           + " events";
  if (a.trace_hash != b.trace_hash)
    return "the traces differ beyond the lines kept";
  if (sim::report_json(a) != sim::report_json(b))
    return "the traces agree but the reports differ";
  return std::nullopt;
}

int run(const sim_options& o) {
  std::optional<log_severity> level;
  for (auto l : {log_severity::error, log_severity::warn, log_severity::info, log_severity::debug})
    if (o.log_level == to_string(l))
      level = l;
  if (!level) {
    std::cerr << "agentgraph sim: --log-level: expected error, warn, info or debug\n";
    return 2;
  }
  set_log_level(*level);
  auto sc = sim::load_scenario(o.scenario, o.overrides);
  if (!sc) {
    std::cerr << "agentgraph sim: " << describe(sc.error()) << "\n";
    return 2;
  }
  if (o.seeds)
    return sweep(o, *sc);
  const uint64_t seed = o.seed.value_or(sc->seed);
  if (o.chaos > 0)
    *sc = sim::with_random_faults(std::move(*sc), seed, o.chaos);
  double wall = 0;
  auto rec = run_once(*sc, seed, o.quiet, wall);
  if (!rec) {
    std::cerr << "agentgraph sim: " << describe(rec.error()) << "\n";
    return errc_of(rec.error()) == errc::invalid_argument ? 2 : 1;
  }
  const double sim_s = rec->end_ms / 1000.0 + rec->formed_at_ms / 1000.0;
  nlohmann::json speed = {{"wall_s", wall}, {"simulated_s", sim_s},
                          {"speed_x", wall > 0 ? sim_s / wall : 0.0},
                          {"planet_steps", rec->planet_steps},
                          {"instants", rec->instants}};
  int code = 0;
  if (o.check_determinism) {
    double wall2 = 0;
    auto again = run_once(*sc, seed, o.quiet, wall2);
    if (!again) {
      std::cerr << "agentgraph sim: second run: " << describe(again.error()) << "\n";
      return 1;
    }
    if (auto diff = first_divergence(*rec, *again)) {
      std::cerr << "agentgraph sim: NOT deterministic, first divergence at " << *diff << "\n";
      code = 1;
    } else {
      std::cerr << "agentgraph sim: deterministic: both runs logged the same " << rec->trace_lines
                << " events (fnv1a64 " << sim::report_json(*rec)["trace"]["fnv1a64"].get<std::string>()
                << ")\n";
    }
    speed["determinism"] = code == 0 ? "same" : "diverged";
  }
  const auto bad = sim::violations(*rec);
  for (const auto& b : bad)
    std::cerr << "agentgraph sim: invariant broken: " << b << "\n";
  if (!bad.empty())
    code = 1;
  if (!o.out.empty()) {
    if (auto err = sim::write_report(*rec, o.out)) {
      std::cerr << "agentgraph sim: " << describe(err) << "\n";
      return 1;
    }
    std::ofstream{o.out + "/speed.json"} << speed.dump(2) << "\n";
  }
  if (o.json) {
    auto j = sim::report_json(*rec);
    j["speed"] = speed;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << sim::summary_text(*rec);
    std::cout << "invariants: "
              << (bad.empty() ? std::string{"kept (no task lost, none answered twice, no split brain"}
                                  + (rec->keys.audited ? ", every key's saves fenced and in order)" : ")")
                              : std::string{"BROKEN"})
              << "\n";
    std::printf("speed: %.1f simulated s in %.2f wall s = %.1fx real time (%llu steps, %llu "
                "instants)\n",
                sim_s, wall, wall > 0 ? sim_s / wall : 0.0,
                static_cast<unsigned long long>(rec->planet_steps),
                static_cast<unsigned long long>(rec->instants));
    if (!o.out.empty())
      std::cout << "report: " << o.out << "/report.json (and tasks.csv, timeline.csv, trace.log, "
                << "latency.svg, throughput.svg, membership.svg)\n";
  }
  return code;
}

}  // namespace cmd_sim_detail

int sim_command(const args& argv) {
  using namespace cmd_sim_detail;
  sim_options o;
  po::options_description desc{"agentgraph sim SCENARIO [options]"};
  uint64_t seed = 0;
  desc.add_options()("help", "print this help")(
    "seed", po::value(&seed), "seed of every random draw (default: the scenario's [sim] seed)")(
    "out", po::value(&o.out), "write the report (JSON, CSV, SVG, trace) into this directory")(
    "check-determinism", "run twice and fail on the first event where the traces differ")(
    "set", po::value(&o.overrides)->composing(), "override a scenario key: section.key=value")(
    "json", "print report.json (plus the speed) on stdout instead of the summary")(
    "quiet", "no progress bar")(
    "log-level", po::value(&o.log_level),
    "the simulated nodes' log level: debug, info, warn, error (default error)")(
    "schema", "print every scenario key and exit")(
    "chaos", po::value(&o.chaos),
    "replace the scenario's faults with this many drawn from the seed (kill and restart, "
    "freeze, partition, storm)")(
    "seeds", po::value<std::string>(), "A..B: one run per seed (with --chaos N, default 3); print "
    "every seed that breaks an invariant and the command that replays it")(
    "scenario", po::value(&o.scenario), "the scenario file");
  po::positional_options_description pos;
  pos.add("scenario", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argv).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "agentgraph sim: " << e.what() << "\n" << desc;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (vm.count("schema")) {
    std::cout << describe_schema(sim::scenario_schema());
    return 0;
  }
  if (o.scenario.empty()) {
    std::cerr << "agentgraph sim: a scenario file is required\n" << desc;
    return 2;
  }
  if (vm.count("seed"))
    o.seed = seed;
  o.argv_scenario = o.scenario;
  if (o.chaos > chaos_faults_max) {
    std::cerr << "agentgraph sim: --chaos: at most " << chaos_faults_max << " faults\n";
    return 2;
  }
  if (vm.count("seeds")) {
    o.seeds = parse_seed_range(vm["seeds"].as<std::string>());
    if (!o.seeds) {
      std::cerr << "agentgraph sim: --seeds: expected A..B with A <= B and at most "
                << sweep_seeds_max << " seeds\n";
      return 2;
    }
    if (o.chaos == 0)
      o.chaos = 3;
    if (vm.count("check-determinism") || vm.count("out")) {
      std::cerr << "agentgraph sim: --seeds runs many scenarios: no --out or --check-determinism\n";
      return 2;
    }
  }
  o.check_determinism = vm.count("check-determinism") > 0;
  o.quiet = vm.count("quiet") > 0;
  o.json = vm.count("json") > 0;
  return run(o);
}

}  // namespace agentgraph::cli
