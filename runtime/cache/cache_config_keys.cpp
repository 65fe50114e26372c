#include "runtime/cache/cache_config_keys.hpp"

namespace agentgraph {

using namespace std::chrono_literals;

const std::vector<field<cache_settings>>& cache_fields() {
  static const auto fields = [] {
    using S = cache_settings;
    const S d;
    return std::vector<field<S>>{
        bind(uint_key("l2_entries_max", d.l2_entries_max, 0, 10'000'000,
                      "Entries of the L2 cache shared by every actor of this process (tool "
                      "results today); beyond it the least recently used go. 0: no L2."),
             &S::l2_entries_max),
        bind(uint_key("l2_bytes_max", d.l2_bytes_max, 1024, 64ull * 1024 * mib,
                      "Bytes (keys + values) the L2 cache holds at most; beyond it the least "
                      "recently used entries go."),
             &S::l2_bytes_max),
        bind(string_key("redis_url", d.redis_url,
                        "L3 cache shared by the cluster: redis://HOST:PORT[/DB]. Empty: no L3. "
                        "Redis down only makes lookups miss."),
             &S::redis_url),
        bind(duration_key("redis_timeout", d.redis_timeout, 1ms, 1min,
                          "Connect and command timeout of each Redis call (made on the cache's "
                          "own I/O thread); an L3 lookup waits about this long at most."),
             &S::redis_timeout),
        bind(string_key("redis_key_prefix", d.redis_key_prefix,
                        "Prepended to every Redis key, so deployments can share a server."),
             &S::redis_key_prefix),
        bind(duration_key("redis_ttl_max", d.redis_ttl_max, 1s, 30 * 24h,
                          "Longest lifetime of a Redis entry, whatever TTL its user asks for."),
             &S::redis_ttl_max),
        bind(uint_key("redis_value_bytes_max", d.redis_value_bytes_max, 1, 512 * mib,
                      "Larger values are not written to (nor read from) Redis."),
             &S::redis_value_bytes_max),
        bind(uint_key("redis_queue_max", d.redis_queue_max, 1, 1'000'000,
                      "Redis requests waiting for the cache's I/O thread; beyond it a lookup "
                      "is a miss and a write is dropped, at once."),
             &S::redis_queue_max),
        bind(uint_key("redis_breaker_failures", d.redis_breaker_failures, 1, 1000,
                      "Failed Redis calls in a row after which Redis is left alone for "
                      "redis_breaker_cooldown (every lookup a fast miss)."),
             &S::redis_breaker_failures),
        bind(duration_key("redis_breaker_cooldown", d.redis_breaker_cooldown, 1ms, 1h,
                          "How long Redis is left alone before one probe reconnects; doubles "
                          "per failed probe, up to 32 times this."),
             &S::redis_breaker_cooldown),
    };
  }();
  return fields;
}

}  // namespace agentgraph
