// L1 of the multi-level cache: the per-actor ttl_lru_cache behind the
// cache_level interface. Bounded by entries_max; entries live at most `ttl`.
//
// Not thread-safe: owned by one actor (its state), like ttl_lru_cache.
#pragma once

#include <optional>
#include <string>

#include "runtime/cache/cache_level.hpp"
#include "runtime/ttl_lru_cache.hpp"

namespace agentgraph::cache {

class local_cache final : public cache_level {
 public:
  using lru = ttl_lru_cache<std::string, std::string>;

  // entries_max >= 1 and ttl > 0 (asserted by ttl_lru_cache).
  local_cache(size_t entries_max, duration ttl, lru::clock_fn clock)
    : map_(entries_max, ttl, std::move(clock)) {}

  [[nodiscard]] std::optional<std::string> get(const std::string& key) override {
    return map_.get(key);
  }
  bool put(const std::string& key, std::string value, duration ttl) override {
    return map_.put(key, std::move(value), ttl);
  }
  [[nodiscard]] level_id level() const override { return level_id::l1; }

  [[nodiscard]] lru& map() { return map_; }

 private:
  lru map_;
};

}  // namespace agentgraph::cache
