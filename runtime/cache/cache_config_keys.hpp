// The config keys of the [cache] section, each bound to the member of
// cache_settings (cache_config.hpp) it fills: one table row per key
// (runtime/config/config_binding.hpp). node_schema()
// (actors/host/node_config.cpp) makes them the section's key list.
#pragma once

#include <vector>

#include "runtime/cache/cache_config.hpp"
#include "runtime/config/config_binding.hpp"

namespace agentgraph {

[[nodiscard]] const std::vector<field<cache_settings>>& cache_fields();

}  // namespace agentgraph
