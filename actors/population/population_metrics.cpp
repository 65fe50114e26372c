#include "actors/population/population_metrics.hpp"

#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

population_metrics make_population_metrics(std::shared_ptr<metrics::registry> reg,
                                           const std::string& population) {
  population_metrics m;
  auto* r = reg.get();
  m.tasks = make_agent_metrics(std::move(reg), population);
  const std::vector<std::string> label{"population"};
  const std::vector<std::string> value{population};
  m.active = metrics::gauge_of(r, "agentgraph_population_active",
                               "Keys of a population with a live agent instance.", label, value);
  m.saved_keys = metrics::gauge_of(r, "agentgraph_population_saved_keys",
                                   "Keys of a population with a saved state.", label, value);
  m.passivated = metrics::gauge_of(
    r, "agentgraph_population_passivated",
    "Keys of a population with a saved state and no live instance on this node.", label, value);
  m.waiting = metrics::gauge_of(r, "agentgraph_population_waiting",
                                "Tasks waiting for their key's activation or passivation.",
                                label, value);
  m.state_bytes = metrics::gauge_of(r, "agentgraph_population_state_bytes",
                                    "Bytes of the active keys' last saved states.", label, value);
  m.activations = metrics::counter_of(r, "agentgraph_population_activations_total",
                                      "Keys activated (instance started from the saved state).",
                                      label, value);
  const std::vector<std::string> reason_labels{"population", "reason"};
  auto passivated = [&](const char* reason) {
    return metrics::counter_of(r, "agentgraph_population_passivations_total",
                               "Keys passivated (state saved, instance stopped), by reason.",
                               reason_labels, {population, reason});
  };
  m.passivated_idle = passivated("idle");
  m.passivated_evicted = passivated("evicted");
  m.passivated_request = passivated("request");
  m.passivated_shutdown = passivated("shutdown");
  m.activation_seconds = metrics::latency_histogram_of(
    r, "agentgraph_population_activation_seconds",
    "First task of a passive key to its instance running.", label, value);
  m.fenced = metrics::counter_of(r, "agentgraph_population_fenced_total",
                                 "Saves refused because another node claimed the key.", label,
                                 value);
  m.store_errors = metrics::counter_of(r, "agentgraph_population_store_errors_total",
                                       "Claims and saves the population store failed.", label,
                                       value);
  return m;
}

}  // namespace agentgraph
