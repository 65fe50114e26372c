// The config keys of the [cluster] section (design §5.6), each bound to the
// member of cluster_config (cluster_config.hpp) it fills: one table row per
// key (runtime/config/config_binding.hpp), defaults from the struct's
// initialisers. The schema's bounds are per key; what crosses keys (seeds
// against members_max, transport_timeout against transport_heartbeat) is
// validate() in node_actor.hpp, which the node config runs after binding
// (actors/host/node_config.cpp).
// The rules across the tls_* keys and the checks of their files are
// cluster_tls.hpp.
#pragma once

#include <vector>

#include "net/cluster/cluster_config.hpp"
#include "runtime/config/config_binding.hpp"

namespace agentgraph::cluster {

[[nodiscard]] const std::vector<field<cluster_config>>& cluster_fields();

}  // namespace agentgraph::cluster
