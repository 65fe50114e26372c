#include "actors/memory/memory_config_keys.hpp"

#include "actors/memory/memory_store.hpp"
#include "actors/placement_key.hpp"

namespace agentgraph {

using namespace std::chrono_literals;

void assign(retention_policy& f, const config_value& v) {
  f = enum_from(retention_policies, v);
}

void assign(memory_durability& f, const config_value& v) {
  f = enum_from(memory_durabilities, v);
}

void assign(embedding_model_change& f, const config_value& v) {
  f = enum_from(embedding_model_changes, v);
}

const std::vector<field<memory_config>>& memory_fields() {
  static const auto fields = [] {
    using S = memory_config;
    const S d;
    return std::vector<field<S>>{
        bind(uint_key("max_entries", d.max_entries, 1, 10'000'000,
                      "Entries kept; the retention policy decides which go beyond this."),
             &S::max_entries),
        bind(string_key("embedding_model", d.embedding_model,
                        "Embedder: hash-<dim> is the built-in offline feature-hashing "
                        "embedder; <provider>:<model> asks the [provider.<provider>] section's "
                        "provider for that model's vectors (e.g. openai:text-embedding-3-small, "
                        "local:nomic-embed-text on an openai_compatible server), through the "
                        "cache."),
             &S::embedding_model),
        bind(uint_key("embedding_dimensions", d.embedding_dimensions, 0,
                      memory_embedding_dimensions_max,
                      "A provider's model: the vector length to ask for where the vendor "
                      "shortens vectors (OpenAI dimensions, Gemini outputDimensionality); 0: the "
                      "model's own. A vector of another length is refused."),
             &S::embedding_dimensions),
        bind(duration_key("embedding_timeout", d.embedding_timeout, 100ms, 600s,
                          "Deadline of a text's whole embedding (every try of a store, a "
                          "recall's one try); past it a store fails with timeout and a recall "
                          "falls back to keywords."),
             &S::embedding_timeout),
        bind(uint_key("embedding_attempts", d.embedding_attempts, 1, memory_embedding_attempts_max,
                      "Tries of a store's embedding (backoff from 100 ms, doubling) before the "
                      "store fails with the provider's error."),
             &S::embedding_attempts),
        bind(uint_key("embedding_waiting_max", d.embedding_waiting_max, 1,
                      memory_embedding_waiting_max_limit,
                      "Stores and recalls waiting for a vector from the provider at most; "
                      "beyond, overloaded at once (not stored)."),
             &S::embedding_waiting_max),
        bind(uint_key("embedding_cache_entries", d.embedding_cache_entries, 1,
                      memory_embedding_cache_entries_max,
                      "Vectors the shard keeps in its own cache (L1; below it the process's L2 "
                      "and the [cache] Redis L3), keyed by model, dimension and text."),
             &S::embedding_cache_entries),
        bind(duration_key("embedding_cache_ttl", d.embedding_cache_ttl, 1s, 8760h,
                          "How long a cached vector lives (Redis caps it at redis_ttl_max)."),
             &S::embedding_cache_ttl),
        bind(enum_key("model_change", to_string(d.model_change), enum_words(embedding_model_changes),
                      "A snapshot embedded with another model or dimension: reembed = its "
                      "entries load without vectors and are embedded in the background "
                      "(recall matches them by keywords meanwhile); refuse = the shard does "
                      "not start."),
             &S::model_change),
        bind(uint_key("embedding_input_bytes_max", d.embedding_input_bytes_max, 64,
                      entry_text_bytes_max,
                      "Bytes of a text a provider's model embeds at most: a longer entry is "
                      "embedded by its first this many bytes (cut at a character), so no vendor "
                      "refuses it for its length. Recall by keywords still reads the whole text."),
             &S::embedding_input_bytes_max),
        bind(uint_key("reembed_inflight", d.reembed_inflight, 1, memory_reembed_inflight_max,
                      "Background embeddings (after a restart or a model change, or of "
                      "entries copied from a replica) in flight at once."),
             &S::reembed_inflight),
        bind(double_key("similarity_threshold", d.similarity_threshold, -1.0, 1.0,
                        "Recall drops entries whose cosine similarity is below this."),
             &S::similarity_threshold),
        bind(duration_key("cleanup_interval", d.cleanup_interval, 1s, 24h,
                          "How often the retention policy runs."),
             &S::cleanup_interval),
        bind(enum_key("retention", to_string(d.retention), enum_words(retention_policies),
                      "Which entries are dropped when the shard is full."),
             &S::retention),
        bind(applies_if(duration_key("importance_half_life", d.importance_half_life, 1s, 8760h,
                                     "Age (since last access) that halves an entry's "
                                     "importance."),
                        "retention", {"importance"}),
             &S::importance_half_life),
        bind(applies_if(uint_map_key("kind_limits", 1, 10'000'000,
                                     "Per-kind entry limits, e.g. 'fact:500, episode:200'; "
                                     "unlisted kinds share max_entries."),
                        "retention", {"hierarchical"}),
             &S::kind_limits),
        bind(uint_key("exact_search_max", d.exact_search_max, 0, 10'000'000,
                      "Up to this many entries recall scans exactly; above, it uses the "
                      "HNSW index."),
             &S::exact_search_max),
        bind(bool_key("exact_search_sparse", d.exact_search_sparse,
                      "Sparse vectors (at most half their coordinates nonzero, as hash-<dim> "
                      "gives for short texts) keep the exact scan above exact_search_max: "
                      "exact results, at a cost that follows the query's nonzero coordinates. "
                      "false: HNSW above exact_search_max whatever the vectors."),
             &S::exact_search_sparse),
        bind(path_key("snapshot_path", d.snapshot_path,
                      "SQLite snapshot file; empty: not persisted; relative: against the "
                      "config file's directory."),
             &S::snapshot_path),
        bind(duration_key("snapshot_interval", d.snapshot_interval, 1s, 24h,
                          "durability snapshot: how often the whole shard is written to "
                          "snapshot_path. durability commit: how often that file is compacted "
                          "(WAL checkpointed and truncated)."),
             &S::snapshot_interval),
        bind(enum_key("durability", to_string(d.durability), enum_words(memory_durabilities),
                      "With a snapshot file: commit = a store is answered after its row is "
                      "committed (fsync'd; stores of one commit_window share a commit); "
                      "snapshot = answered at once, the shard is written every "
                      "snapshot_interval and at shutdown: faster, but a crash loses what was "
                      "stored since the last snapshot."),
             &S::durability),
        bind(applies_if(duration_key("commit_window", d.commit_window, 0ms, 1s,
                                     "How long changes gather after the first one before "
                                     "they are committed in one transaction. 0ms: at once "
                                     "when the writer is idle; what arrives during a commit "
                                     "forms the next batch."),
                        "durability", {"commit"}),
             &S::commit_window),
        bind(applies_if(uint_key("commit_batch_max", d.commit_batch_max, 1, 100'000,
                                 "Changed entries per commit at most; a full batch is "
                                 "committed without waiting for commit_window."),
                        "durability", {"commit"}),
             &S::commit_batch_max),
        bind(applies_if(uint_key("commit_waiting_max", d.commit_waiting_max, 1, 1'000'000,
                                 "Stores waiting for their commit at most; beyond, a store is "
                                 "refused with overloaded (not stored)."),
                        "durability", {"commit"}),
             &S::commit_waiting_max),
        bind(placement_key(d.placement), &S::placement),
        bind(uint_key("replicas", d.replicas, 1, memory_replicas_max,
                      "Copies of this shard in a cluster: 1 = each node that builds it has "
                      "its own; R > 1 = every entry is stored on the R live nodes that "
                      "consistent hashing of the shard's name picks, recalled from any of "
                      "them, and copied to a new one when one goes down. R > 1 needs a "
                      "[cluster] section and placement = any."),
             &S::replicas),
        bind(uint_key("scope_entries_max", d.scope_entries_max, 0, memory_scope_entries_max_limit,
                      "Entries one scope (metadata field scope, a keyed agent's key) holds at "
                      "most; one more evicts that scope's lowest-value entry by the retention "
                      "policy's order. 0 = no bound. Bounds both one agent's share of the "
                      "shard and the cost of its scoped recall, which scans its scopes."),
             &S::scope_entries_max),
    };
  }();
  return fields;
}

}  // namespace agentgraph
