// What a population records, labelled with its type (`population`):
//
//   agentgraph_population_active{population}            gauge: keys with a live instance
//   agentgraph_population_saved_keys{population}        gauge: keys with a saved state
//   agentgraph_population_passivated{population}        gauge: of those, keys not active
//                                                       here (both per node: the store's
//                                                       count at start plus this node's
//                                                       first saves)
//   agentgraph_population_waiting{population}           gauge: tasks waiting for their key's
//                                                       activation or passivation
//   agentgraph_population_activations_total{population}
//   agentgraph_population_passivations_total{population,reason}
//                                                       reason idle | evicted | request |
//                                                       shutdown
//   agentgraph_population_activation_seconds{population}
//                                                       histogram: first task of a passive
//                                                       key -> its instance running (the
//                                                       store's claim dominates)
//   agentgraph_population_fenced_total{population}      saves refused: another node
//                                                       claimed the key
//   agentgraph_population_store_errors_total{population}
//                                                       claims and saves the store failed
//   agentgraph_population_state_bytes{population}       gauge: bytes of the active keys'
//                                                       last saved states
//
// The tasks of every instance count as the agent metrics of one agent
// named after the population (agent_metrics.hpp, label agent="<type>"):
// a million keys must not make a million series, and a node's load
// (agent_tasks_in_flight_total) includes the population's tasks.
#pragma once

#include <memory>
#include <string>

#include "actors/agent/agent_metrics.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph {

struct population_metrics {
  agent_metrics tasks;  // holds the registry alive
  metrics::gauge* active = nullptr;
  metrics::gauge* saved_keys = nullptr;
  metrics::gauge* passivated = nullptr;
  metrics::gauge* waiting = nullptr;
  metrics::gauge* state_bytes = nullptr;
  metrics::counter* activations = nullptr;
  metrics::counter* passivated_idle = nullptr;
  metrics::counter* passivated_evicted = nullptr;
  metrics::counter* passivated_request = nullptr;
  metrics::counter* passivated_shutdown = nullptr;
  metrics::histogram* activation_seconds = nullptr;
  metrics::counter* fenced = nullptr;
  metrics::counter* store_errors = nullptr;
};

// All series null (nothing recorded) when `reg` is null.
[[nodiscard]] population_metrics make_population_metrics(std::shared_ptr<metrics::registry> reg,
                                                         const std::string& population);

}  // namespace agentgraph
