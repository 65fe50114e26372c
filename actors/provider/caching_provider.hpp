// The LLM response cache, one per agent that opts in (`llm_cache = true`;
// off by default: most prompts never repeat, and a cached answer to a
// temperature > 0 request is one sample frozen). It sits in front of the
// agent's provider (or fallback chain) as a provider_actor and answers an
// exactly repeated request (llm_cache_codec.hpp: same model, messages,
// tools, temperature, max_tokens) from the multi-level cache: L1 in this
// actor, L2 per process, L3 Redis per cluster (runtime/cache/).
//
// A hit costs no tokens: its usage is reported as zero, so the agent's
// token figures stay true. A streamed hit sends the whole answer as one
// chunk, then replies. Errors are never cached. Embeddings, cancel and
// stats go to the inner provider.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/provider/provider_interface.hpp"
#include "runtime/supervised_ref.hpp"
#include "runtime/cache/cache_message.hpp"
#include "runtime/cache/multi_level_cache.hpp"
#include "runtime/call_watch.hpp"

namespace agentgraph {

using caching_provider_actor =
  provider_actor::extend<caf::reacts_to<cache_l3_atom, uint64_t, cache::l3_reply>>;

struct llm_cache_config {
  std::string name;  // for logs: "agent.<name>"
  uint32_t entries_max = 256;
  std::chrono::milliseconds ttl{3'600'000};
  std::chrono::milliseconds inner_timeout{60'000};
  cache::cache_tiers tiers;
};

// Calls on the inner provider at once. The cache serves one agent, whose
// tasks_in_flight_max (at most 1024) bounds its model calls; past this a
// call is answered `overloaded`.
constexpr size_t llm_cache_inner_calls_max = 1024;

struct caching_provider_state {
  static inline const char* name = "caching_provider";
  llm_cache_config cfg;
  dep<provider_actor> inner;  // .get(): its current incarnation
  std::optional<cache::multi_level_cache> cache;
  // Calls on the inner provider: inner_timeout as their deadline and a
  // monitor on it (a provider that dies fails its calls at once).
  call_watch watch{llm_cache_inner_calls_max};
  struct pending_call {
    chat_request req;
    stream_sink_actor sink;
    std::string key;
    caf::typed_response_promise<chat_response> rp;
  };
  // L3 lookups in flight; bounded by the Redis queue (a full one is a miss).
  std::unordered_map<uint64_t, pending_call> pending;
  uint64_t next_tag = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
};

caching_provider_actor::behavior_type
caching_provider(caching_provider_actor::stateful_pointer<caching_provider_state> self,
                 llm_cache_config cfg, dep<provider_actor> inner);

// Errors: invalid_argument (no inner provider, entries_max 0, ttl <= 0).
[[nodiscard]] caf::expected<provider_actor>
spawn_caching_provider(caf::actor_system& sys, llm_cache_config cfg, dep<provider_actor> inner);

}  // namespace agentgraph
