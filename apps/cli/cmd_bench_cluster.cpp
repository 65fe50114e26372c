// `agentgraph bench cluster` (issue 12, slice 9; bench_cluster.hpp lists
// the parts): the options, the order of the phases, the tables and the
// JSON object. Every figure is measured in this run, every baseline too:
//   1. the floor: raw CAF remote actors in two processes, with
//      middleman.workers 0 (what a node runs, design decision 2) and 1;
//   2. request/response across two nodes: sync tasks through n2's gateway
//      to an agent on n1 (through the directory) and to one on n2;
//   3. task throughput through one node alone, then 1, 2 and 3 cluster
//      nodes (a round-robin group over an agent on every node);
//   4. failover: kill -9 and SIGSTOP of a node under a stream of tasks.
// Every child is this executable; none outlives the command
// (bench_cluster_procs.cpp). Exit 1 when a row failed or a task was lost
// or answered twice; 2 on bad usage.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "apps/cli/bench_cluster.hpp"
#include "apps/cli/commands.hpp"
#include "runtime/error.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_bench_cluster_detail {

constexpr const char* cores_note = "2 cores: three nodes show correctness and overhead, not speed-up";
// A node always runs middleman.workers = 0 (apply_cluster_transport; no
// config key sets it), so decision 2's cost is measured on the raw pair.
constexpr const char* workers_note =
  "nodes run middleman.workers=0 (fixed by the node); 0 against 1 is measured on the raw CAF pair";
constexpr uint64_t failover_tasks_max = 100'000;
constexpr uint32_t task_delay_ms_max = 10'000;

struct cluster_options {
  load_options load;
  failover_options failover;
  bool json = false;
  bool quick = false;
  // The hidden child mode: serve the raw CAF echo actor.
  std::string raw_peer_port_file;
  uint32_t mm_workers = 0;
};

std::optional<int> parse(const args& argv, cluster_options& o) {
  po::options_description desc{"agentgraph bench cluster"};
  std::string levels = "1,32";
  uint32_t delay_ms = 50;
  desc.add_options()("help", "print this help")(
    "requests", po::value(&o.load.requests), "measured requests per row (default 3000)")(
    "warmup", po::value(&o.load.warmup), "warm-up requests per row (default 200)")(
    "concurrency", po::value(&levels),
    "requests in flight for the request/response rows, comma-separated (default 1,32)")(
    "clients", po::value(&o.load.clients),
    "clients of the throughput rows, spread over the gateways (default 32)")(
    "failover-tasks", po::value(&o.failover.tasks), "tasks per failover run (default 1000)")(
    "task-delay-ms", po::value(&delay_ms),
    "the scripted agent's reply delay in the failover runs (default 50)")(
    "quick", "small counts, under a minute")("json", "print one JSON object instead of tables");
  po::options_description hidden;
  hidden.add_options()("raw-peer", po::value(&o.raw_peer_port_file))(
    "mm-workers", po::value(&o.mm_workers));
  po::options_description all;
  all.add(desc).add(hidden);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argv).options(all).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "agentgraph bench cluster: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  o.quick = vm.count("quick") > 0;
  if (o.quick) {
    o.load.requests = vm.count("requests") ? o.load.requests : 300;
    o.load.warmup = vm.count("warmup") ? o.load.warmup : 30;
    o.failover.tasks = vm.count("failover-tasks") ? o.failover.tasks : 300;
  }
  o.json = vm.count("json") > 0;
  auto parsed = parse_levels(levels);
  if (!parsed) {
    std::cerr << "agentgraph bench cluster: " << describe(parsed.error()) << "\n";
    return 2;
  }
  o.load.levels = std::move(*parsed);
  if (o.load.requests < 1 || o.load.requests > bench_requests_max
      || o.load.warmup > bench_requests_max || o.load.clients < 1
      || o.load.clients > bench_concurrency_max || o.failover.tasks < 30
      || o.failover.tasks > failover_tasks_max || delay_ms < 1 || delay_ms > task_delay_ms_max
      || o.mm_workers > 1) {
    std::cerr << "agentgraph bench cluster: an option is out of its bounds (see --help)\n";
    return 2;
  }
  o.failover.task_delay = std::chrono::milliseconds{delay_ms};
  return std::nullopt;
}

