// `agentgraph bench cluster`: the request/response and throughput rows
// (bench_cluster.hpp). HTTP load comes from run_raw_curl, the raw libcurl
// loop of `bench llm` and `bench gateway` (kept-alive connections, status
// checked); the raw CAF rows from bench_cluster_raw.cpp.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "apps/cli/bench_cluster.hpp"
#include "net/curl_global.hpp"
#include "runtime/error.hpp"

namespace agentgraph::cli {

namespace bench_cluster_load_detail {

constexpr auto converge_bound = std::chrono::seconds{30};
constexpr auto raw_peer_start = std::chrono::seconds{10};

// An instant scripted reply: the figures are the path's, not a model's.
std::string instant_rules(const std::string& dir) {
  auto path = dir + "/instant.rules.json";
  std::ofstream{path} << R"({"rules":[{"name":"pong","when":{"last_role":"user"},"reply":"pong"}]})";
  return path;
}

bench_target task_target(const node_proc& n, const std::string& agent) {
  bench_target t;
  t.base_url = n.url();
  t.http.method = "POST";
  t.http.url = t.base_url + "/v1/tasks";
  t.http.headers = {{"Content-Type", "application/json"}};
  t.http.body = R"({"agent":")" + agent + R"(","input":"ping","mode":"sync"})";
  return t;
}

// Runs one raw libcurl loop per target at once (clients split evenly) and
// pools them: latencies together, the rate over the longest loop.
row_figures run_spread(const std::vector<bench_target>& targets, uint32_t clients,
                       uint64_t warmup, uint64_t count) {
  net::ensure_curl_initialized();
  const auto n = static_cast<uint32_t>(targets.size());
  std::vector<loop_result> results(n);
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t c = clients / n + (i < clients % n ? 1 : 0);
    threads.emplace_back([&, i, c] {
      results[i] = run_raw_curl(targets[i], std::max<uint32_t>(c, 1), warmup / n, count / n, true);
    });
  }
  for (auto& t : threads)
    t.join();
  loop_result all;
  for (auto& r : results) {
    all.latency_ns.insert(all.latency_ns.end(), r.latency_ns.begin(), r.latency_ns.end());
    all.seconds = std::max(all.seconds, r.seconds);
    if (r.errors > 0) {
      if (all.errors == 0)
        all.first_error = r.first_error;
      all.errors += r.errors;
    }
  }
  return summarize(std::move(all));
}

}  // namespace bench_cluster_load_detail

std::vector<load_row> run_raw_rows(child_set& children, const std::string& dir,
                                   const load_options& o) {
  using namespace bench_cluster_load_detail;
  std::vector<load_row> rows;
  for (uint32_t workers : {0u, 1u}) {
    const auto key = "raw_workers" + std::to_string(workers);
    const auto name = "raw CAF remote actor, middleman.workers=" + std::to_string(workers);
    const auto port_file = dir + "/" + key + ".port";
    const auto log = dir + "/" + key + ".log";
    auto pid = children.spawn({self_executable(), "bench", "cluster", "--raw-peer", port_file,
                               "--mm-workers", std::to_string(workers)},
                              log, {});
    int port = 0;
    const bool up = pid && wait_until(
                             [&] {
                               port = std::atoi(read_text_file(port_file).c_str());
                               return port > 0 || !children.running(*pid);
                             },
                             raw_peer_start);
    for (uint32_t level : o.levels) {
      load_row r{key, name, level, 0, std::nullopt, {}};
      if (!up || port <= 0)
        r.error = "the raw peer did not start: " + read_text_file(log).substr(0, 500);
      else
        r.figures = summarize(run_raw_remote(static_cast<uint16_t>(port), workers, level,
                                             o.warmup, o.requests, o.payload_bytes));
      rows.push_back(std::move(r));
    }
    if (pid)
      children.kill(*pid);
  }
  return rows;
}

std::vector<load_row> run_hop_rows(child_set& children, const std::string& dir,
                                   const std::string& secret, const load_options& o) {
  using namespace bench_cluster_load_detail;
  const auto sub = dir + "/hop";
  std::filesystem::create_directories(sub);
  const auto rules = instant_rules(sub);
  const std::string agents = "[agent.far]\nprovider = scripted\nplacement = n1\n"
                             "tasks_in_flight_max = 1024\n"
                             "[agent.near]\nprovider = scripted\nplacement = n2\n"
                             "tasks_in_flight_max = 1024\n";
  std::vector<node_spec> specs{{"n1", true, rules, agents}, {"n2", true, rules, agents}};
  node_group nodes{children, sub, secret};
  std::string error;
  if (auto err = nodes.start(specs))
    error = describe(err);
  else if (!nodes.wait_converged(1, converge_bound))  // each offers one agent
    error = "the two nodes did not converge within 30 s (logs in " + sub + ")";
  std::vector<load_row> rows;
  for (uint32_t level : o.levels)
    for (auto [key, agent, name] :
         {std::tuple{"cross_node", "far", "agentgraph: n2 gateway -> agent on n1"},
          std::tuple{"same_node", "near", "agentgraph: n2 gateway -> agent on n2"}}) {
      load_row r{key, name, level, 2, std::nullopt, error};
      if (error.empty())
        r.figures = run_spread({task_target(nodes.at("n2"), agent)}, level, o.warmup, o.requests);
      rows.push_back(std::move(r));
    }
  nodes.stop();
  return rows;
}

load_row run_throughput(child_set& children, const std::string& dir, const std::string& secret,
                        uint32_t n, bool cluster, const load_options& o) {
  using namespace bench_cluster_load_detail;
  load_row r;
  r.key = cluster ? "nodes" + std::to_string(n) : "alone";
  r.name = cluster ? std::to_string(n) + (n == 1 ? " node" : " nodes") + " ([cluster])"
                   : "1 node, no [cluster]";
  r.concurrency = o.clients;
  r.nodes = n;
  const auto sub = dir + "/" + r.key;
  std::filesystem::create_directories(sub);
  const auto rules = instant_rules(sub);
  std::vector<node_spec> specs;
  for (uint32_t i = 1; i <= n; ++i)
    specs.push_back({"n" + std::to_string(i), cluster, rules,
                     "[agent.worker]\nprovider = scripted\ntasks_in_flight_max = 1024\n"
                     "[group.workers]\nagents = worker\nstrategy = round_robin\n"});
  node_group nodes{children, sub, secret};
  if (auto err = nodes.start(specs))
    r.error = describe(err);
  else if (cluster && !nodes.wait_converged(2, converge_bound))  // a worker and the group each
    r.error = "the nodes did not converge within 30 s (logs in " + sub + ")";
  if (r.error.empty()) {
    std::vector<bench_target> targets;
    for (const auto& node : nodes.nodes())
      targets.push_back(task_target(node, "workers"));
    r.figures = run_spread(targets, o.clients, o.warmup, o.requests);
  }
  nodes.stop();
  return r;
}

}  // namespace agentgraph::cli
