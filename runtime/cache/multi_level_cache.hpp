// The multi-level cache: L1 per actor → L2 per process → L3 Redis per
// cluster, for three users (cache_user: tool results, LLM responses,
// workflow nodes). A lookup falls through the levels and fills the upper
// ones on a hit; a put writes through every level. Every level is bounded
// (L1 entries, L2 entries and bytes, L3 value size, TTL cap and request
// queue) and Redis down only makes lookups miss.
//
// One object per actor, in its state (it owns the L1): not thread-safe.
// The shared levels come in a cache_tiers, made once per process
// (make_cache_tiers) and handed to every actor that caches.
//
// Use from an actor, without blocking (actors/tool/caching_tool.cpp is the
// complete example):
//
//   auto r = st.cache->lookup(key, [me = caf::actor_cast<caf::actor>(self), tag](
//                                     cache::l3_reply rep) {
//     caf::anon_send(me, cache_l3_atom::value, tag, std::move(rep));  // I/O thread
//   });
//   switch (r.state) {
//     case cache::found::hit:     answer from r.value                  (L1 or L2)
//     case cache::found::miss:    compute, then st.cache->put(key, bytes)
//     case cache::found::pending: remember (tag → key, caller); return
//   }
//   // handler (cache_l3_atom, uint64_t tag, cache::l3_reply rep):
//   if (auto v = st.cache->complete(key, rep)) answer from *v  else compute and put
//
// An L3 lookup waits at most about redis_timeout (plus the queue ahead of
// it, itself bounded). Wiring for the other users: an LLM response cache
// keys on the canonical request (model, messages, tools, temperature...
// as canonical JSON) with cache_user::llm; a workflow node keys on the
// node id plus its inputs' canonical JSON with cache_user::node.
//
// Metrics (when the tiers carry a registry), with user = tool | llm | node | embedding:
//   agentgraph_cache_requests_total{user,level,outcome}  lookups per level:
//       outcome hit | miss at every level; at l3 also error (Redis failed
//       or timed out) and rejected (queue full, breaker open)
//   agentgraph_cache_fills_total{user,level}  upward fills after a hit below
//   agentgraph_cache_puts_total{user,level,outcome}  write-through: ok |
//       refused (too large for the level) | dropped (l3 only: queue full,
//       value above redis_value_bytes_max, or Redis failed)
// redis_cache.hpp adds the Redis connection, queue and breaker series.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "runtime/cache/cache_config.hpp"
#include "runtime/cache/cache_level.hpp"
#include "runtime/cache/local_cache.hpp"
#include "runtime/cache/redis_cache.hpp"
#include "runtime/cache/shared_cache.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph::cache {

// The process-wide levels. Any may be null: no L2, no L3. Copy freely.
struct cache_tiers {
  std::shared_ptr<shared_cache> l2;
  std::shared_ptr<redis_cache> l3;
  std::shared_ptr<metrics::registry> metrics;  // null: record nothing
};

// Builds the tiers a [cache] section declares: an L2 unless l2_entries_max
// is 0, an L3 when redis_url is set (it connects lazily: Redis may be down
// at start). Errors: invalid_argument from shared_cache::make or
// redis_cache::make.
[[nodiscard]] caf::expected<cache_tiers> make_cache_tiers(const cache_settings& cfg,
                                                          std::shared_ptr<metrics::registry> reg);

enum class found : uint8_t { hit, miss, pending };

struct lookup_result {
  found state = found::miss;
  std::string value;              // hit only
  level_id level = level_id::l1;  // hit only: where it was found
};

struct multi_level_cache_config {
  cache_user user = cache_user::tool;
  uint32_t l1_entries_max = 256;
  // TTL of the entries this user writes (every level; L3 caps it at
  // redis_ttl_max, L2 at its ttl_max).
  std::chrono::milliseconds ttl{300'000};
  std::function<std::chrono::steady_clock::time_point()> clock = [] {
    return std::chrono::steady_clock::now();
  };
  cache_tiers tiers;
};

class multi_level_cache {
 public:
  using l3_callback = std::function<void(l3_reply)>;

  // Errors: invalid_argument when l1_entries_max is 0, ttl not positive or
  // there is no clock.
  [[nodiscard]] static caf::expected<multi_level_cache> make(multi_level_cache_config cfg);

  // L1, then L2 (a hit fills L1), then L3: `pending` when the L3 request
  // was queued; `on_l3` then runs once, on the Redis I/O thread, and must
  // only hand the reply to the owner (anon_send). `key` is the user's key,
  // without namespace.
  [[nodiscard]] lookup_result lookup(const std::string& key, l3_callback on_l3);

  // The owner's half of a pending lookup, on the owner's thread: counts the
  // L3 outcome and on a hit fills L2 and L1 (with the TTL the entry had
  // left in Redis) and returns the value.
  [[nodiscard]] std::optional<std::string> complete(const std::string& key, const l3_reply& rep);

  // Writes through L1, L2 and (asynchronously, fire and forget) L3.
  void put(const std::string& key, const std::string& value);

  [[nodiscard]] local_cache& l1() { return *l1_; }
  [[nodiscard]] const cache_tiers& tiers() const { return cfg_.tiers; }
  [[nodiscard]] bool has_l3() const { return cfg_.tiers.l3 != nullptr; }

 private:
  // outcome slots of agentgraph_cache_requests_total per level
  enum outcome_slot : uint8_t { slot_hit, slot_miss, slot_error, slot_rejected, slot_count };
  enum put_slot : uint8_t { put_ok, put_refused, put_dropped, put_count };
  struct series {
    metrics::counter* requests[3][slot_count] = {};
    metrics::counter* fills[3] = {};
    metrics::counter* puts[3][put_count] = {};
  };

  explicit multi_level_cache(multi_level_cache_config cfg);
  void resolve_series();
  void fill_l1(const std::string& nkey, const std::string& value, std::chrono::milliseconds ttl);
  void count(level_id level, outcome_slot slot);
  void count_put(level_id level, put_slot slot);

  multi_level_cache_config cfg_;
  std::unique_ptr<local_cache> l1_;  // bounded by l1_entries_max
  series series_;                    // null series: record nothing
};

}  // namespace agentgraph::cache
