// The one place that registers every message type for remote use. Every
// actor system agentgraph creates (Runtime, node, tests) calls this; two
// processes that register the same names can exchange every message.
#pragma once

#include <caf/actor_system_config.hpp>

namespace agentgraph {

void register_all_types(caf::actor_system_config& cfg);

}  // namespace agentgraph
