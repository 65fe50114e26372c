#include "actors/agent/agent_metrics.hpp"

#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

agent_metrics make_agent_metrics(std::shared_ptr<metrics::registry> reg, const std::string& agent) {
  agent_metrics m;
  auto* r = reg.get();
  auto* tasks = metrics::counter_family_of(
    r, "agentgraph_agent_tasks_total",
    "Tasks an agent answered, by outcome (ok or the error code).", {"agent", "outcome"});
  m.tasks = metrics::outcome_counters{std::move(reg), tasks, agent};
  m.task_duration = metrics::latency_histogram_of(
    r, "agentgraph_agent_task_duration_seconds",
    "Time from accepting a task to answering it, failed tasks included.", {"agent"}, {agent});
  const std::string tokens = "agentgraph_agent_tokens_total";
  const std::string tokens_help = "Tokens of an agent's model calls, by direction.";
  m.prompt_tokens = metrics::counter_of(r, tokens, tokens_help, {"agent", "direction"},
                                        {agent, "prompt"});
  m.completion_tokens = metrics::counter_of(r, tokens, tokens_help, {"agent", "direction"},
                                            {agent, "completion"});
  m.model_calls = metrics::counter_of(r, "agentgraph_agent_model_calls_total",
                                      "Model calls an agent got an answer to.", {"agent"}, {agent});
  m.tasks_in_flight = metrics::gauge_of(
    r, "agentgraph_agent_tasks_in_flight",
    "Tasks an agent is running now (bounded by tasks_in_flight_max).", {"agent"}, {agent});
  m.memory_errors = metrics::counter_of(
    r, "agentgraph_agent_memory_errors_total",
    "Memory recalls and stores of an agent that failed; the task went on without them.",
    {"agent"}, {agent});
  return m;
}

}  // namespace agentgraph
