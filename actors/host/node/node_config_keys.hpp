// The config keys of the [node] section (the HTTP gateway of `agentgraph
// node` and its shutdown), each bound to the member of node_settings
// (node_settings.hpp) it fills: one table row per key
// (runtime/config/config_binding.hpp). node_schema()
// (actors/host/node_config.cpp) makes them the section's key list.
#pragma once

#include <vector>

#include "actors/host/node/node_settings.hpp"
#include "runtime/config/config_binding.hpp"

namespace agentgraph {

[[nodiscard]] const std::vector<field<node_settings>>& node_fields();

}  // namespace agentgraph
