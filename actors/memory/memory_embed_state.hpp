// What a memory shard with a provider's embedding model (embedding_model =
// "<provider>:<model>") keeps besides its store: the provider, the
// embedding cache, the texts waiting for their vector and the figures of
// memory_stats. Only the shard touches it; the flow is in
// memory_shard_embed.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "actors/provider/provider_interface.hpp"
#include "runtime/cache/multi_level_cache.hpp"
#include "runtime/supervised_ref.hpp"

namespace agentgraph {

// (memory_embed_retry_atom, tag): a failed embedding's backoff is over;
// tag 0 (tags start at 1): background embedding goes on with the next part.
using memory_embed_retry_atom = caf::atom_constant<caf::atom("ag_membrt")>;

// What the host hands a shard whose model is a provider's.
struct memory_embed_deps {
  dep<provider_actor> provider;  // the [provider.<name>] embedding_model names
  cache::cache_tiers tiers;      // the process's L2 and the [cache] Redis L3
  // What the provider is (its kind and endpoint), part of every cache key:
  // two [provider.local] sections on two nodes sharing Redis may serve the
  // same model name from different servers, whose vectors must not mix.
  std::string provider_identity;
};

// The first retry of a store's embedding waits this long, then twice as
// long each time (embedding_attempts bounds the tries).
constexpr std::chrono::milliseconds memory_embed_backoff_first{100};
// Embedding latencies kept for memory_stats' p50 and p99.
constexpr size_t memory_embed_latency_window = 256;
// A degraded recall or a failed background embedding warns at most this
// often per shard: the provider being down is one event, not one per call.
constexpr int64_t memory_embed_warn_interval_ms = 60'000;

// Where a waiting text is: messages that do not fit the stage (a late or
// forged cache reply or retry tick) are ignored.
enum class memory_embed_stage : uint8_t { cache, provider, backoff };

// One text waiting for its vector.
struct memory_embed_wait {
  std::string text;
  std::string key;                // in the embedding cache
  bool background = false;        // an entry held without a vector, not a caller
  memory_embed_stage stage = memory_embed_stage::cache;
  uint32_t attempts_left = 1;     // provider requests still allowed
  // A store's one extra try after an error retrying cannot fix: the
  // provider's batching window may have joined it with the text the vendor
  // refused, and that text will not be in the next batch.
  bool second_chance = false;
  std::chrono::milliseconds backoff = memory_embed_backoff_first;
  // embedding_timeout after the wait began: every try and backoff fits in it.
  std::chrono::steady_clock::time_point deadline;
  // Runs once, with the accepted vector (memory_store::accept_vector) or the
  // last error.
  std::function<void(caf::expected<std::vector<float>>)> done;
};

struct memory_embed_state {
  dep<provider_actor> provider;
  std::string provider_name;
  std::string key_prefix;   // of every cache key: identity digest, model, dimensions
  std::string model;        // as the provider is asked for it
  uint32_t dimensions = 0;  // embedding_dimensions (0: the model's own)
  std::optional<cache::multi_level_cache> cache;
  // Waiting texts by tag: foreground (stores and recalls, bounded by
  // embedding_waiting_max) and background (bounded by reembed_inflight).
  std::unordered_map<uint64_t, memory_embed_wait> waits;
  uint64_t next_tag = 1;
  size_t foreground = 0;
  size_t background = 0;
  // Entries whose background embedding is in flight, and where the next
  // pass over memory_store::unembedded() goes on (ids wrap around).
  std::set<uint64_t> reembedding;
  // Entries whose background embedding failed for a reason of the texts
  // (not the provider being down or busy), in a batch: each is tried alone
  // next (solo), one at a time; one that fails alone too is refused until
  // the next cleanup tick tries it alone again (it stays without a vector,
  // recalled by keywords; memory_stats::vectors_refused). Both hold
  // pending ids only (pruned on every tick), so they are bounded by the
  // entries.
  std::set<uint64_t> solo;
  std::set<uint64_t> refused;
  uint64_t reembed_cursor = 0;
  // A background embedding failed: the next cleanup tick resumes, so a
  // provider that is down costs one failure per tick, not a loop.
  bool reembed_paused = false;
  bool pumping = false;  // inside pump(): a nested call returns at once
  // Entries without a vector when the current pass began, for progress.
  uint64_t reembed_total = 0;
  uint64_t reembed_logged_step = 0;  // tenths of reembed_total logged so far
  // Figures of memory_stats.
  uint64_t cache_hits = 0;
  uint64_t embed_calls = 0;
  uint64_t embed_failures = 0;
  uint64_t recalls_degraded = 0;
  uint64_t reembedded = 0;
  std::vector<double> latencies_ms;  // ring of memory_embed_latency_window
  size_t latency_next = 0;
  int64_t last_warn_ms = 0;
};

}  // namespace agentgraph
