// The config keys of the [supervisor] section, each bound to the member of
// supervision_config (supervision_config.hpp) it fills: one table row per
// key (runtime/config/config_binding.hpp). node_schema()
// (actors/host/node_config.cpp) makes them the section's key list.
#pragma once

#include <vector>

#include "runtime/config/config_binding.hpp"
#include "runtime/supervision_config.hpp"

namespace agentgraph {

[[nodiscard]] const std::vector<field<supervision_config>>& supervisor_fields();

}  // namespace agentgraph
