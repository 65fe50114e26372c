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
  // `pending` = {"next": [...], "joins": {...}} so a resume continues
  // exactly there (see checkpoint_to_start).
  checkpoint_actor checkpoints;
  uint64_t parent_checkpoint = 0;  // the checkpoint this run continues from
  std::chrono::milliseconds checkpoint_timeout{30'000};
};

// The start of a resumed run from a saved checkpoint: its state (with
// `input` merged over it, key by key), step, next nodes and joins.
// Errors: parse_error when `pending` is not what a run saves.
[[nodiscard]] caf::expected<workflow_start> checkpoint_to_start(const checkpoint& c,
                                                              const Value& input);

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
// and spawns the run. Errors: invalid_argument.
[[nodiscard]] caf::expected<workflow_run_actor>
spawn_workflow_run(caf::actor_system& sys, std::shared_ptr<const workflow_graph> graph,
                   workflow_deps deps, workflow_start start, workflow_event_sink events = {});

}  // namespace agentgraph
