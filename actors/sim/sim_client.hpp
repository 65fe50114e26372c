// The simulated client of `agentgraph sim` (sim_runner.hpp) and the nodes
// it talks to. A task enters a node's gateway as a real client's POST
// /v1/tasks would (gateway::submit_task: the membership gate, the task
// table, the runner, the journal), with its own id, in sync mode. Like an
// HTTP client that keeps the id, it asks again at another live node when
// its node died (the connection reset: after retry_pause) or did not
// answer within client_timeout (a frozen node), at most client_attempts
// times, until one deadline from the arrival; a journaled task then gets
// the answer the journal stores, wherever it ran (the leader adopts a dead
// member's open tasks).
//
// Single-threaded: everything here runs on the simulation's thread, the
// gateways' answers included (they come from the nodes' actors, which the
// simulation steps on that thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/timestamp.hpp>

#include "actors/sim/scenario.hpp"
#include "actors/sim/sim_node.hpp"
#include "actors/sim/sim_record.hpp"

namespace agentgraph {
class task_journal;
}  // namespace agentgraph

namespace agentgraph::sim {

// How long after a deadline a journal record may still be open: its dead
// owner detected (a freeze: about 2.3 s), downed, the task adopted by a
// sweep of the leader and run there again, or a run's failure stored.
constexpr double client_adoption_slack_ms = 15'000;

// A killed node's connections reset at once (the kernel closes a dead
// process's sockets); the client asks again after this pause.
constexpr std::chrono::milliseconds client_retry_pause{500};

// What the client needs from the run it is part of.
struct client_hooks {
  std::function<caf::timespan()> now;  // since the cluster formed
  // Calls sim_client::wake(task) at run time `at` (>= now()).
  std::function<void(caf::timespan at, uint64_t task)> wake_at;
  std::function<void(double t_ms, const std::string& what)> line;
};

class sim_client {
 public:
  sim_client(const scenario& sc, uint64_t seed, run_record& rec, sample_row& sample,
             const std::vector<std::unique_ptr<sim_node>>& nodes, client_hooks hooks);
  sim_client(const sim_client&) = delete;
  sim_client& operator=(const sim_client&) = delete;

  // A task arrives for `agent` (a population type: one of its keys).
  void arrive(const std::string& agent);
  // The client's timer for `task` (asked for through wake_at).
  void wake(uint64_t task);
  // After a fault struck: an attempt open on a node that is killed now
  // (or was replaced by a restart) lost its connection.
  void after_fault();
  // What a node's gateway calls on each run of a task's agent that ended
  // with a result (gateway::on_task_executed).
  [[nodiscard]] std::function<void(const std::string&)> execution_observer();
  // At the end of the run: the outcome of every task never answered; with
  // the shared journal at `journal` (a location; empty: none), for a task
  // whose client got no answer but the journal holds open: `lost` where
  // the journal's promise is broken (see sim_client.cpp), else
  // `open_at_end`. `run_ms(agent)`: how long a run of the agent may take
  // on a node (its runner's deadline). Blocking (reads the journal): after
  // the world stopped.
  void finish(double end_ms, const std::string& journal,
              const std::function<double(const std::string& agent)>& run_ms);
  // From now on nothing a gateway answers is recorded (the nodes' last jobs
  // run at teardown).
  void close();
  // Whether task number `task` may have run more than once (the key
  // audit's ran_again, sim_keys.hpp): its client asked more than once, a
  // gateway saw two runs end, the node it entered at was killed or
  // replaced, or the journal at `journal` (a location; empty: none) no
  // longer has it owned by that node (the leader adopted it). Without a
  // journal nothing keeps a task to one run: always. Blocking (reads the
  // journal): after the world stopped.
  [[nodiscard]] bool ran_again(uint64_t task, const std::string& journal);

 private:
  struct open_task {
    std::string agent;
    std::string body;          // the request, the same on every attempt
    caf::timespan give_up{};   // arrival + deadline
    caf::timespan next{};      // the current attempt's timeout, or when a retry is due
    uint32_t attempt = 0;      // the current attempt's number (1 = the first)
    size_t node = 0;           // its node; 0 while a retry is due
    uint32_t incarnation = 0;
  };

  sim_node* pick_entry(size_t avoid);
  // The next attempt, to `n` or (null) another live node than the last.
  void send(uint64_t idx, sim_node* n = nullptr);
  void retry_later(uint64_t idx, caf::timespan at);
  void on_answer(uint64_t idx, uint32_t attempt, size_t node, int status, const std::string& body);
  void end(uint64_t idx, const std::string& outcome, size_t answered_by);
  double now_ms() const;

  const scenario& sc_;
  run_record& rec_;
  sample_row& sample_;  // the runner's current interval
  const std::vector<std::unique_ptr<sim_node>>& nodes_;
  client_hooks hooks_;
  std::mt19937_64 keys_rng_;
  std::mt19937_64 entry_rng_;
  size_t rr_ = 0;
  // Tasks not ended yet; bounded by the tasks in flight (arrivals end at
  // their deadline at the latest).
  std::map<uint64_t, open_task> open_;
  // FNV-1a of the first answer that is the task's (not a "try again"), by
  // task number - 1: a different one later is a second answer.
  std::vector<uint64_t> answer_hash_;
  // Answers that arrive after close() are dropped; callbacks hold it weakly.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::shared_ptr<task_journal> journal_;  // opened by ran_again, once
};

}  // namespace agentgraph::sim
