// The cluster's figures in /metrics, collected at scrape time from the node
// actor's last published status (cluster_figures): members by state, phi
// per peer, heartbeats, admissions, downs, dropped messages, incarnations.
#pragma once

#include <memory>

#include <caf/error.hpp>

#include "net/cluster/cluster_figures.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph {

[[nodiscard]] caf::error add_cluster_metrics(metrics::registry& reg,
                                             std::shared_ptr<const cluster::cluster_figures> figures);

}  // namespace agentgraph
