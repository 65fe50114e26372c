// A tool actor that wraps another and remembers its results, for tools whose
// spec says deterministic. The key is the tool name plus the canonical JSON
// of the arguments (Value::to_json sorts keys, so {"a":1,"b":2} and
// {"b":2,"a":1} share an entry). Entries expire after a TTL and the least
// recently used one is dropped at entries_max. Errors are never cached: a
// failure may be transient, and a cached one would outlive its cause.
//
// The wrapper is the L1 of the multi-level cache (runtime/cache/): with
// `tiers` set, a miss in its own map falls through to the process's L2 and
// the cluster's Redis L3 (asynchronously: the actor never blocks on Redis)
// before the inner tool runs, and a result is written through every level,
// so another tool actor (or node) with the same tool gets it as a hit.
// Values are the output Value as msgpack; keys live under "tool:".
//
// The wrapper links itself to the inner tool: they live and die together,
// so a supervisor restarting one gets a fresh pair.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/tool/tool_interface.hpp"
#include "actors/tool/tool_metrics.hpp"
#include "runtime/cache/multi_level_cache.hpp"

namespace agentgraph {

struct caching_tool_config {
  std::chrono::milliseconds ttl{300'000};
  uint32_t entries_max = 256;
  // Deadline of each request to the inner tool on a miss.
  std::chrono::milliseconds inner_timeout{10'000};
  // Injectable so tests expire entries without sleeping.
  std::function<std::chrono::steady_clock::time_point()> clock = [] {
    return std::chrono::steady_clock::now();
  };
  // Series for the cached tool, made with `cached` (tool_metrics.hpp): the
  // wrapper records every call, hits included; default: records nothing.
  tool_metrics metrics;
  // The shared levels behind this L1 (cache::make_cache_tiers); empty: L1 only.
  cache::cache_tiers tiers;
};

// The cache key for a call of `tool` with `args`.
[[nodiscard]] std::string tool_cache_key(const std::string& tool, const Value& args);

// Errors: invalid_argument when `spec` is not deterministic, entries_max is
// 0, ttl is not positive or `inner` is invalid. The spawned actor replies
// the inner tool's errors unchanged, and timeout when it does not answer
// within inner_timeout.
[[nodiscard]] caf::expected<tool_actor> spawn_caching_tool(caf::actor_system& sys,
                                                           tool_actor inner, tool_spec spec,
                                                           caching_tool_config cfg);

}  // namespace agentgraph
