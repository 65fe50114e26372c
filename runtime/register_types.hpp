// Registration of runtime-level types (Value, checkpoint and task journal messages, our error category) with a CAF
// config. Every actor system the project creates calls
// agentgraph::register_all_types (actors/host/register_types.hpp), which calls
// this first; nodes must register identical names or connecting fails.
#pragma once

#include <caf/actor_system_config.hpp>

namespace agentgraph {

void register_runtime_types(caf::actor_system_config& cfg);

}  // namespace agentgraph
