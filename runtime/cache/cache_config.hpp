// The [cache] section of a node config: the shared levels of the
// multi-level cache (L2 per process, L3 Redis per cluster). Each user's L1
// and TTL stay with the user (a tool's cache_entries_max and cache_ttl).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace agentgraph {

struct cache_settings {
  // L2, shared by every actor of the process. 0 entries: no L2.
  uint32_t l2_entries_max = 4096;
  uint64_t l2_bytes_max = 64ull << 20;  // keys + values
  // L3: redis://HOST:PORT[/DB]; empty: no L3.
  std::string redis_url;
  // Connect and command timeout of each Redis call (on the cache's own I/O
  // thread, never a scheduler thread); a lookup waits at most about this long.
  std::chrono::milliseconds redis_timeout{100};
  // Prepended to every Redis key, so several deployments can share a server.
  std::string redis_key_prefix = "agentgraph:";
  // Upper bound of the TTL of a Redis entry (PX), whatever the user asks for.
  std::chrono::milliseconds redis_ttl_max{3'600'000};
  // Values larger than this are not written to Redis.
  uint64_t redis_value_bytes_max = 1 << 20;
  // Redis requests waiting for the I/O thread; beyond it a lookup is a miss
  // and a put is dropped, at once.
  uint32_t redis_queue_max = 1024;
  // After redis_breaker_failures failed calls in a row, Redis is left alone
  // for redis_breaker_cooldown (doubling per failed probe, up to 32x), so a
  // dead server costs one fast miss per lookup, not one connect attempt.
  uint32_t redis_breaker_failures = 2;
  std::chrono::milliseconds redis_breaker_cooldown{1'000};
};

}  // namespace agentgraph
