#include "runtime/cache/shared_cache.hpp"

#include <algorithm>

#include "runtime/error.hpp"

namespace agentgraph::cache {

namespace shared_cache_detail {

size_t weigh(const std::string& key, const std::string& value) {
  return key.size() + value.size();
}

}  // namespace shared_cache_detail

shared_cache::shard::shard(size_t entries_max, size_t bytes_max, std::chrono::milliseconds ttl,
                           std::function<std::chrono::steady_clock::time_point()> clock)
  : map(entries_max, ttl, std::move(clock)) {
  map.limit_bytes(bytes_max, shared_cache_detail::weigh);
}

caf::expected<std::shared_ptr<shared_cache>> shared_cache::make(shared_cache_config cfg) {
  if (cfg.entries_max == 0 || cfg.bytes_max == 0 || cfg.shards_max == 0)
    return make_error(errc::invalid_argument,
                      "L2 cache: entries_max, bytes_max and shards_max must be at least 1");
  if (cfg.ttl_max <= std::chrono::milliseconds::zero() || !cfg.clock)
    return make_error(errc::invalid_argument, "L2 cache: ttl_max must be positive, with a clock");
  return std::make_shared<shared_cache>(cfg);
}

shared_cache::shared_cache(const shared_cache_config& cfg) {
  // Each shard gets an equal share of both bounds, rounded down, so the
  // totals hold; a shard holds at least one entry and one byte.
  const uint64_t n = std::min<uint64_t>(cfg.shards_max, cfg.entries_max);
  const uint64_t entries = cfg.entries_max / n;
  const uint64_t bytes = std::max<uint64_t>(cfg.bytes_max / n, 1);
  shards_.reserve(n);
  for (uint64_t i = 0; i < n; ++i)
    shards_.push_back(std::make_unique<shard>(entries, bytes, cfg.ttl_max, cfg.clock));
}

shared_cache::shard& shared_cache::shard_of(const std::string& key) {
  return *shards_[std::hash<std::string>{}(key) % shards_.size()];
}

std::optional<std::string> shared_cache::get(const std::string& key) {
  auto& s = shard_of(key);
  std::lock_guard<std::mutex> guard{s.mtx};
  return s.map.get(key);
}

bool shared_cache::put(const std::string& key, std::string value, duration ttl) {
  auto& s = shard_of(key);
  std::lock_guard<std::mutex> guard{s.mtx};
  return s.map.put(key, std::move(value), ttl);
}

shared_cache_stats shared_cache::stats() const {
  shared_cache_stats out;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> guard{s->mtx};
    const auto& c = s->map.counters();
    out.hits += c.hits;
    out.misses += c.misses;
    out.evictions += c.evictions;
    out.expirations += c.expirations;
    out.entries += s->map.size();
    out.bytes += s->map.bytes();
  }
  return out;
}

}  // namespace agentgraph::cache