std::string random_secret() {
  std::random_device rd;
  std::string s = "bench-";
  for (int i = 0; i < 4; ++i)
    s += std::to_string(rd());
  return s;
}

const load_row* find_row(const std::vector<load_row>& rows, const std::string& key,
                         uint32_t level) {
  for (const auto& r : rows)
    if (r.key == key && (level == 0 || r.concurrency == level) && r.figures)
      return &r;
  return nullptr;
}

struct ratio_line {
  std::string key;
  std::string label;
  uint32_t concurrency;
  std::optional<bench_versus> versus;
};

std::vector<ratio_line> ratios(const std::vector<load_row>& hops,
                               const std::vector<load_row>& through, const cluster_options& o) {
  std::vector<ratio_line> out;
  auto add = [&](const std::vector<load_row>& rows, const char* key, const char* label,
                 const std::string& a, const std::string& b, uint32_t level) {
    const auto* ra = find_row(rows, a, level);
    const auto* rb = find_row(rows, b, level);
    out.push_back({key, label, level,
                   compare_rows(ra ? &*ra->figures : nullptr, rb ? &*rb->figures : nullptr)});
  };
  for (uint32_t level : o.load.levels) {
    add(hops, "cross_node_vs_raw", "cross-node task vs the raw CAF floor", "cross_node",
        "raw_workers0", level);
    add(hops, "cross_node_vs_same_node", "cross-node task vs the same task on the gateway's node",
        "cross_node", "same_node", level);
    add(hops, "raw_workers0_vs_workers1", "raw CAF, middleman.workers=0 vs 1", "raw_workers0",
        "raw_workers1", level);
  }
  add(through, "nodes1_vs_alone", "1 cluster node vs a node without [cluster]", "nodes1", "alone",
      0);
  add(through, "nodes2_vs_nodes1", "2 nodes vs 1", "nodes2", "nodes1", 0);
  add(through, "nodes3_vs_nodes1", "3 nodes vs 1", "nodes3", "nodes1", 0);
  return out;
}

std::string fmt(const char* f, auto... v) {
  char buf[512];
  std::snprintf(buf, sizeof buf, f, v...);
  return buf;
}

std::string row_line(const load_row& r) {
  if (!r.figures)
    return fmt("%-44s %5u  failed: %s\n", r.name.c_str(), r.concurrency, r.error.c_str());
  const auto& f = *r.figures;
  auto line = fmt("%-44s %5u %10.0f %9.3f %9.3f", r.name.c_str(), r.concurrency, f.per_second(),
                  f.p50_ms, f.p99_ms);
  if (f.errors > 0)
    line += fmt("  ERRORS: %llu (first: %s)", static_cast<unsigned long long>(f.errors),
                f.first_error.substr(0, 160).c_str());
  return line + "\n";
}

std::string opt_ms(const std::optional<double>& v) { return v ? fmt("%.0f", *v) : "-"; }

