// Fixed-width tables for the CLI: per-agent stats and per-shard memory.
#pragma once

#include <string>
#include <vector>

#include "actors/agent/agent_interface.hpp"
#include "actors/memory/memory_interface.hpp"
#include "actors/provider/provider_stats.hpp"

namespace agentgraph::cli {

[[nodiscard]] std::string format_agent_table(const std::vector<agent_stats>& rows);
[[nodiscard]] std::string format_memory_table(const std::vector<memory_stats>& rows);
[[nodiscard]] std::string format_provider_table(const std::vector<provider_stats>& rows);

}  // namespace agentgraph::cli
