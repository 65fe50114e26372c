// Registration of the cluster's message types with a CAF config; called by
// register_all_types (actors/host/register_types.hpp). Nodes must register
// identical names, or BASP cannot decode what they send each other.
#pragma once

#include <caf/actor_system_config.hpp>

namespace agentgraph::cluster {

void register_cluster_types(caf::actor_system_config& cfg);

}  // namespace agentgraph::cluster
