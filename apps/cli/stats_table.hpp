// Fixed-width tables for the CLI: per-agent stats, per-shard memory and
// per-population figures.
#pragma once

#include <string>
#include <vector>

#include "actors/agent/agent_interface.hpp"
#include "actors/memory/memory_interface.hpp"
#include "actors/population/population_interface.hpp"
#include "actors/provider/provider_stats.hpp"

namespace agentgraph::cli {

// One agent as a node's gateway reports it (GET /v1/agents).
struct agent_figures_row {
  std::string name;
  std::string status;
  bool healthy = false;
  uint64_t tasks_completed = 0;
  uint64_t errors = 0;
  uint64_t tasks_in_flight = 0;
  double requests_per_second = 0;
  double avg_response_ms = 0;
  double tokens_per_second = 0;
  double error_rate = 0;
  uint64_t memory_bytes = 0;
};
// One component of `profile memory`: entries are history turns (agents) or
// stored entries (memory shards).
struct memory_profile_row {
  std::string kind;
  std::string name;
  uint64_t entries = 0;
  uint64_t bytes = 0;
};
[[nodiscard]] std::string format_memory_profile_table(const std::vector<memory_profile_row>& rows);
[[nodiscard]] std::string format_agent_figures_table(const std::vector<agent_figures_row>& rows);
// One population as a node's gateway reports it (GET /v1/populations);
// `healthy` false when it did not answer (its figures are then zero).
struct population_figures_row {
  population_stats stats;
  bool healthy = false;
};
[[nodiscard]] std::string format_population_table(const std::vector<population_figures_row>& rows);

[[nodiscard]] std::string format_agent_table(const std::vector<agent_stats>& rows);
[[nodiscard]] std::string format_memory_table(const std::vector<memory_stats>& rows);
// The shards' embeddings: model, dimension, vectors waiting and cached,
// cache hits, provider calls, failures, latency and degraded recalls.
[[nodiscard]] std::string format_embedding_table(const std::vector<memory_stats>& rows);
[[nodiscard]] std::string format_provider_table(const std::vector<provider_stats>& rows);

}  // namespace agentgraph::cli
