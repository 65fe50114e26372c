// The typed interface of an agent: it takes a task, runs the model/tool loop
// with memory, and replies with the answer, its token usage, the tool calls it
// made and its latency. Agents are called by clients, routers, other agents
// (through the agent tool) and, later, workflow nodes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common_atoms.hpp"
#include "actors/provider/provider_interface.hpp"
#include "runtime/heartbeat.hpp"
#include "runtime/llm_types.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

struct task_request {
  std::string task_id;  // unique; results and logs refer to it
  std::string input;    // the user's request in words
  Value context;        // optional structured input, shown to the model as JSON
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_request& x) {
  return f(caf::meta::type_name("agentgraph::task_request"), x.task_id, x.input, x.context);
}

// One tool call the agent made while working on a task.
struct tool_call_record {
  std::string tool;
  Value arguments;
  bool ok = false;
  std::string error;  // describe(error) when !ok
  bool from_cache = false;
  int64_t latency_us = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_call_record& x) {
  return f(caf::meta::type_name("agentgraph::tool_call_record"), x.tool, x.arguments, x.ok,
           x.error, x.from_cache, x.latency_us);
}

struct task_result {
  std::string task_id;
  std::string agent;
  std::string output;
  token_usage usage;  // summed over every model call of the task
  std::vector<tool_call_record> tool_calls;
  uint32_t model_calls = 0;
  int64_t latency_us = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_result& x) {
  return f(caf::meta::type_name("agentgraph::task_result"), x.task_id, x.agent, x.output,
           x.usage, x.tool_calls, x.model_calls, x.latency_us);
}

enum class agent_status : uint8_t { idle, busy, failed };
[[nodiscard]] const char* to_string(agent_status s);

struct agent_stats {
  std::string name;
  std::string role;
  agent_status status = agent_status::idle;
  uint64_t tasks_completed = 0;
  uint64_t errors = 0;
  uint64_t tasks_in_flight = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
  int64_t response_time_avg_us = 0;  // over completed tasks
  int64_t uptime_ms = 0;
  uint64_t memory_bytes = 0;  // heap bytes of the agent's own state (history, stats)
  uint64_t history_turns = 0;  // conversation turns held (bounded by history_window)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_stats& x) {
  return f(caf::meta::type_name("agentgraph::agent_stats"), x.name, x.role, x.status,
           x.tasks_completed, x.errors, x.tasks_in_flight, x.prompt_tokens, x.completion_tokens,
           x.total_tokens, x.response_time_avg_us, x.uptime_ms, x.memory_bytes, x.history_turns);
}

// An agent's own state, as a population saves it while the agent is
// passivated (actors/population/): its conversation and the figures of its
// stats, so a reactivated agent goes on exactly where it stopped.
struct agent_snapshot {
  std::vector<std::string> history;  // user, assistant, user, ... oldest turn first
  uint64_t tasks_completed = 0;
  uint64_t errors = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t response_time_total_us = 0;  // summed over completed tasks
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_snapshot& x) {
  return f(caf::meta::type_name("agentgraph::agent_snapshot"), x.history, x.tasks_completed,
           x.errors, x.prompt_tokens, x.completion_tokens, x.response_time_total_us);
}

using execute_atom = caf::atom_constant<caf::atom("ag_execute")>;
using execute_stream_atom = caf::atom_constant<caf::atom("ag_exstrm")>;

using agent_actor = caf::typed_actor<
  // Reply: the task's result. Errors: limit_exceeded (max tool iterations),
  // overloaded (too many tasks in flight), provider_error, timeout,
  // invalid_argument (empty input). Callers should allow the agent's
  // request_timeout times (max_tool_iterations + 1).
  caf::replies_to<execute_atom, task_request>::with<task_result>,
  // As execute; every model call of the task streams its tokens (and tool
  // calls) to the sink as they arrive, tagged with the call's request id
  // "<task_id>-<n>". The reply is the same task_result.
  caf::replies_to<execute_stream_atom, task_request, stream_sink_actor>::with<task_result>,
  caf::replies_to<stats_atom>::with<agent_stats>,
  heartbeat_signature>;

using agent_export_atom = caf::atom_constant<caf::atom("ag_export")>;

// An agent a population hosts: an agent that also hands over its state.
// Reply: the state now (tasks in flight are not part of it; a population
// exports only an agent with none, or again after they finished).
using keyed_agent_actor =
  agent_actor::extend<caf::replies_to<agent_export_atom>::with<agent_snapshot>>;

}  // namespace agentgraph
