// L2 of the multi-level cache: one per process, shared by every actor that
// caches (tools, agents, workflow nodes), so a result one actor computed is
// a hit for the others.
//
// Thread-safe: the keys are spread over `shards` ttl_lru_caches, each behind
// its own mutex, so lookups from different scheduler threads rarely meet.
// A call holds one shard's mutex for one map operation and a copy of the
// value: no I/O, no callback, so it is fine on a scheduler thread.
//
// Bounds: entries_max and bytes_max (key + value bytes) over the whole
// cache, split evenly between the shards (so one hot shard evicts before
// the total is reached; the total is never exceeded); ttl_max caps every
// entry's lifetime. A value larger than a shard's byte share is refused.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/cache/cache_level.hpp"
#include "runtime/ttl_lru_cache.hpp"

namespace agentgraph::cache {

struct shared_cache_config {
  uint32_t entries_max = 4096;
  uint64_t bytes_max = 64ull << 20;
  std::chrono::milliseconds ttl_max{24 * 3'600'000};
  // At most this many shards; fewer when entries_max is small (each shard
  // must hold at least one entry).
  uint32_t shards_max = 16;
  std::function<std::chrono::steady_clock::time_point()> clock = [] {
    return std::chrono::steady_clock::now();
  };
};

struct shared_cache_stats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t expirations = 0;
  uint64_t entries = 0;
  uint64_t bytes = 0;
};

class shared_cache final : public cache_level {
 public:
  // Errors: invalid_argument when entries_max, bytes_max, ttl_max or
  // shards_max is zero, or there is no clock.
  [[nodiscard]] static caf::expected<std::shared_ptr<shared_cache>> make(shared_cache_config cfg);

  [[nodiscard]] std::optional<std::string> get(const std::string& key) override;
  bool put(const std::string& key, std::string value, duration ttl) override;
  [[nodiscard]] level_id level() const override { return level_id::l2; }

  // Sums over the shards (each locked in turn: a consistent figure per shard).
  [[nodiscard]] shared_cache_stats stats() const;
  [[nodiscard]] size_t shard_count() const { return shards_.size(); }

  explicit shared_cache(const shared_cache_config& cfg);  // use make()

 private:
  struct shard {
    mutable std::mutex mtx;
    ttl_lru_cache<std::string, std::string> map;  // GUARDED_BY(mtx)
    shard(size_t entries_max, size_t bytes_max, std::chrono::milliseconds ttl,
          std::function<std::chrono::steady_clock::time_point()> clock);
  };

  [[nodiscard]] shard& shard_of(const std::string& key);

  std::vector<std::unique_ptr<shard>> shards_;  // fixed after construction
};

}  // namespace agentgraph::cache
