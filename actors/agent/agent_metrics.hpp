// What an agent records, labelled with its name (`agent`):
//
//   agentgraph_agent_tasks_total{agent,outcome}        tasks answered; outcome `ok` or the
//                                                      errc name the task failed with
//   agentgraph_agent_task_duration_seconds{agent}      histogram: accepted task to answer,
//                                                      failed tasks included
//   agentgraph_agent_tokens_total{agent,direction}     direction `prompt` | `completion`,
//                                                      summed over every model call
//   agentgraph_agent_model_calls_total{agent}          provider calls answered
//   agentgraph_agent_tasks_in_flight{agent}            gauge: tasks running now (the
//                                                      agent's bounded queue, tasks_in_flight_max)
//   agentgraph_agent_memory_errors_total{agent}        recalls/stores that failed (the task
//                                                      goes on without them)
//
// Tasks refused before they start (empty input, overloaded, duplicate id)
// count in tasks_total with their errc too: they are answers the caller got.
// They never ran, so the duration histogram leaves them out (providers do
// the same with calls refused before admission).
//
// Why not the CAF mailbox length: CAF 0.17's `mailbox().size()` moves
// messages between the mailbox's internal queues, so only the owning actor
// may call it; a scrape thread cannot, and sampling it inside the actor on
// every message would tax the hot path. The queues we bound ourselves
// (tasks in flight here, the provider's admission queue, a tool's calls in
// flight, a supervisor's pending requests) are exported instead.
#pragma once

#include <memory>
#include <string>

#include "runtime/metrics/answer_metrics.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/metrics/token_counters.hpp"

namespace agentgraph {

struct agent_metrics {
  metrics::answer_metrics tasks;  // tasks_total and task_duration_seconds; holds the registry
  metrics::token_counters tokens;
  metrics::counter* model_calls = nullptr;
  metrics::gauge* tasks_in_flight = nullptr;
  metrics::counter* memory_errors = nullptr;
};

// All series null (nothing recorded) when `reg` is null.
[[nodiscard]] agent_metrics make_agent_metrics(std::shared_ptr<metrics::registry> reg,
                                               const std::string& agent);

// Tasks running now on every agent that records into `reg` (the sum of
// agentgraph_agent_tasks_in_flight over agents), whoever sent them: this
// node's gateway, a workflow, or a group router on another node. A cluster
// node reports it as its load in every heartbeat (least_loaded routing).
[[nodiscard]] uint64_t agent_tasks_in_flight_total(metrics::registry& reg);

}  // namespace agentgraph
