// Configuration of one memory shard: [memory.<name>] sections.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace agentgraph {

enum class retention_policy : uint8_t { sliding_window, importance, hierarchical };
[[nodiscard]] const char* to_string(retention_policy p);

struct memory_config {
  std::string name;
  uint32_t max_entries = 1000;
  // "hash-<dim>" is the built-in offline embedder (feature hashing of word
  // unigrams and bigrams into <dim> dimensions, L2-normalised).
  std::string embedding_model = "hash-256";
  double similarity_threshold = 0.2;  // recall drops entries scored below this
  std::chrono::milliseconds cleanup_interval{60'000};
  retention_policy retention = retention_policy::sliding_window;
  // importance policy: importance is multiplied by 0.5 per half-life of age
  // since last access, and raised by access count.
  std::chrono::milliseconds importance_half_life{3'600'000};
  // hierarchical policy: per-kind limits; kinds not listed share max_entries.
  std::map<std::string, uint32_t> kind_limits;
  // Below this many entries recall is an exact scan; above, hnswlib.
  uint32_t exact_search_max = 2000;
  // Snapshot file (SQLite); empty: memory is not persisted.
  std::string snapshot_path;
  std::chrono::milliseconds snapshot_interval{30'000};
};

}  // namespace agentgraph
