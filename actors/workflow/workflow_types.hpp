// The messages of a workflow run: what starts it, what it reports while it
// runs (events), and what it answers at the end. Plain structs with
// inspect, so runs, events and results cross nodes like every other
// message.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/atom.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/heartbeat.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

enum class workflow_event_kind : uint8_t {
  run_started,
  node_started,
  node_completed,
  node_failed,     // after its retries; an error edge may still route around it
  state_updated,   // after each super-step; data = the whole state
  token,           // text streamed by an agent node; data = {"request_id", "text"}
  interrupted,     // paused before/after a node; data = {"next": [...]}
  run_completed,   // data = the final state
  run_failed,      // text = the error
};
[[nodiscard]] const char* to_string(workflow_event_kind k);

struct workflow_event {
  workflow_event_kind kind = workflow_event_kind::run_started;
  std::string thread_id;
  uint32_t step = 0;
  std::string node;
  Value data;
  std::string text;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, workflow_event& x) {
  return f(caf::meta::type_name("agentgraph::workflow_event"), x.kind, x.thread_id, x.step, x.node,
           x.data, x.text);
}

// Anything that wants a run's events, in order.
using workflow_event_sink = caf::typed_actor<caf::reacts_to<workflow_event>>;

enum class workflow_status : uint8_t { completed, interrupted, failed };
[[nodiscard]] const char* to_string(workflow_status s);

struct workflow_result {
  std::string thread_id;
  workflow_status status = workflow_status::completed;
  Value state;
  uint32_t steps = 0;               // super-steps run in this thread so far
  std::vector<std::string> next;    // interrupted: the nodes a resume runs first
  std::string error;                // failed: what went wrong, naming the node
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, workflow_result& x) {
  return f(caf::meta::type_name("agentgraph::workflow_result"), x.thread_id, x.status, x.state,
           x.steps, x.next, x.error);
}

using run_workflow_atom = caf::atom_constant<caf::atom("ag_wfrun")>;

// One run. Reply: the result (completed, interrupted or failed: failures
// are results, not errors, so the caller always gets the state reached).
using workflow_run_actor =
  caf::typed_actor<caf::replies_to<run_workflow_atom>::with<workflow_result>, heartbeat_signature>;

// A node's update holding this key asks a human: the run pauses after the
// step (status interrupted, the node in `next`), the request is in the
// state key `interrupt`, and the node runs again when the thread resumes
// with the answer merged into the state. This is the node-facing API (what
// a function node or an agent's output returns); the run reads it in one
// place (take_interrupt_request, workflow_codec.hpp) and carries the
// request typed from there on.
inline constexpr const char* workflow_interrupt_key = "__interrupt__";

// The run's control data, typed. It travels in Values only where a Value
// is the format: the checkpoint's `pending` column and the state key
// `interrupt` (both saved, so both must stay readable by later versions);
// workflow_codec.hpp holds the one encode/decode pair of each.

// One node's request for a human, made in the step that just ended.
struct interrupt_request {
  std::string node;  // the node that asked; it runs again on resume
  Value request;     // what it asked: any JSON (the question)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, interrupt_request& x) {
  return f(caf::meta::type_name("agentgraph::interrupt_request"), x.node, x.request);
}

// Where a run continues after a saved step: what a checkpoint's `pending`
// holds. An empty `next` means the thread has ended.
struct workflow_pending {
  std::vector<std::string> next;  // the next step's nodes, in name order
  // Sources each join (by edge index) has seen complete since it last fired.
  std::map<size_t, std::set<std::string>> joins;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, workflow_pending& x) {
  return f(caf::meta::type_name("agentgraph::workflow_pending"), x.next, x.joins);
}

// A registered C++ node: the state in, a state update (an object) out. Runs
// on a scheduler thread: it must be quick and must not block.
using node_function = std::function<caf::expected<Value>(const Value& state)>;

class function_registry {
 public:
  // invalid_argument for an empty name or a name registered twice.
  caf::error add(std::string name, node_function fn);
  [[nodiscard]] const node_function* find(const std::string& name) const;
  [[nodiscard]] bool contains(const std::string& name) const { return find(name) != nullptr; }

 private:
  // Hashed: a run looks every function node's target up (its name check
  // and its call), and a function stays where it is when others are added.
  std::unordered_map<std::string, node_function> fns_;
};

}  // namespace agentgraph
