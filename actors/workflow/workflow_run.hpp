// One run of a workflow graph: an actor that executes super-steps. All
// nodes active in a step run concurrently as actor requests (agents, tools)
// or inline calls (registered functions), each with its own timeout and
// retries; when every one has answered, their updates are merged in
// node-name order (state_reducer.hpp), the edges pick the next step's
// nodes, and the step is reported. Nothing blocks: the run is a chain of
// request/then callbacks on one event-based actor.
//
// The next step's nodes: plain edges add their targets, conditional edges
// their first matching branch (evaluated on the merged state), route edges
// the node named by a state key, joins their target once every source has
// completed since the join last fired. A node that failed after its retries
// follows its error edge (the state key `error` then holds {"node",
// "message"}) or fails the run naming it. END adds nothing; the run
// completes when a step activates no node. max_steps bounds cycles.
//
// Interrupts: before a node listed in interrupt_before (unless the run is
// resuming exactly there) and after a step that ran a node in
// interrupt_after, the run stops with status `interrupted` and `next` set;
// resuming starts a new run from that state and `next`.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/tool/tool_interface.hpp"
#include "actors/workflow/state_reducer.hpp"
#include "actors/workflow/workflow_graph.hpp"
#include "actors/workflow/workflow_types.hpp"
#include "runtime/cache/cache_message.hpp"
#include "runtime/cache/multi_level_cache.hpp"
#include "runtime/checkpoint/checkpoint_actor.hpp"

namespace agentgraph {

struct workflow_deps {
  std::map<std::string, agent_actor> agents;
  std::map<std::string, tool_actor> tools;
  std::shared_ptr<const function_registry> functions;
  std::shared_ptr<const reducer_registry> reducers;
  cache::cache_tiers cache;  // shared levels for node caching; empty: L1 only
};

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

// Self-message: start the next super-step. A step that ends inline (only
// function nodes) must not start the next one from inside itself, or a
// long cycle would nest one stack frame set per step.
using workflow_step_atom = caf::atom_constant<caf::atom("ag_wfstep")>;

// The run's own type: its interface plus the chunks agent nodes stream to
// it and its step message.
using workflow_run_impl =
  workflow_run_actor::extend<caf::reacts_to<stream_chunk>, caf::reacts_to<workflow_step_atom>,
                             caf::reacts_to<cache_l3_atom, uint64_t, cache::l3_reply>>;

struct workflow_run_state {
  static inline const char* name = "workflow_run";
  std::shared_ptr<const workflow_graph> graph;
  workflow_deps deps;
  workflow_event_sink events;
  std::string thread_id;
  Value state;
  uint32_t step = 0;
  std::set<std::string> active;
  std::map<size_t, std::set<std::string>> joins;
  std::set<std::string> resume_past;  // interrupt_before skipped once for these
  bool started = false;
  bool finished = false;
  caf::error start_error;  // check_start's verdict: answered instead of running
  caf::typed_response_promise<workflow_result> promise;
  // The step in progress.
  size_t pending = 0;
  std::vector<std::pair<std::string, Value>> updates;
  std::map<std::string, caf::error> failures;
  std::map<std::string, uint32_t> attempts;
  std::map<std::string, std::string> request_nodes;  // agent request id -> node, for tokens
  checkpoint_actor checkpoints;
  uint64_t parent_checkpoint = 0;
  std::chrono::milliseconds checkpoint_timeout{30'000};
  // Node caching: one cache per cached node (its own TTL), made on first use.
  std::map<std::string, cache::multi_level_cache> node_caches;
  std::map<std::string, std::string> cache_keys;           // node -> key, while it runs
  std::map<uint64_t, std::string> cache_pending;           // L3 lookup tag -> node
  uint64_t next_cache_tag = 0;
};

workflow_run_impl::behavior_type
workflow_run(workflow_run_impl::stateful_pointer<workflow_run_state> self,
             std::shared_ptr<const workflow_graph> graph, workflow_deps deps, workflow_start start,
             workflow_event_sink events);

// Checks that every node's target exists in `deps` (names them otherwise)
// and that the start fits the graph (check_start), then spawns the run.
// Errors: invalid_argument, conflict (a resuming start that does not fit).
[[nodiscard]] caf::expected<workflow_run_actor>
spawn_workflow_run(caf::actor_system& sys, std::shared_ptr<const workflow_graph> graph,
                   workflow_deps deps, workflow_start start, workflow_event_sink events = {});

}  // namespace agentgraph
