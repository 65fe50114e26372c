// The pieces every level of the multi-level cache shares (multi_level_cache.hpp):
// who uses it (the key namespace), which level answered, and the interface
// of a synchronous level (L1, L2). L3 (Redis) is asynchronous and has its
// own class (redis_cache.hpp).
//
// Keys are strings, namespaced by user ("tool:", "llm:", "node:") so the
// three users can share one L2 and one Redis without colliding. Values are
// bytes: a user that caches a `Value` stores Value::to_msgpack() and reads
// it back with Value::from_msgpack() (compact, and the decoder is bounded
// and hardened).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace agentgraph::cache {

// Who caches: each has its own key namespace and its own metric label.
enum class cache_user : uint8_t {
  tool,  // deterministic tool results (actors/tool/caching_tool)
  llm,   // LLM responses, exact match on the canonical request (opt-in per agent)
  node,  // deterministic workflow nodes, keyed by the node's inputs
  embedding,  // a provider model's vector of a text (actors/memory/memory_shard_embed)
};

enum class level_id : uint8_t { l1, l2, l3 };

[[nodiscard]] const char* to_string(cache_user u);
[[nodiscard]] const char* to_string(level_id l);

// "tool:" + key, and so on.
[[nodiscard]] std::string namespaced_key(cache_user u, std::string_view key);

// One synchronous level: an in-memory map bounded in entries (and bytes,
// for L2) whose entries expire. Implementations say whether they are
// thread-safe.
class cache_level {
 public:
  using duration = std::chrono::milliseconds;

  virtual ~cache_level() = default;

  // The value of a live entry, or nothing (absent or expired).
  [[nodiscard]] virtual std::optional<std::string> get(const std::string& key) = 0;

  // Stores `value` for `ttl` (capped at the level's own TTL bound). Returns
  // false when the level refused it (larger than the level can ever hold,
  // or ttl not positive); a refusal is not an error for the caller.
  virtual bool put(const std::string& key, std::string value, duration ttl) = 0;

  [[nodiscard]] virtual level_id level() const = 0;
};

}  // namespace agentgraph::cache
