// The config keys of [tool.<name>] sections, each bound to the member of
// tool_config (tool_config.hpp) it fills: one table row per key
// (runtime/config/config_binding.hpp). node_schema()
// (actors/host/node_config.cpp) makes them the section's key list.
#pragma once

#include <vector>

#include "actors/tool/tool_config.hpp"
#include "runtime/config/config_binding.hpp"

namespace agentgraph {

[[nodiscard]] const std::vector<field<tool_config>>& tool_fields();

}  // namespace agentgraph
