#include "actors/provider/provider_metrics.hpp"

#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace provider_metrics_detail {

metrics::counter* provider_counter(metrics::registry* r, const char* name, const char* help,
                                   const std::string& provider) {
  return metrics::counter_of(r, name, help, {"provider"}, {provider});
}

metrics::gauge* provider_gauge(metrics::registry* r, const char* name, const char* help,
                               const std::string& provider) {
  return metrics::gauge_of(r, name, help, {"provider"}, {provider});
}

void add_http_series(provider_metrics& m, metrics::registry* r, const std::string& p) {
  m.attempts = provider_counter(r, "agentgraph_provider_attempts_total",
                                "HTTP requests a provider sent (first tries and retries).", p);
  m.retries = provider_counter(r, "agentgraph_provider_retries_total",
                               "HTTP attempts of a provider that were retries.", p);
  m.rate_limit_waits = provider_counter(r, "agentgraph_provider_rate_limit_waits_total",
                                        "Times a provider call waited for the rate limiter.", p);
  m.circuit_state = provider_gauge(
    r, "agentgraph_provider_circuit_state",
    "Circuit breaker state of a provider: 0 closed, 1 half_open, 2 open.", p);
  m.queue_in_flight = provider_gauge(
    r, "agentgraph_provider_queue_in_flight",
    "Provider calls holding an admission slot (bounded by in_flight_max).", p);
  m.queue_waiting = provider_gauge(r, "agentgraph_provider_queue_waiting",
                                   "Provider calls queued for an admission slot (waiting_max).", p);
}

}  // namespace provider_metrics_detail

provider_metrics make_provider_metrics(std::shared_ptr<metrics::registry> reg,
                                       const std::string& provider, bool http) {
  using namespace provider_metrics_detail;
  provider_metrics m;
  auto* r = reg.get();
  m.requests = metrics::make_answer_metrics(
    std::move(reg),
    {"agentgraph_provider_requests_total",
     "Provider calls answered, by outcome (ok or the error code).",
     "agentgraph_provider_request_duration_seconds",
     "Time from accepting a provider call to answering it, waits and retries included."},
    "provider", provider);
  m.tokens = metrics::make_token_counters(r, "agentgraph_provider_tokens_total",
                                          "Tokens in provider responses' usage, by direction.",
                                          "provider", provider);
  m.cost_usd = provider_gauge(r, "agentgraph_provider_cost_usd",
                              "USD a provider's priced responses cost since the process started.",
                              provider);
  if (http)
    add_http_series(m, r, provider);
  return m;
}

double circuit_state_value(breaker_state s) {
  switch (s) {
    case breaker_state::closed:
      return 0;
    case breaker_state::half_open:
      return 1;
    case breaker_state::open:
      return 2;
  }
  return 0;
}

}  // namespace agentgraph
