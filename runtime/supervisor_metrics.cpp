#include "runtime/supervisor_metrics.hpp"

#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

supervisor_metrics make_supervisor_metrics(std::shared_ptr<metrics::registry> reg,
                                           const std::string& child, bool relaying) {
  supervisor_metrics m;
  auto* r = reg.get();
  m.keepalive = std::move(reg);
  auto count = [&](const char* name, const char* help) {
    return metrics::counter_of(r, name, help, {"child"}, {child});
  };
  m.restarts = count("agentgraph_supervisor_restarts_total",
                     "Restarts of a supervised child after a crash or a hang.");
  m.heartbeats_missed =
    count("agentgraph_supervisor_heartbeats_missed_total",
          "Heartbeat pings a supervised child left unanswered within the heartbeat interval.");
  m.escalations = count("agentgraph_supervisor_escalations_total",
                        "Times a supervisor spent its restart budget and gave up on its child.");
  if (!relaying)
    return m;
  m.request_timeouts =
    count("agentgraph_supervisor_request_timeouts_total",
          "Requests a supervisor forwarded that got no reply within request_timeout.");
  m.requests_in_flight = metrics::gauge_of(
    r, "agentgraph_supervisor_requests_in_flight",
    "Requests a supervisor forwarded to its child and still waits for (its bounded queue).",
    {"child"}, {child});
  return m;
}

}  // namespace agentgraph
