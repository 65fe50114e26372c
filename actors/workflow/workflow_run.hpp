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
#include <string>

#include <caf/actor_system.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/tool/tool_interface.hpp"
#include "actors/workflow/state_reducer.hpp"
#include "actors/workflow/workflow_graph.hpp"
#include "actors/workflow/workflow_start.hpp"
#include "actors/workflow/workflow_types.hpp"
#include "runtime/cache/multi_level_cache.hpp"

namespace agentgraph {

struct workflow_deps {
  std::map<std::string, agent_actor> agents;
  std::map<std::string, tool_actor> tools;
  std::shared_ptr<const function_registry> functions;
  std::shared_ptr<const reducer_registry> reducers;
  cache::cache_tiers cache;  // shared levels for node caching; empty: L1 only
};

// Checks that every node's target exists in `deps` (names them otherwise)
// and that the start fits the graph (check_start), then spawns the run.
// Errors: invalid_argument, conflict (a resuming start that does not fit).
[[nodiscard]] caf::expected<workflow_run_actor>
spawn_workflow_run(caf::actor_system& sys, std::shared_ptr<const workflow_graph> graph,
                   workflow_deps deps, workflow_start start, workflow_event_sink events = {});

}  // namespace agentgraph
