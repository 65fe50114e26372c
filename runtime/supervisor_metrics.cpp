#include "runtime/supervisor_metrics.hpp"

#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

supervisor_metrics make_supervisor_metrics(std::shared_ptr<metrics::registry> reg,
                                           const std::string& child) {
  supervisor_metrics m;
  auto* r = reg.get();
  m.keepalive = std::move(reg);
  m.restarts = metrics::counter_of(r, "agentgraph_supervisor_restarts_total",
                                   "Restarts of a supervised child after a crash or a hang.",
                                   {"child"}, {child});
  m.heartbeats_missed = metrics::counter_of(
    r, "agentgraph_supervisor_heartbeats_missed_total",
    "Heartbeat pings a supervised child left unanswered within the heartbeat interval.", {"child"},
    {child});
  m.escalations = metrics::counter_of(
    r, "agentgraph_supervisor_escalations_total",
    "Times a supervisor spent its restart budget and gave up on its child.", {"child"}, {child});
  m.request_timeouts = metrics::counter_of(
    r, "agentgraph_supervisor_request_timeouts_total",
    "Requests a supervisor forwarded that got no reply within request_timeout.", {"child"},
    {child});
  m.requests_in_flight = metrics::gauge_of(
    r, "agentgraph_supervisor_requests_in_flight",
    "Requests a supervisor forwarded to its child and still waits for (its bounded queue).",
    {"child"}, {child});
  return m;
}

}  // namespace agentgraph
