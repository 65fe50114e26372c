// What a supervisor records about its child, by the child's name (label
// `child`, e.g. `agent.planner`, `tool.calculator`, `memory.notes`):
//
//   agentgraph_supervisor_restarts_total{child}            restarts after a crash or hang
//   agentgraph_supervisor_heartbeats_missed_total{child}   pings unanswered within the interval
//   agentgraph_supervisor_escalations_total{child}         restart budget spent: gave up
//   agentgraph_supervisor_request_timeouts_total{child}    forwarded requests past request_timeout
//   agentgraph_supervisor_requests_in_flight{child}        gauge: forwarded requests waiting
//                                                          (bounded by supervisor_inflight_max)
//
// Series are resolved when the supervisor starts; all null without a
// registry (nothing recorded). A supervision group relays no requests, so
// its children get no request_timeouts / requests_in_flight series
// (relaying = false): a series that could only ever show 0 is not created.
#pragma once

#include <memory>
#include <string>

#include "runtime/metrics/registry.hpp"

namespace agentgraph {

struct supervisor_metrics {
  std::shared_ptr<metrics::registry> keepalive;  // the series live as long as it
  metrics::counter* restarts = nullptr;
  metrics::counter* heartbeats_missed = nullptr;
  metrics::counter* escalations = nullptr;
  metrics::counter* request_timeouts = nullptr;
  metrics::gauge* requests_in_flight = nullptr;
};

[[nodiscard]] supervisor_metrics make_supervisor_metrics(std::shared_ptr<metrics::registry> reg,
                                                         const std::string& child,
                                                         bool relaying = true);

}  // namespace agentgraph
