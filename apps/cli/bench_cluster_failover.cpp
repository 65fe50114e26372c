// `agentgraph bench cluster`: one fault under load (bench_cluster.hpp). The
// same scenario as tests/integration/cluster_kill9.sh, measured instead of
// asserted: three nodes, sync tasks with ids through n1's gateway to a
// round-robin group whose agent runs on every node, and n2 killed (or
// frozen) once a share of the tasks is answered.
//   detection  the signal to n2 `down` (or gone) in n1's GET /v1/cluster,
//              polled every 20 ms by a thread of its own;
//   recovery   the signal to the answer of the last task that was in flight
//              at it (sent before, answered after);
//   re-dispatched  n1's log lines of the group moving a task off n2;
//   lost       ids without a `completed` answer;
//   answered twice  ids whose stored answer (GET /v1/tasks/<id> on n1 after
//              the run, and for SIGSTOP after n2 is let run again and had the
//              time to finish what it held) is not the answer the client got.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "apps/cli/bench_cluster.hpp"
#include "runtime/error.hpp"

namespace agentgraph::cli {

namespace bench_cluster_failover_detail {

constexpr auto converge_bound = std::chrono::seconds{30};
constexpr auto detection_bound = std::chrono::seconds{30};
constexpr auto rejoin_bound = std::chrono::seconds{15};
constexpr auto request_timeout = std::chrono::seconds{60};
constexpr auto stream_bound = std::chrono::seconds{150};
// What the group logs when it moves a task off an instance whose node left
// (actors/agent/agent_group.cpp).
constexpr const char* redispatch_line = "task re-dispatched";

double ms_between(bench_clock::time_point a, bench_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Polls n1's view from its own thread until n2 is down or gone (or the
// bound passes, or stop()).
class down_watch {
 public:
  down_watch(const node_proc& watcher, std::string target, bench_clock::time_point since)
    : thread_([this, url = watcher.url(), target = std::move(target), since] {
        gateway_client client{gateway_target{url, "", std::chrono::milliseconds{1000}}};
        const auto end = since + detection_bound;
        while (!stop_ && bench_clock::now() < end) {
          auto view = cluster_view(client);
          auto it = view.find(target);
          if (!view.empty() && (it == view.end() || it->second.state == "down"
                                || it->second.state == "removed")) {
            detected_ms_ = ms_between(since, bench_clock::now());
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds{20});
        }
      }) {}
  ~down_watch() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }
  // After stop(): the detection time, negative when there was none.
  [[nodiscard]] double detected_ms() const { return detected_ms_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<double> detected_ms_{-1};
  std::thread thread_;  // last: starts after the fields it uses
};

std::vector<node_spec> three_nodes(const std::string& dir, const failover_options& o) {
  std::vector<node_spec> specs;
  for (const char* name : {"n1", "n2", "n3"}) {
    node_spec s;
    s.name = name;
    s.rules_path = dir + "/rules_" + name + ".json";
    std::ofstream{s.rules_path} << R"({"rules": [{"name": "work", "when": {"last_role": "user"}, )"
                                << R"("delay_ms": )" << o.task_delay.count()
                                << R"(, "reply": "done by )" << name << R"("}]})";
    s.extra_sections = "[agent.worker]\nprovider = scripted\ntasks_in_flight_max = 256\n"
                       "[group.workers]\nagents = worker\nstrategy = round_robin\n";
    s.tasks_kept = static_cast<uint32_t>(std::max<uint64_t>(2000, 2 * o.tasks));
    specs.push_back(std::move(s));
  }
  return specs;
}

}  // namespace bench_cluster_failover_detail

failover_figures run_failover(child_set& children, const std::string& dir,
                              const std::string& secret, int sig, const failover_options& o) {
  using namespace bench_cluster_failover_detail;
  failover_figures f;
  f.fault = sig == SIGSTOP ? "SIGSTOP" : "kill -9";
  f.tasks = o.tasks;
  const std::string sub = dir + (sig == SIGSTOP ? "/sigstop" : "/kill9");
  std::filesystem::create_directories(sub);
  node_group nodes{children, sub, secret};
  if (auto err = nodes.start(three_nodes(sub, o))) {
    f.error = describe(err);
    return f;
  }
  // Each node offers its worker and the group.
  if (!nodes.wait_converged(2, converge_bound)) {
    f.error = "the three nodes did not converge within 30 s (logs in " + sub + ")";
    return f;
  }
  const auto& n1 = nodes.at("n1");
  const auto& n2 = nodes.at("n2");
  std::vector<std::string> ids;
  for (uint64_t i = 0; i < o.tasks; ++i)
    ids.push_back("bench-" + std::to_string(i));
  const auto fault_after = static_cast<uint64_t>(static_cast<double>(o.tasks) * o.fault_at);
  std::optional<bench_clock::time_point> fault_at;
  std::unique_ptr<down_watch> watch;
  const auto begin = bench_clock::now();
  auto answers = run_id_stream(n1.url(), "workers", ids, o.window, request_timeout, stream_bound,
                               [&](uint64_t answered) {
                                 if (fault_at || answered < fault_after)
                                   return;
                                 fault_at = bench_clock::now();
                                 children.signal(n2.pid, sig);
                                 watch = std::make_unique<down_watch>(n1, "n2", *fault_at);
                               });
  f.seconds = std::chrono::duration<double>(bench_clock::now() - begin).count();
  if (watch) {
    // The stream may end before n1 has downed n2 (a kill -9 is seen in
    // milliseconds, a freeze in seconds): the watch runs to its bound.
    (void)wait_until([&] { return watch->detected_ms() >= 0; }, detection_bound);
    watch->stop();
    if (watch->detected_ms() >= 0)
      f.detection_ms = watch->detected_ms();
  }
  bench_clock::time_point last_in_flight{};
  for (const auto& [id, a] : answers) {
    if (a.answered && a.http_status == 200 && a.status == "completed")
      ++f.completed;
    if (fault_at && a.sent < *fault_at && a.answered && a.at > *fault_at) {
      ++f.in_flight_at_fault;
      last_in_flight = std::max(last_in_flight, a.at);
    }
  }
  f.lost = o.tasks - f.completed;
  if (fault_at && f.in_flight_at_fault > 0)
    f.recovery_ms = ms_between(*fault_at, last_in_flight);
  if (sig == SIGSTOP && fault_at) {
    // Let n2 finish whatever it held, and see it come back as a new
    // incarnation; its late answers must change nothing.
    children.signal(n2.pid, SIGCONT);
    gateway_client c{gateway_target{n1.url(), "", std::chrono::milliseconds{1000}}};
    f.rejoined = wait_until(
      [&] {
        auto v = cluster_view(c);
        auto it = v.find("n2");
        return it != v.end() && it->second.state == "up";
      },
      rejoin_bound, std::chrono::milliseconds{50});
    std::this_thread::sleep_for(o.task_delay * 2);
  }
  gateway_client client{gateway_target{n1.url(), "", std::chrono::milliseconds{5000}}};
  for (const auto& [id, a] : answers) {
    if (!a.answered || a.status != "completed")
      continue;
    auto stored = fetch_task(client, id);
    if (stored.status != a.status || stored.output != a.output)
      ++f.answered_twice;
  }
  f.redispatched = nodes.log_count("n1", redispatch_line);
  if (!fault_at)
    f.error = "the fault never came (no task answered)";
  nodes.stop();
  return f;
}

}  // namespace agentgraph::cli
