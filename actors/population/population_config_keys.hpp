// The config keys of [population.<type>] sections, each bound to the member
// of population_config (population_config.hpp) it fills: every key of an
// agent (bound to the template, population_config::agent) except
// `subscribe`, plus the population's own. node_schema()
// (actors/host/node_config.cpp) makes them the section's key list.
#pragma once

#include <vector>

#include "actors/population/population_config.hpp"
#include "runtime/config/config_binding.hpp"

namespace agentgraph {

[[nodiscard]] const std::vector<field<population_config>>& population_fields();

void assign(population_durability& f, const config_value& v);

}  // namespace agentgraph
