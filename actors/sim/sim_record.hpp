// What a simulation run saw, in virtual time: the event trace (the
// determinism check compares it line by line), each task's fate, each
// observer's view of the membership, the faults and the LLM vendors'
// figures. The runner fills it on the one simulation thread; the report
// (sim_report.hpp) reads it. Times are milliseconds since the cluster
// formed (the run's t = 0).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/sim/scenario.hpp"
#include "actors/sim/sim_keys.hpp"
#include "actors/sim/sim_llm.hpp"

namespace agentgraph::sim {

// Lines the trace keeps; past it lines are still hashed, not kept.
constexpr size_t trace_lines_max = 5'000'000;

struct task_record {
  uint64_t id = 0;
  std::string agent;
  size_t entry = 0;         // node number it entered at; 0: none was live
  uint32_t entry_incarnation = 0;
  double arrived_ms = 0;
  std::optional<double> ended_ms;
  // ok | redispatched_ok (answered after the client asked again at another
  // node) | timeout (no answer by the deadline) | overloaded (429: the
  // gateway's tasks_in_flight_max) | unavailable | ... (the answer's error
  // code) | no_entry | refused_not_member (the first node asked was not in
  // the cluster) | entry_died (the node asked last died with the task open
  // and the client had no attempt left) | entry_frozen (the node asked
  // last was frozen at the deadline); set
  // with ended_ms. Set at the end: unfinished_at_end (its deadline reaches
  // past the end), open_at_end (no answer, and the journal still holds it
  // open where its promise allows: sim_client::finish), lost (open where
  // it does not).
  std::string outcome;
  // Different answers the task's id got, on any attempt (also ones the
  // client had given up on): with a journal, more than 1 is a task
  // answered twice. "Ask again" answers (503, a wait that ran out) and
  // 429s are not answers.
  uint32_t answers = 0;
  uint32_t attempts = 0;    // submissions by the client, the first included
  uint32_t executions = 0;  // runs of its agent that ended with a result, any node
};

struct member_change {
  double t_ms = 0;
  size_t observer = 0;  // node number
  uint32_t observer_incarnation = 0;
  std::string member;   // n1, n2, ...
  uint64_t uid = 0;
  std::string state;    // joining, up, leaving, exiting, down, removed
  std::string why;
};

struct fault_record {
  fault f;
  double t_ms = 0;
  std::vector<size_t> targets;  // node numbers it hit
  // The other nodes live at that moment: (number, incarnation).
  std::vector<std::pair<size_t, uint32_t>> watchers;
};

struct sample_row {
  double t_ms = 0;  // end of the interval
  uint64_t arrived = 0;
  uint64_t ok = 0;
  uint64_t failed = 0;
  std::vector<double> latencies_ms;  // of tasks answered ok in the interval
  std::vector<uint64_t> ok_by_entry;  // index: node number - 1
  std::vector<int64_t> up_seen_by;    // up members in each node's view; -1: node not live
  // Two live nodes that each see themselves up and the other down or
  // removed: two clusters at once (keep-majority must prevent it).
  bool split_brain = false;
};

struct run_record {
  std::string scenario_origin;
  uint64_t seed = 0;
  size_t nodes = 0;
  double formed_at_ms = 0;  // virtual time the cluster took to form
  double end_ms = 0;        // duration + drain
  double duration_ms = 0;
  std::vector<std::string> trace;
  uint64_t trace_hash = 0xcbf29ce484222325ull;  // FNV-1a over every line
  uint64_t trace_lines = 0;
  std::vector<task_record> tasks;
  std::vector<member_change> members;
  std::vector<fault_record> faults;
  std::vector<sample_row> samples;
  std::map<std::string, llm_figures> llm;
  std::vector<std::string> node_state;  // at the end: live | frozen | killed
  std::vector<uint32_t> incarnation_at_end;
  // Keys with a saved state in the simulated shared population store, per
  // population, at the start (after saved_keys) and at the end.
  std::map<std::string, std::pair<uint64_t, uint64_t>> saved_states;
  // Segments a delay or drop fault touched, and those a drop hit.
  uint64_t segments_delayed = 0;
  uint64_t segments_dropped = 0;
  bool journaled = false;  // [sim] journal: the gateways journal tasks
  // The audit of the shared population store's claims and saves
  // (sim_keys.hpp); audited is false without a shared store.
  key_figures keys;
  double wall_s = 0;                    // filled by the caller, never traced
  // The world's work (sim_network::planet_steps, instants): for speed.json.
  uint64_t planet_steps = 0;
  uint64_t instants = 0;

  void line(double t_ms, const std::string& what);
};

// The invariants a run must keep wherever the real system promises them:
// no task lost (left open in the journal past the point where it must be
// answered: sim_client::finish), none answered twice (with a journal: one answer per task id, on
// every node it is asked at, even when it ran twice), never two clusters
// at once, and per population key (sim_keys.hpp) no save accepted under a
// superseded claim or from a stale state, every state decodes, no task's
// turn added twice when nothing ran twice. Each broken one, in words.
[[nodiscard]] std::vector<std::string> violations(const run_record& rec);

}  // namespace agentgraph::sim
