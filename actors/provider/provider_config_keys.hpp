// The config keys of [provider.<name>] sections, each bound to the member
// of provider_config (provider_config.hpp) it fills: one table row per key
// (runtime/config/config_binding.hpp). node_schema()
// (actors/host/node_config.cpp) makes them the section's key list.
#pragma once

#include <vector>

#include "actors/provider/provider_config.hpp"
#include "runtime/config/config_binding.hpp"

namespace agentgraph {

[[nodiscard]] const std::vector<field<provider_config>>& provider_fields();

// Bindings of the enum members; bind() finds them by argument-dependent lookup.
void assign(provider_kind& f, const config_value& v);
void assign(jitter_mode& f, const config_value& v);
void assign(replay_on_miss& f, const config_value& v);
void assign(replay_timing& f, const config_value& v);

}  // namespace agentgraph
