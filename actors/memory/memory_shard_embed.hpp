// The memory shard with a provider's embedding model (embedding_model =
// "<provider>:<model>"), called from the shard's handlers in
// memory_shard.cpp. Private to the shard: nothing else includes this.
//
// A store or a recall never blocks on its vector:
//
//   text ──► cache: L1 (the shard) → L2 (the process) → L3 (Redis, async)
//              │ hit: the vector                  │ miss
//              ▼                                  ▼
//            store / recall  ◄── vector ──  provider actor (its batching
//                                ▲          window joins the shard's
//                                │          requests into one call)
//                        failure: a store retries after a backoff,
//                        embedding_attempts in all, then fails; a recall
//                        answers at once by keywords (degraded, counted)
//
// Every vector passes memory_store::accept_vector (its dimension fixed by
// the first) before the cache or the index sees it, so one index never
// holds vectors of two shapes. Entries held without a vector (loaded from
// the file, copied from a replica, or of a changed model) are embedded in
// the background, reembed_inflight at a time; recall matches them by
// keywords until then.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <caf/make_message.hpp>  // caf/result.hpp uses it without including it (CAF 0.17)
#include <caf/result.hpp>

#include "actors/memory/memory_shard.hpp"

namespace agentgraph::memory_shard_detail {
// Stores with the given vector (empty: as memory_store::store says) and
// delivers the id: after its commit in commit durability, else at once.
void store_now(memory_shard_pointer self, memory_entry e, bool placed, std::vector<float> vector,
               caf::typed_response_promise<uint64_t> rp);
// The bookkeeping of a recall's outcome (access fields changed, metrics).
caf::expected<std::vector<memory_hit>> finish_recall(memory_shard_pointer self,
                                                     caf::expected<std::vector<memory_hit>> hits);
}  // namespace agentgraph::memory_shard_detail

namespace agentgraph::memory_embed_detail {

using shard_pointer = memory_shard_pointer;
// The recall to run once the query's vector is known (null: none, degraded).
using recall_fn = std::function<caf::expected<std::vector<memory_hit>>(
  memory_store&, int64_t now_ms, const std::vector<float>* query_vector)>;

// Engages st.embed: the provider, the model and the cache (L1 of
// embedding_cache_entries over deps.tiers).
void start(shard_pointer self, memory_embed_deps deps);

// store_atom / replica_store_atom: checks the entry, embeds its text, then
// stores. Errors at once: invalid_argument, overloaded
// (embedding_waiting_max); later: the provider's last error after
// embedding_attempts tries, and the store's own.
caf::result<uint64_t> on_store(shard_pointer self, memory_entry& e, bool placed);

// recall_atom / recall_scoped_atom: embeds the query, then runs `run`.
// Errors at once: invalid_argument (k, query size), overloaded.
caf::result<std::vector<memory_hit>> on_recall(shard_pointer self, const std::string& query,
                                               uint32_t k, recall_fn run);

// A Redis lookup of the cache came back.
void on_l3(shard_pointer self, uint64_t tag, const cache::l3_reply& rep);
// A failed embedding's backoff is over: ask the provider again.
void on_retry(shard_pointer self, uint64_t tag);

// Starts background embeddings of entries held without a vector, up to
// reembed_inflight in flight. `tick` (the cleanup timer): resume after a
// failure paused them.
void pump(shard_pointer self, bool tick);

// Fills the embedding part of memory_stats.
void fill_stats(memory_shard_state& st, memory_stats& out);

}  // namespace agentgraph::memory_embed_detail
