// The config keys of [agent.<name>] and [group.<name>] sections, each bound
// to the member of agent_config (agent_config.hpp) or group_config
// (agent_group.hpp) it fills: one table row per key
// (runtime/config/config_binding.hpp). node_schema()
// (actors/host/node_config.cpp) makes them the sections' key lists.
#pragma once

#include <vector>

#include "actors/agent/agent_config.hpp"
#include "actors/agent/agent_group.hpp"
#include "runtime/config/config_binding.hpp"

namespace agentgraph {

[[nodiscard]] const std::vector<field<agent_config>>& agent_fields();
[[nodiscard]] const std::vector<field<group_config>>& group_fields();

// Bindings of the enum members; bind() finds them by argument-dependent lookup.
void assign(agent_role& f, const config_value& v);
void assign(group_strategy& f, const config_value& v);

}  // namespace agentgraph
