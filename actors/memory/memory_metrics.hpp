// What a memory shard records, labelled with its name (`shard`):
//
//   agentgraph_memory_entries{shard}                    gauge: entries held now
//   agentgraph_memory_bytes{shard}                      gauge: heap bytes of those entries and
//                                                       their index (memory_store::bytes)
//   agentgraph_memory_stores_total{shard,outcome}       stores, by outcome (ok or errc name)
//   agentgraph_memory_recalls_total{shard,outcome}      recalls, by outcome
//   agentgraph_memory_snapshot_failures_total{shard}    snapshots the writer failed to save
// and with a provider's embedding model (memory_shard_embed.hpp):
//   agentgraph_memory_embeddings_total{shard,outcome}   embedding requests to the provider
//   agentgraph_memory_embedding_seconds{shard}          histogram: request -> vector
//   agentgraph_memory_embedding_cache_hits_total{shard} texts whose vector came from the cache
//   agentgraph_memory_recalls_degraded_total{shard}     recalls answered by keywords only (the
//                                                       provider gave no query vector)
//   agentgraph_memory_vectors_pending{shard}            gauge: entries held without a vector
// and in commit durability:
//   agentgraph_memory_commits_total{shard}              batches committed (one fsync each)
//   agentgraph_memory_commit_failures_total{shard}      batches that failed (their stores
//                                                       were answered with the error)
//   agentgraph_memory_commit_batch_changes{shard}       histogram: changed entries per batch
//   agentgraph_memory_commit_seconds{shard}             histogram: batch handed to the writer
//                                                       -> committed (the fsync dominates)
//
// The gauges are refreshed after every change to the entries (store,
// retention, restore at start), not on recall. memory_store::bytes is O(1)
// (running totals), so the gauge adds nothing that grows with the shard.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/metrics/outcome_counters.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph {

struct memory_metrics {
  metrics::outcome_counters stores;  // holds the registry alive
  metrics::outcome_counters recalls;
  metrics::gauge* entries = nullptr;
  metrics::gauge* bytes = nullptr;
  metrics::counter* snapshot_failures = nullptr;
  metrics::outcome_counters embeddings;
  metrics::histogram* embedding_seconds = nullptr;
  metrics::counter* embedding_cache_hits = nullptr;
  metrics::counter* recalls_degraded = nullptr;
  metrics::gauge* vectors_pending = nullptr;
  metrics::counter* commits = nullptr;
  metrics::counter* commit_failures = nullptr;
  metrics::histogram* commit_batch_changes = nullptr;
  metrics::histogram* commit_seconds = nullptr;
};

// Bucket bounds of agentgraph_memory_commit_batch_changes: powers of 4 up
// to memory_commit_batch_max_limit's order of magnitude.
[[nodiscard]] std::vector<double> commit_batch_buckets();

// All series null (nothing recorded) when `reg` is null.
[[nodiscard]] memory_metrics make_memory_metrics(std::shared_ptr<metrics::registry> reg,
                                                 const std::string& shard);

}  // namespace agentgraph
