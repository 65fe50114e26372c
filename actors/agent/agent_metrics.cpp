#include "actors/agent/agent_metrics.hpp"

#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace {
constexpr const char* tasks_in_flight_name = "agentgraph_agent_tasks_in_flight";
constexpr const char* tasks_in_flight_help =
  "Tasks an agent is running now (bounded by tasks_in_flight_max).";
}  // namespace

uint64_t agent_tasks_in_flight_total(metrics::registry& reg) {
  // The family the agents' series live in (the same shape returns it).
  auto fam = reg.add_gauge(tasks_in_flight_name, tasks_in_flight_help, {"agent"});
  if (!fam)
    return 0;
  double sum = 0;
  (*fam)->for_each([&sum](const auto&, const metrics::gauge& g) { sum += g.value(); });
  return sum > 0 ? static_cast<uint64_t>(sum + 0.5) : 0;
}

agent_metrics make_agent_metrics(std::shared_ptr<metrics::registry> reg, const std::string& agent) {
  agent_metrics m;
  auto* r = reg.get();
  m.tasks = metrics::make_answer_metrics(
    std::move(reg),
    {"agentgraph_agent_tasks_total", "Tasks an agent answered, by outcome (ok or the error code).",
     "agentgraph_agent_task_duration_seconds",
     "Time from accepting a task to answering it, failed tasks included."},
    "agent", agent);
  m.tokens = metrics::make_token_counters(r, "agentgraph_agent_tokens_total",
                                          "Tokens of an agent's model calls, by direction.",
                                          "agent", agent);
  m.model_calls = metrics::counter_of(r, "agentgraph_agent_model_calls_total",
                                      "Model calls an agent got an answer to.", {"agent"}, {agent});
  m.tasks_in_flight =
    metrics::gauge_of(r, tasks_in_flight_name, tasks_in_flight_help, {"agent"}, {agent});
  m.memory_errors = metrics::counter_of(
    r, "agentgraph_agent_memory_errors_total",
    "Memory recalls and stores of an agent that failed; the task went on without them.",
    {"agent"}, {agent});
  return m;
}

}  // namespace agentgraph