void print_tables(const std::vector<load_row>& hops, const std::vector<load_row>& through,
                  const std::vector<failover_figures>& failovers, const cluster_options& o) {
  const auto head = fmt("%-44s %5s %10s %9s %9s\n", "row", "conc", "per s", "p50 ms", "p99 ms");
  std::printf("\n%s\n\nRequest/response across two processes on loopback (agentgraph: sync "
              "tasks over HTTP, instant scripted agent; raw CAF: one %zu-byte echo request)\n%s",
              cores_note, o.load.payload_bytes, head.c_str());
  for (const auto& r : hops)
    std::printf("%s", row_line(r).c_str());
  std::printf("\nTask throughput (sync tasks to a round-robin group over every node, %u clients "
              "spread over the gateways)\n%s",
              o.load.clients, head.c_str());
  for (const auto& r : through)
    std::printf("%s", row_line(r).c_str());
  std::printf("\nRatios (per second as a ratio, p50 as added microseconds); %s\n", workers_note);
  for (const auto& r : ratios(hops, through, o)) {
    const auto at = r.concurrency ? fmt(" (concurrency %u)", r.concurrency) : std::string{};
    std::printf("  %-72s %s\n", (r.label + at).c_str(),
                r.versus ? fmt("%.2fx, %+.0f us p50", r.versus->per_second_ratio,
                               r.versus->p50_added_us)
                               .c_str()
                         : "n/a");
  }
  std::printf("\nFailover (3 nodes, %llu tasks with ids through n1's gateway, %u in flight, "
              "agent delay %lld ms; n2 gets the fault after a third is answered)\n",
              static_cast<unsigned long long>(o.failover.tasks), o.failover.window,
              static_cast<long long>(o.failover.task_delay.count()));
  std::printf("%-8s %12s %12s %10s %14s %10s %5s %15s %9s\n", "fault", "detection ms",
              "recovery ms", "in flight", "re-dispatched", "completed", "lost", "answered twice",
              "rejoined");
  for (const auto& f : failovers) {
    if (!f.error.empty()) {
      std::printf("%-8s failed: %s\n", f.fault.c_str(), f.error.c_str());
      continue;
    }
    std::printf("%-8s %12s %12s %10llu %14llu %10llu %5llu %15llu %9s\n", f.fault.c_str(),
                opt_ms(f.detection_ms).c_str(), opt_ms(f.recovery_ms).c_str(),
                static_cast<unsigned long long>(f.in_flight_at_fault),
                static_cast<unsigned long long>(f.redispatched),
                static_cast<unsigned long long>(f.completed),
                static_cast<unsigned long long>(f.lost),
                static_cast<unsigned long long>(f.answered_twice),
                f.rejoined ? (*f.rejoined ? "yes" : "NO") : "-");
  }
  std::printf("\n%s\n", cores_note);
}

nlohmann::json row_json(const load_row& r) {
  nlohmann::json j{{"key", r.key}, {"name", r.name}, {"concurrency", r.concurrency}};
  if (r.nodes > 0)
    j["nodes"] = r.nodes;
  if (!r.figures) {
    j["error"] = r.error;
    return j;
  }
  const auto& f = *r.figures;
  j["requests"] = f.requests;
  j["seconds"] = f.seconds;
  j["per_second"] = f.per_second();
  j["p50_ms"] = f.p50_ms;
  j["p99_ms"] = f.p99_ms;
  j["errors"] = f.errors;
  return j;
}

nlohmann::json to_json(const std::vector<load_row>& hops, const std::vector<load_row>& through,
                       const std::vector<failover_figures>& failovers, const cluster_options& o) {
  nlohmann::json j{{"bench", "cluster"},
                   {"quick", o.quick},
                   {"hardware_threads", std::thread::hardware_concurrency()},
                   {"note", cores_note},
                   {"workers_note", workers_note},
                   {"options",
                    {{"requests", o.load.requests},
                     {"warmup", o.load.warmup},
                     {"clients", o.load.clients},
                     {"payload_bytes", o.load.payload_bytes},
                     {"failover_tasks", o.failover.tasks},
                     {"failover_window", o.failover.window},
                     {"task_delay_ms", o.failover.task_delay.count()}}},
                   {"hops", nlohmann::json::array()},
                   {"throughput", nlohmann::json::array()},
                   {"ratios", nlohmann::json::array()},
                   {"failover", nlohmann::json::array()}};
  for (const auto& r : hops)
    j["hops"].push_back(row_json(r));
  for (const auto& r : through)
    j["throughput"].push_back(row_json(r));
  for (const auto& r : ratios(hops, through, o)) {
    nlohmann::json x{{"key", r.key}, {"label", r.label}};
    if (r.concurrency)
      x["concurrency"] = r.concurrency;
    x["per_second_ratio"] = r.versus ? nlohmann::json(r.versus->per_second_ratio) : nullptr;
    x["p50_added_us"] = r.versus ? nlohmann::json(r.versus->p50_added_us) : nullptr;
    j["ratios"].push_back(std::move(x));
  }
  for (const auto& f : failovers) {
    nlohmann::json x{{"fault", f.fault},
                     {"tasks", f.tasks},
                     {"completed", f.completed},
                     {"lost", f.lost},
                     {"answered_twice", f.answered_twice},
                     {"in_flight_at_fault", f.in_flight_at_fault},
                     {"redispatched", f.redispatched},
                     {"seconds", f.seconds}};
    x["detection_ms"] = f.detection_ms ? nlohmann::json(*f.detection_ms) : nullptr;
    x["recovery_ms"] = f.recovery_ms ? nlohmann::json(*f.recovery_ms) : nullptr;
    x["rejoined"] = f.rejoined ? nlohmann::json(*f.rejoined) : nullptr;
    if (!f.error.empty())
      x["error"] = f.error;
    j["failover"].push_back(std::move(x));
  }
  return j;
}

