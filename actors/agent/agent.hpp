// The agent actor: takes a task, recalls memory, runs the model/tool loop
// (bounded by max_tool_iterations), stores the interaction and, once the
// shard answered that store, replies with
// the answer, usage, tool calls and latency. Its dependencies are handles to
// other actors (normally supervisors), so it never knows whether they are
// local or remote.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/agent/agent_config.hpp"
#include "actors/agent/agent_interface.hpp"
#include "actors/memory/memory_interface.hpp"
#include "actors/provider/provider_interface.hpp"
#include "actors/tool/tool_interface.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/supervised_ref.hpp"

namespace agentgraph {

// Tool calls the agent runs for one model reply; a reply asking for more
// fails the task with limit_exceeded (each call is a concurrent request).
constexpr size_t tool_calls_per_round_max = 16;
// Callers that may wait on one running task id besides the first (a task
// sent again with the same id joins the run and gets its answer).
constexpr size_t task_joiners_max = 8;

// Each dependency is a supervised ref (resolved per call, so a restarted
// provider, tool or shard is reached at its new address) or a fixed handle.
struct agent_dependencies {
  dep<provider_actor> provider;
  std::map<std::string, dep<tool_actor>> tools;  // by the name the model calls
  std::vector<tool_definition> tool_definitions;  // shown to the model
  dep<memory_actor> memory;  // empty: the agent has no memory shard
  // Where the agent records its metrics (agent_metrics.hpp); null: nowhere.
  std::shared_ptr<metrics::registry> metrics;
};

// Errors: invalid_argument when the config is unusable (no name, no provider,
// a tool in cfg.tools without a handle or definition, memory named but no
// handle, zero timeouts or bounds).
[[nodiscard]] caf::error validate_agent(const agent_config& cfg, const agent_dependencies& deps);

// Spawns the agent. Call validate_agent first; spawning an invalid agent is
// a programmer error.
[[nodiscard]] agent_actor spawn_agent(caf::actor_system& sys, agent_config cfg,
                                      agent_dependencies deps);
// The same with a configuration and dependencies shared by many spawns (a
// supervisor's restarts, the Runtime's tables): held once, not copied.
[[nodiscard]] agent_actor spawn_agent(caf::actor_system& sys,
                                      std::shared_ptr<const agent_config> cfg,
                                      std::shared_ptr<const agent_dependencies> deps);

// An agent that also hands over its state (keyed_agent_actor), starting
// from `initial` (null: a fresh agent): a population's instance of one key.
[[nodiscard]] keyed_agent_actor spawn_keyed_agent(caf::actor_system& sys,
                                                  std::shared_ptr<const agent_config> cfg,
                                                  std::shared_ptr<const agent_dependencies> deps,
                                                  std::shared_ptr<const agent_snapshot> initial);

}  // namespace agentgraph
