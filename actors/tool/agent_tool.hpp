// The agent tool: lets one agent hand a sub-task to another. It is a tool
// named cfg.name with one parameter, `task`, that sends execute_atom with a
// task_request to the target agent and replies {"agent", "answer"}.
#pragma once

#include <chrono>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "runtime/supervised_ref.hpp"
#include "actors/agent/agent_interface.hpp"
#include "actors/tool/tool_config.hpp"
#include "actors/tool/tool_interface.hpp"
#include "actors/tool/tool_metrics.hpp"

namespace agentgraph {

[[nodiscard]] tool_spec agent_tool_spec(const std::string& name, const std::string& agent);

// The request sent to the agent. The model's call id keys the sub-task so a
// retried call is recognisable; without one, `fallback_id` is used.
[[nodiscard]] task_request make_agent_task(const std::string& call_id, const Value& args,
                                           const std::string& fallback_id);

// The tool's output for the agent's result.
[[nodiscard]] Value agent_answer(const std::string& agent, const task_result& result);

// How an agent's failure reaches the model: a deadline stays `timeout` (so
// callers keep its retry meaning), everything else becomes tool_error
// naming the agent and the described cause.
[[nodiscard]] caf::error agent_failure(const std::string& agent, const caf::error& err);

// Expects a validated config and a valid handle (spawn_agent_tool checks).
// The tool waits cfg.timeout for the agent. `metrics`: series for this
// tool (tool_metrics.hpp); default: records nothing.
[[nodiscard]] tool_actor spawn_agent_tool_actor(caf::actor_system& sys, const tool_config& cfg,
                                                dep<agent_actor> target, tool_metrics metrics = {});

}  // namespace agentgraph
