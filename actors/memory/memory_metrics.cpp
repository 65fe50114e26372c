#include "actors/memory/memory_metrics.hpp"

#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

memory_metrics make_memory_metrics(std::shared_ptr<metrics::registry> reg,
                                   const std::string& shard) {
  memory_metrics m;
  auto* r = reg.get();
  m.stores = metrics::make_outcome_counters(
    reg, "agentgraph_memory_stores_total", "Memory stores, by outcome (ok or the error code).",
    "shard", shard);
  m.embeddings = metrics::make_outcome_counters(
    reg, "agentgraph_memory_embeddings_total",
    "Embedding requests of a memory shard to its provider, by outcome.", "shard", shard);
  m.recalls = metrics::make_outcome_counters(
    std::move(reg), "agentgraph_memory_recalls_total",
    "Memory recalls, by outcome (ok or the error code).", "shard", shard);
  m.entries = metrics::gauge_of(r, "agentgraph_memory_entries", "Entries a memory shard holds.",
                                {"shard"}, {shard});
  m.bytes = metrics::gauge_of(r, "agentgraph_memory_bytes",
                              "Heap bytes of a memory shard's entries and index.", {"shard"},
                              {shard});
  m.snapshot_failures = metrics::counter_of(
    r, "agentgraph_memory_snapshot_failures_total",
    "Snapshots of a memory shard that its writer failed to save.", {"shard"}, {shard});
  m.commits = metrics::counter_of(r, "agentgraph_memory_commits_total",
                                  "Batches a memory shard committed to its file (one fsync each).",
                                  {"shard"}, {shard});
  m.commit_failures = metrics::counter_of(
    r, "agentgraph_memory_commit_failures_total",
    "Batches a memory shard failed to commit; their stores were answered with the error.",
    {"shard"}, {shard});
  m.commit_batch_changes = metrics::histogram_of(
    r, "agentgraph_memory_commit_batch_changes", "Changed entries per committed batch.",
    {"shard"}, {shard}, commit_batch_buckets());
  m.commit_seconds = metrics::latency_histogram_of(
    r, "agentgraph_memory_commit_seconds",
    "Time from handing a batch to the writer to its commit.", {"shard"}, {shard});
  m.embedding_seconds = metrics::latency_histogram_of(
    r, "agentgraph_memory_embedding_seconds",
    "Time from an embedding request to the provider to its vectors.", {"shard"}, {shard});
  m.embedding_cache_hits = metrics::counter_of(
    r, "agentgraph_memory_embedding_cache_hits_total",
    "Texts whose vector a memory shard took from the cache instead of the provider.", {"shard"},
    {shard});
  m.recalls_degraded = metrics::counter_of(
    r, "agentgraph_memory_recalls_degraded_total",
    "Recalls answered by keyword match only, because the provider gave no query vector.",
    {"shard"}, {shard});
  m.vectors_pending = metrics::gauge_of(
    r, "agentgraph_memory_vectors_pending",
    "Entries a memory shard holds without a vector yet (embedded in the background).",
    {"shard"}, {shard});
  return m;
}

std::vector<double> commit_batch_buckets() {
  return {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536};
}

}  // namespace agentgraph
