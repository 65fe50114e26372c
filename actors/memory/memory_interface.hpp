// The typed interface of a memory shard: a bounded store of text entries
// with embeddings, recalled by similarity. Retention policies bound it; a
// snapshot file makes it survive restarts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common_atoms.hpp"
#include "runtime/heartbeat.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

struct memory_entry {
  uint64_t id = 0;       // assigned by the shard on store; 0 in a store request
  std::string text;
  std::string kind = "interaction";  // hierarchical retention limits are per kind
  double importance = 0.5;           // in [0, 1]
  Value metadata;
  int64_t created_ms = 0;      // unix ms; set by the shard if 0
  int64_t last_access_ms = 0;  // updated on recall
  uint32_t access_count = 0;   // incremented on recall
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_entry& x) {
  return f(caf::meta::type_name("agentgraph::memory_entry"), x.id, x.text, x.kind, x.importance,
           x.metadata, x.created_ms, x.last_access_ms, x.access_count);
}

struct memory_hit {
  memory_entry entry;
  double score = 0;  // cosine similarity in [-1, 1]
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_hit& x) {
  return f(caf::meta::type_name("agentgraph::memory_hit"), x.entry, x.score);
}

// Which model a shard's vectors come from, recorded in its file with every
// write, so a load can tell that the model changed (memory_config.hpp,
// model_change).
struct embedding_label {
  std::string model;       // embedding_model as configured
  uint32_t dimension = 0;  // 0: not known yet (no vector from the provider so far)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, embedding_label& x) {
  return f(caf::meta::type_name("agentgraph::embedding_label"), x.model, x.dimension);
}

struct memory_stats {
  std::string name;
  uint64_t entries = 0;
  uint64_t bytes = 0;  // measured from the shard's data structures
  double bytes_per_entry = 0;
  uint64_t evictions = 0;
  uint64_t snapshots_written = 0;
  // Embeddings (memory_shard_embed.hpp). The model as configured and the
  // vector length (0 until a provider's first vector fixes it).
  std::string embedding_model;
  uint32_t dimension = 0;
  uint64_t vectors_pending = 0;    // entries held without a vector yet
  uint64_t vectors_cached = 0;     // vectors in the shard's own cache (L1)
  uint64_t cache_hits = 0;         // texts answered by the cache, any level
  uint64_t embed_calls = 0;        // requests to the provider
  uint64_t embed_failures = 0;     // of which failed (error or timeout)
  double embed_latency_p50_ms = 0; // over the last embed_latency_window calls
  double embed_latency_p99_ms = 0;
  uint64_t recalls_degraded = 0;   // recalls answered by keywords only
  uint64_t reembedded = 0;         // entries given a vector in the background
  uint64_t vectors_refused = 0;    // entries whose text the provider refuses, even alone
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_stats& x) {
  return f(caf::meta::type_name("agentgraph::memory_stats"), x.name, x.entries, x.bytes,
           x.bytes_per_entry, x.evictions, x.snapshots_written, x.embedding_model, x.dimension,
           x.vectors_pending, x.vectors_cached, x.cache_hits, x.embed_calls, x.embed_failures,
           x.embed_latency_p50_ms, x.embed_latency_p99_ms, x.recalls_degraded, x.reembedded,
           x.vectors_refused);
}

using store_atom = caf::atom_constant<caf::atom("ag_store")>;
using recall_atom = caf::atom_constant<caf::atom("ag_recall")>;
using snapshot_atom = caf::atom_constant<caf::atom("ag_snap")>;
using cleanup_atom = caf::atom_constant<caf::atom("ag_cleanup")>;
using memory_flush_atom = caf::atom_constant<caf::atom("ag_mflush")>;
using recall_scoped_atom = caf::atom_constant<caf::atom("ag_rclsc")>;

// Scopes (issue 14): an entry whose metadata field "scope" is a string of
// 1..memory_scope_bytes_max bytes belongs to that scope (a keyed agent
// stores its key there). recall_scoped_atom recalls among 1..
// memory_recall_scopes_max scopes' entries only, each scope name 1..
// memory_scope_bytes_max bytes; an entry without a scope is never returned.
inline constexpr const char* memory_scope_field = "scope";
constexpr size_t memory_scope_bytes_max = 256;
constexpr size_t memory_recall_scopes_max = 16;

using memory_actor = caf::typed_actor<
  // Reply: the new entry's id. Errors: invalid_argument (empty text,
  // importance outside [0,1]). Retention runs before the reply. With a
  // snapshot file and durability commit (the default) the reply waits for
  // the entry's row to be committed (fsync'd), usually within commit_window
  // plus one fsync, so callers' timeouts need a few ms of room; then also
  // io_error (the commit failed: the entry is NOT stored and was removed
  // again), overloaded (commit_waiting_max stores already wait: not stored,
  // retry after backing off) and timeout (no commit confirmed within
  // memory_commit_timeout; it may still land). Recalls see an entry from
  // the moment it is stored, before its commit.
  caf::replies_to<store_atom, memory_entry>::with<uint64_t>,
  // Reply: at most k entries scored >= the shard's similarity threshold,
  // best first. Errors: invalid_argument (k == 0 or above the bound).
  caf::replies_to<recall_atom, std::string, uint32_t>::with<std::vector<memory_hit>>,
  // Like recall, but only among the entries whose scope is one of
  // `scopes` (above): scored exactly (cosine) over those entries, never
  // through the HNSW index, at a cost proportional to their number. Same
  // threshold, order and access updates as recall. Errors: invalid_argument
  // (k as recall; 0 or more than memory_recall_scopes_max scopes, or a
  // scope of 0 or more than memory_scope_bytes_max bytes).
  caf::replies_to<recall_scoped_atom, std::string /*query*/, uint32_t /*k*/,
                  std::vector<std::string> /*scopes*/>::with<std::vector<memory_hit>>,
  caf::replies_to<stats_atom>::with<memory_stats>,
  // Writes the snapshot now (durability snapshot), or commits every pending
  // change and compacts the file (durability commit). Reply: entries the
  // file holds. Errors: io_error, overloaded (4 already in flight).
  caf::replies_to<snapshot_atom>::with<uint64_t>,
  // Timer tick: runs retention (cleanup_interval) and periodic snapshots
  // or compactions (snapshot_interval).
  caf::reacts_to<cleanup_atom>,
  // Commit durability's own timer: commits what gathered in commit_window.
  // Sent by anyone else it only commits early.
  caf::reacts_to<memory_flush_atom>,
  heartbeat_signature>;

}  // namespace agentgraph