bool row_failed(const load_row& r) { return !r.figures || r.figures->errors > 0; }

int run(const cluster_options& o) {
  install_child_reaper();
  char tmpl[] = "/tmp/agentgraph-bench-cluster-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::cerr << "agentgraph bench cluster: cannot make a scratch directory\n";
    return 1;
  }
  const std::string dir = tmpl;
  const auto secret = random_secret();
  if (!o.json) {
#ifdef __OPTIMIZE__
    const char* build = "optimized";
#else
    const char* build = "NOT optimized (-O0): these figures say little";
#endif
    std::printf("agentgraph bench cluster: every node is this executable (`agentgraph node`) on "
                "127.0.0.1; %u hardware threads; build %s; scratch %s\n",
                std::thread::hardware_concurrency(), build, dir.c_str());
    std::fflush(stdout);
  }
  std::vector<load_row> hops;
  std::vector<load_row> through;
  std::vector<failover_figures> failovers;
  {
    child_set children;  // every child dies when this scope ends, whatever happened
    hops = run_raw_rows(children, dir, o.load);
    for (auto& r : run_hop_rows(children, dir, secret, o.load))
      hops.push_back(std::move(r));
    through.push_back(run_throughput(children, dir, secret, 1, false, o.load));
    for (uint32_t n = 1; n <= 3; ++n)
      through.push_back(run_throughput(children, dir, secret, n, true, o.load));
    failovers.push_back(run_failover(children, dir, secret, SIGKILL, o.failover));
    failovers.push_back(run_failover(children, dir, secret, SIGSTOP, o.failover));
  }
  bool failed = false;
  for (const auto& r : hops)
    failed = failed || row_failed(r);
  for (const auto& r : through)
    failed = failed || row_failed(r);
  for (const auto& f : failovers)
    failed = failed || !f.error.empty() || f.lost > 0 || f.answered_twice > 0;
  if (o.json)
    std::cout << to_json(hops, through, failovers, o).dump(2) << "\n";
  else
    print_tables(hops, through, failovers, o);
  if (failed) {
    std::cerr << "agentgraph bench cluster: a row failed or a task was lost or answered twice; "
                 "the nodes' logs are in "
              << dir << "\n";
  } else {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return failed ? 1 : 0;
}

}  // namespace cmd_bench_cluster_detail

int bench_cluster(const args& argv) {
  cmd_bench_cluster_detail::cluster_options o;
  if (auto code = cmd_bench_cluster_detail::parse(argv, o))
    return *code;
  if (!o.raw_peer_port_file.empty())
    return raw_peer_main(o.raw_peer_port_file, o.mm_workers);
  return cmd_bench_cluster_detail::run(o);
}

}  // namespace agentgraph::cli
