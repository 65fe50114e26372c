// `agentgraph bench cluster` (issue 12, slice 9): the pieces the command
// (cmd_bench_cluster.cpp) joins.
//   - bench_cluster_procs.cpp: child processes. Every node is the running
//     executable as `agentgraph node` on 127.0.0.1 with free ports; each
//     child gets SIGKILL when this process dies (PR_SET_PDEATHSIG) and is
//     killed by ~child_set and by the bench's SIGINT/SIGTERM handler, so no
//     exit path leaves one behind.
//   - bench_cluster_nodes.cpp: INI files of the nodes, starting N of them,
//     waiting (bounded) until every node sees every member up with its
//     components, and reading one node's view of the cluster.
//   - bench_cluster_raw.cpp: the floor, two processes of raw CAF 0.17
//     (publish / remote_actor, an echo actor), with middleman.workers 0 or 1.
//   - bench_cluster_stream.cpp: the failover client, a libcurl multi loop
//     posting sync tasks with ids and keeping each id's one answer.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "apps/cli/bench_llm.hpp"
#include "apps/cli/gateway_client.hpp"

namespace agentgraph::cli {

// ---- child processes (bench_cluster_procs.cpp)

// At most this many children at once (the signal handler's table is a
// fixed array).
inline constexpr size_t bench_children_max = 16;

// The children this bench started. kill_all (also run by the destructor)
// SIGCONTs and SIGKILLs every one still running and reaps it.
class child_set {
 public:
  child_set();
  ~child_set();
  child_set(const child_set&) = delete;
  child_set& operator=(const child_set&) = delete;
  // Runs argv (argv[0] a path) with stdout to /dev/null (or, when
  // `stdout_path` is not empty, to that file, truncated), stderr appended
  // to `log_path`, and `env_add` added to this process's environment.
  // Errors: limit_exceeded (bench_children_max), io_error (fork).
  caf::expected<pid_t> spawn(const std::vector<std::string>& argv, const std::string& log_path,
                             const std::map<std::string, std::string>& env_add,
                             const std::string& stdout_path = {});
  // kill(pid, sig) for a child of this set; false if it is not one.
  bool signal(pid_t pid, int sig);
  // True while the child has not exited (reaps it if it has).
  bool running(pid_t pid);
  // Without waiting: the exit status of a child that has exited (reaped
  // and dropped from the set; 128 + N when signal N ended it), or nothing
  // while it runs. `bench all` (cmd_bench_suite.cpp) needs the status,
  // which running() discards.
  std::optional<int> exit_status(pid_t pid);
  void kill(pid_t pid);
  void kill_all();

 private:
  std::vector<pid_t> pids_;
};

// Installs SIGINT/SIGTERM handlers that SIGKILL every child of every
// child_set and exit 130. Call once, before the first spawn.
void install_child_reaper();

// The path of the running executable (/proc/self/exe).
[[nodiscard]] std::string self_executable();

// The whole text of a small file (a port file, a node's log); empty when
// it cannot be read.
[[nodiscard]] std::string read_text_file(const std::string& path);

// A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, close).
[[nodiscard]] uint16_t free_local_port();

// Polls `pred` every `step` until it holds or `bound` passes; the last
// answer of pred.
[[nodiscard]] bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds bound,
                              std::chrono::milliseconds step = std::chrono::milliseconds{20});

// ---- nodes (bench_cluster_nodes.cpp)

struct node_spec {
  std::string name;            // the member name ([cluster] node_id)
  bool cluster = true;         // false: no [cluster] section, a node alone
  std::string rules_path;      // the scripted provider's rules
  std::string extra_sections;  // INI text appended (agents, groups)
  uint32_t tasks_kept = 2000;
};

struct node_proc {
  std::string name;
  pid_t pid = -1;
  int gateway_port = 0;
  uint16_t cluster_port = 0;
  std::string log_path;
  [[nodiscard]] std::string url() const;
};

// One member as a node's GET /v1/cluster shows it (the newest incarnation
// of each name).
struct member_view {
  std::string state;
  uint64_t agents = 0;
};

// N nodes of one cluster (or one node alone) under a scratch directory.
class node_group {
 public:
  node_group(child_set& children, std::string dir, std::string secret);
  ~node_group() { stop(); }
  node_group(const node_group&) = delete;
  node_group& operator=(const node_group&) = delete;
  // Starts every node (the first two are the seeds) and waits until each
  // has written its gateway port (at most 15 s per node).
  caf::error start(const std::vector<node_spec>& specs);
  // Every node sees every member `up` and offering `agents` agents and
  // groups, within `bound`.
  [[nodiscard]] bool wait_converged(uint64_t agents, std::chrono::milliseconds bound);
  [[nodiscard]] std::vector<node_proc>& nodes() { return nodes_; }
  [[nodiscard]] const node_proc& at(const std::string& name) const;
  // Kills every node of the group (SIGKILL; the bench keeps nothing).
  void stop();
  // How often `text` occurs in the node's log.
  [[nodiscard]] uint64_t log_count(const std::string& name, const std::string& text) const;

 private:
  child_set& children_;
  std::string dir_;
  std::string secret_;
  std::vector<node_proc> nodes_;
};

// A node's view of the cluster (GET /v1/cluster through `client`, whose
// target is that node), by member name; empty when it does not answer.
[[nodiscard]] std::map<std::string, member_view> cluster_view(gateway_client& client);

