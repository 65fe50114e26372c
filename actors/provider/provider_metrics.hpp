// What a provider records, labelled with its configured name (`provider`).
// Every kind records the request figures; the HTTP pipeline also records
// what only it has (attempts, retries, rate limiting, breaker, queue).
//
//   agentgraph_provider_requests_total{provider,outcome}    calls answered (chat, chat_stream,
//                                                           embed callers); outcome `ok` or the
//                                                           errc name (`cancelled` included)
//   agentgraph_provider_request_duration_seconds{provider}  histogram: accepted to answered,
//                                                           queueing, waits and retries included
//   agentgraph_provider_tokens_total{provider,direction}    direction `prompt` | `completion`,
//                                                           from each response's usage
//   agentgraph_provider_cost_usd{provider}                  gauge: USD spent since the process
//                                                           started, from the price table
//   agentgraph_provider_attempts_total{provider}            HTTP requests sent (first tries and
//                                                           retries)
//   agentgraph_provider_retries_total{provider}             attempts that were retries
//   agentgraph_provider_rate_limit_waits_total{provider}    times a call waited for the rate
//                                                           limiter
//   agentgraph_provider_circuit_state{provider}             gauge: 0 closed, 1 half_open, 2 open,
//                                                           as of the breaker's last decision
//   agentgraph_provider_queue_in_flight{provider}           gauge: calls holding an admission
//                                                           slot (bounded by in_flight_max)
//   agentgraph_provider_queue_waiting{provider}             gauge: calls queued for a slot
//                                                           (bounded by waiting_max)
//   agentgraph_provider_records_dropped_total{provider}     record mode only (recording_provider
//                                                           .hpp): calls not recorded because
//                                                           the writer's queue was full
//
// Cost is a gauge that only grows (gauge::add per priced response) because
// this registry's counters are integers and a cost is a fraction of a cent;
// micro-dollars in a counter would read badly on every dashboard. It lives
// in the registry, so it survives restarts of the provider actor; it resets
// only with the process, as a counter would.
#pragma once

#include <memory>
#include <string>

#include "runtime/metrics/answer_metrics.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/metrics/token_counters.hpp"
#include "runtime/resilience/circuit_breaker.hpp"

namespace agentgraph {

struct provider_metrics {
  // requests_total and request_duration_seconds; holds the registry alive.
  metrics::answer_metrics requests;
  metrics::token_counters tokens;
  metrics::gauge* cost_usd = nullptr;
  // HTTP kinds only (null for scripted, so it exports no series it cannot fill).
  metrics::counter* attempts = nullptr;
  metrics::counter* retries = nullptr;
  metrics::counter* rate_limit_waits = nullptr;
  metrics::gauge* circuit_state = nullptr;
  metrics::gauge* queue_in_flight = nullptr;
  metrics::gauge* queue_waiting = nullptr;
};

// All series null (nothing recorded) when `reg` is null. `http`: also the
// pipeline's series.
[[nodiscard]] provider_metrics make_provider_metrics(std::shared_ptr<metrics::registry> reg,
                                                     const std::string& provider, bool http);

// The value of agentgraph_provider_circuit_state for `s`.
[[nodiscard]] double circuit_state_value(breaker_state s);

}  // namespace agentgraph
