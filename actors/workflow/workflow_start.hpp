// Where a workflow run starts (a fresh run or a resume from a checkpoint)
// and the pure checks and conversions around it: what the Runtime, the
// gateway and the CLI need to start or resume a run, without the run's
// actor (workflow_run.hpp) or its private state (workflow_run_state.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/workflow/workflow_graph.hpp"
#include "actors/workflow/workflow_types.hpp"
#include "runtime/checkpoint/checkpoint_actor.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

// Where a run starts: a fresh run (step 0, the entry) or a resume.
struct workflow_start {
  std::string thread_id;
  Value state = Value::object();
  uint32_t step = 0;
  std::vector<std::string> next;  // empty: the graph's entry
  // Sources each join (by edge index) has seen complete since it last fired.
  std::map<size_t, std::set<std::string>> joins;
  bool resuming = false;  // true: interrupt_before does not stop `next` again
  // Where every super-step is saved; invalid: no checkpoints. A fresh run
  // saves its input first (step 0), then the state after each step, with
  // `pending` = the next nodes and the joins (workflow_pending, encoded by
  // workflow_codec.hpp) so a resume continues exactly there (see
  // checkpoint_to_start, check_start).
  checkpoint_actor checkpoints;
  uint64_t parent_checkpoint = 0;  // the checkpoint this run continues from
  std::chrono::milliseconds checkpoint_timeout{30'000};
  // For a caller that is not an actor (runtime_client::run_workflow):
  // called once, on the run's thread, with the run's outcome (after its
  // last event), or with caf::sec::request_receiver_down when the run stops
  // before it ends (a node function threw, it was killed), so the caller
  // never waits out its deadline for a dead run. Without events the caller
  // waits on a future (one wake-up, no scoped actor). Such a caller starts
  // the run with anon_send; a run started by request answers the request
  // as well (with a copy). Empty: the reply alone.
  std::function<void(caf::expected<workflow_result>)> on_done;
};

// A thread id no other run has: "<graph>-<UTC yyyymmddThhmmssZ>-<16 hex
// digits from std::random_device>", for runs started without one. The time
// keeps ids readable and sortable; the 64 random bits keep two runs started
// in the same second (or on two machines sharing a store) apart. The store
// refuses a new run on a taken id anyway (checkpoint_store.hpp).
[[nodiscard]] std::string new_thread_id(const std::string& graph_name);

// The one check that a run of `g` may start from `start`: everything the
// run later looks up by name or index exists, so no path (resume through
// the Runtime or the gateway, a start built by hand) reaches a missing
// node. Checks: the state is an object; every `next` node is a node of `g`
// (END is not); every join entry is the index of a join edge and names only
// its sources; when resuming, every request in the state key `interrupt`
// names a node of `g`; a resuming start has something to run (an empty `next` would mean
// "the entry" and silently restart an ended thread). The error names the
// thread, the checkpoint and the missing node or edge. Errors: conflict for
// a resuming start (the saved thread does not fit this definition of the
// graph: never retry unchanged), invalid_argument for a fresh one. Pure.
[[nodiscard]] caf::error check_start(const workflow_graph& g, const workflow_start& start);

// The start of a resumed run of `g` from a saved checkpoint: its state (with
// `input` merged over it, key by key), step, next nodes and joins, checked
// by check_start. Errors: parse_error when `pending` is not what a run saves
// or the step does not fit; conflict when the thread has already ended or
// the checkpoint does not fit `g` (a node renamed or removed since, a state
// that is not an object). Pure.
[[nodiscard]] caf::expected<workflow_start>
checkpoint_to_start(const workflow_graph& g, const checkpoint& c, const Value& input);

// Renders "{{path}}" placeholders from the state (strings as they are,
// other values as JSON). Errors: invalid_argument naming a path the state
// lacks or an unclosed placeholder.
[[nodiscard]] caf::expected<std::string> render_template(const std::string& text,
                                                         const Value& state);

}  // namespace agentgraph
