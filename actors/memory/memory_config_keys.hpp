// The config keys of [memory.<name>] sections, each bound to the member of
// memory_config (memory_config.hpp) it fills: one table row per key
// (runtime/config/config_binding.hpp). node_schema()
// (actors/host/node_config.cpp) makes them the section's key list.
#pragma once

#include <vector>

#include "actors/memory/memory_config.hpp"
#include "runtime/config/config_binding.hpp"

namespace agentgraph {

[[nodiscard]] const std::vector<field<memory_config>>& memory_fields();

// Bindings of the enum members; bind() finds them by argument-dependent lookup.
void assign(retention_policy& f, const config_value& v);
void assign(memory_durability& f, const config_value& v);
void assign(embedding_model_change& f, const config_value& v);

}  // namespace agentgraph