// The variable the nodes read their shared secret from.
inline constexpr const char* bench_secret_env = "BENCH_CLUSTER_SECRET";

// ---- the raw CAF floor (bench_cluster_raw.cpp)

// The child side: publishes an echo actor on 127.0.0.1 (a free port),
// writes the port to `port_file`, then serves until killed. Exit 1 if it
// cannot publish.
int raw_peer_main(const std::string& port_file, uint32_t mm_workers);

// The parent side: connects to the peer at `port` and keeps `window`
// requests of `payload_bytes` in flight (each with a deadline), with
// middleman.workers = mm_workers in this process too.
[[nodiscard]] loop_result run_raw_remote(uint16_t port, uint32_t mm_workers, uint32_t window,
                                         uint64_t warmup, uint64_t count, size_t payload_bytes);

// ---- the failover client (bench_cluster_stream.cpp)

// The one answer of a task id.
struct id_answer {
  long http_status = 0;            // 0: no answer (transport error or timeout)
  std::string status;              // "completed", "failed", ...
  std::string output;              // the agent's answer when completed
  bench_clock::time_point sent;    // when its request was handed to libcurl
  bench_clock::time_point at;      // when the answer arrived
  bool answered = false;
};

// Posts `{"agent": agent, "input": "work <id>", "task_id": id, "mode":
// "sync"}` to url/v1/tasks for every id, `window` at a time, each request
// with `request_timeout`. `tick(answered)` runs on this thread between
// transfers (at least every 50 ms) so the caller can act mid-run. Stops
// at `bound`; ids not answered by then keep answered = false.
[[nodiscard]] std::map<std::string, id_answer> run_id_stream(
  const std::string& url, const std::string& agent, const std::vector<std::string>& ids,
  uint32_t window, std::chrono::milliseconds request_timeout, std::chrono::milliseconds bound,
  const std::function<void(uint64_t answered)>& tick);

// GET /v1/tasks/<id> through `client`: the task's stored status and output.
[[nodiscard]] id_answer fetch_task(gateway_client& client, const std::string& id);

// ---- request/response and throughput rows (bench_cluster_load.cpp)

// One measured row: a closed loop at one concurrency.
struct load_row {
  std::string key;   // for --json and the ratios: "raw_workers0", "cross_node", ...
  std::string name;  // for the table
  uint32_t concurrency = 0;
  uint32_t nodes = 0;  // throughput rows: the nodes the tasks went through
  std::optional<row_figures> figures;
  std::string error;  // why there are no figures
};

struct load_options {
  std::vector<uint32_t> levels{1, 32};
  uint64_t warmup = 200;
  uint64_t requests = 3000;
  uint32_t clients = 32;  // throughput rows
  size_t payload_bytes = 128;
};

// The floor: raw CAF remote actors, a child publishing an echo actor and
// this process requesting, with middleman.workers 0 and then 1 on both
// sides (keys raw_workers0, raw_workers1), at every level.
[[nodiscard]] std::vector<load_row> run_raw_rows(child_set& children, const std::string& dir,
                                                 const load_options& o);

// Two nodes: agent `far` placed on n1, `near` on n2; sync tasks through
// n2's gateway to `far` (key cross_node: found in the directory, run on
// n1) and to `near` (key same_node), at every level.
[[nodiscard]] std::vector<load_row> run_hop_rows(child_set& children, const std::string& dir,
                                                 const std::string& secret,
                                                 const load_options& o);

// Sync tasks to a round-robin group over an agent on every node, the
// clients spread evenly over the nodes' gateways. `cluster` false: one node
// without a [cluster] section (key alone); else keys nodes1..nodes3.
[[nodiscard]] load_row run_throughput(child_set& children, const std::string& dir,
                                      const std::string& secret, uint32_t nodes, bool cluster,
                                      const load_options& o);

// ---- failover (bench_cluster_failover.cpp)

struct failover_options {
  uint64_t tasks = 1000;
  uint32_t window = 30;
  std::chrono::milliseconds task_delay{50};  // the scripted agent's reply delay
  double fault_at = 1.0 / 3;                 // the fault comes after this share is answered
};

// One fault under load: three nodes, tasks with ids through n1's gateway to
// a round-robin group over an agent on every node; n2 gets `sig` (SIGKILL
// or SIGSTOP, then SIGCONT once every task has its answer).
struct failover_figures {
  std::string fault;  // "kill -9" | "SIGSTOP"
  uint64_t tasks = 0;
  uint64_t completed = 0;
  uint64_t lost = 0;            // no completed answer (failed, or none in the bound)
  uint64_t answered_twice = 0;  // the id's stored answer differs from the one the client got
  uint64_t in_flight_at_fault = 0;
  uint64_t redispatched = 0;  // n1's group moved a task off n2's instance
  std::optional<double> detection_ms;  // the signal to n2 down (or gone) in n1's view
  std::optional<double> recovery_ms;   // the signal to the last task in flight at it answered
  std::optional<bool> rejoined;        // SIGSTOP: n2 up again after SIGCONT
  double seconds = 0;                  // the whole stream
  std::string error;                   // why the scenario could not run; empty when it ran
};

[[nodiscard]] failover_figures run_failover(child_set& children, const std::string& dir,
                                            const std::string& secret, int sig,
                                            const failover_options& o);

// Parses a task body (the sync answer or GET /v1/tasks/<id>) into status
// and output.
void read_task_body(const std::string& body, id_answer& out);

}  // namespace agentgraph::cli
