// The memory shard's data, with no CAF behaviour in it: entries, their
// embeddings (inside the vector index) and retention. The shard actor owns
// one memory_store and calls it from its handlers; tests use it directly
// with an injected time.
//
// Not thread-safe: one owner calls every method.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/memory/embedding_model.hpp"
#include "actors/memory/hashing_embedder.hpp"
#include "actors/memory/memory_bytes.hpp"
#include "actors/memory/memory_config.hpp"
#include "actors/memory/memory_interface.hpp"
#include "actors/memory/memory_replica_interface.hpp"
#include "actors/memory/retention_index.hpp"
#include "actors/memory/scope_index.hpp"
#include "actors/memory/vector_index.hpp"

namespace agentgraph {

// recall's k must be in [1, recall_k_max]: a larger k would copy most of the
// shard into one reply.
constexpr uint32_t recall_k_max = 100;
// Bounds of one entry, checked on store (invalid_argument beyond them): a
// memory entry is a note or a chunk, not a document store.
constexpr size_t entry_text_bytes_max = 1 << 20;
constexpr size_t entry_kind_bytes_max = 128;
constexpr size_t entry_metadata_bytes_max = 1 << 20;  // Value::heap_bytes
// Upper bound of max_entries: hnswlib numbers slots with 32-bit ids, and at
// ~1 KiB per entry ten million entries already take ~10 GiB.
constexpr uint32_t memory_entries_max_limit = 10'000'000;
// Timers faster than this would spend the shard's time on bookkeeping.
constexpr std::chrono::milliseconds memory_timer_interval_min{100};
// Bounds of the commit keys (memory_config.hpp). A window above a second
// would make every store that slow; a batch is one transaction in memory
// at the writer; waiting stores each hold a response promise.
constexpr std::chrono::milliseconds memory_commit_window_max{1'000};
constexpr uint32_t memory_commit_batch_max_limit = 100'000;
constexpr uint32_t memory_commit_waiting_max_limit = 1'000'000;
// Upper bound of `replicas`: every store goes to each replica, so R is a
// cost per store; 16 copies is far past any durability need.
constexpr uint32_t memory_replicas_max = 16;
// Upper bound of scope_entries_max: trimming a full scope and a scoped
// recall both scan the scope's entries, so a scope stays small enough for
// one store or recall to scan it (100k entries: a few ms).
constexpr uint32_t memory_scope_entries_max_limit = 100'000;

// Upper bound of embedding_dimensions and of a provider's vectors: the
// largest models give 3072 floats; past 16384 a vector costs more than a page.
constexpr uint32_t memory_embedding_dimensions_max = 16'384;
// Bounds of the other embedding keys (memory_config.hpp says why each).
constexpr uint32_t memory_embedding_attempts_max = 10;
constexpr uint32_t memory_embedding_waiting_max_limit = 4096;
constexpr uint32_t memory_embedding_cache_entries_max = 1'000'000;
constexpr uint32_t memory_reembed_inflight_max = 1024;
// Entries one keyword match reads at most (the newest): a recall without a
// query vector reads each candidate's text.
constexpr size_t memory_keyword_scan_max = 20'000;

// Checks every key of `cfg`. Errors: invalid_argument naming the key as
// "memory.<name>.<key>".
[[nodiscard]] caf::error validate_memory_config(const memory_config& cfg);

// Checks a store request against the entry bounds. Errors: invalid_argument.
[[nodiscard]] caf::error validate_new_entry(const memory_entry& e);

// Entries changed since the last memory_store::take_changes, for a writer
// that keeps the file in step entry by entry (commit durability). Ids only:
// the taker reads each upserted entry as it is now.
struct memory_changes {
  std::vector<uint64_t> upserted;  // stored, or recalled (access fields changed)
  std::vector<uint64_t> removed;   // evicted or discarded
  [[nodiscard]] bool empty() const { return upserted.empty() && removed.empty(); }
};

// The share of `query_words` (distinct, sorted, as embedding_tokens gives
// them) that `text` holds, in [0, 1]: how a provider's store scores an
// entry it has no vector for, or every entry when the query has none.
[[nodiscard]] float keyword_score(const std::vector<std::string>& query_words,
                                  std::string_view text);

class memory_store {
 public:
  // Fails like validate_memory_config.
  [[nodiscard]] static caf::expected<memory_store> make(const memory_config& cfg);

  // Adds an entry: assigns the next id, sets created_ms to now_ms if 0,
  // then applies retention (which may evict the new entry itself, e.g. under
  // the importance policy). Errors: like validate_new_entry.
  // `vector` (here and in place): the entry's embedding from the shard's
  // provider, already through accept_vector. Empty: a hash-<dim> store
  // embeds the text itself; a provider's store holds the entry without a
  // vector (unembedded(): recall matches it by keywords) until set_vector.
  [[nodiscard]] caf::expected<uint64_t> store(memory_entry e, int64_t now_ms,
                                              std::vector<float> vector = {});

  // A replica's store (replica_store_atom): the id and created_ms come
  // with the entry. An id held already changes nothing and returns
  // {id, false}; else the entry is added as by store (retention included;
  // next_id moves past it) and {id, true} returned. Errors: like
  // validate_new_entry, and invalid_argument for id 0 or at or above
  // memory_replica_id_limit, or created_ms 0. (memory_store_replica.cpp)
  [[nodiscard]] caf::expected<std::pair<uint64_t, bool>> place(memory_entry e, int64_t now_ms,
                                                               std::vector<float> vector = {});

  // Entries after `after_id` in id order: at most `limit`, within
  // memory_page_bytes_max (always one, whatever its size). Errors:
  // invalid_argument (limit 0 or above memory_page_entries_max).
  [[nodiscard]] caf::expected<memory_page> export_page(uint64_t after_id, uint32_t limit) const;

  // Adds what the page holds and the store does not (by id), then applies
  // retention at now_ms; returns how many were added. A page from a peer
  // is checked whole first: at most memory_page_entries_max entries and
  // memory_page_bytes_max bytes, ids unique and as place() takes them,
  // every entry valid. Errors: invalid_argument, nothing added.
  [[nodiscard]] caf::expected<uint64_t> import_page(const memory_page& page, int64_t now_ms);

  // At most k entries scored >= the similarity threshold, best first. Each
  // hit's entry is recorded as accessed (last_access_ms = now_ms,
  // access_count + 1) and returned with the updated fields.
  // A hash-<dim> store embeds the query itself. A provider's store scores
  // `query_vector` (through accept_vector) against the entries' vectors and
  // the unembedded entries by keywords (keyword_score); without one (the
  // provider failed) every entry by keywords: the degraded recall.
  // Errors: invalid_argument (k == 0, k > recall_k_max, query too long).
  [[nodiscard]] caf::expected<std::vector<memory_hit>>
  recall(std::string_view query, uint32_t k, int64_t now_ms,
         const std::vector<float>* query_vector = nullptr);

  // Like recall, among the entries of `scopes` only (scope_index.hpp),
  // scored exactly over those entries: O(entries of the scopes * dim),
  // whatever the shard holds, and never the HNSW index (a filtered
  // approximate search would miss hits). Errors: as recall, and
  // invalid_argument for 0 or more than memory_recall_scopes_max scopes or
  // a scope of 0 or more than memory_scope_bytes_max bytes.
  // (memory_store_scope.cpp)
  [[nodiscard]] caf::expected<std::vector<memory_hit>>
  recall_scoped(std::string_view query, uint32_t k, const std::vector<std::string>& scopes,
                int64_t now_ms, const std::vector<float>* query_vector = nullptr);

  // --- vectors from a provider (memory_store_vectors.cpp) ---
  // True for hash-<dim>: the store embeds every text itself and no entry
  // is ever unembedded.
  [[nodiscard]] bool embeds_itself() const { return embedder_.has_value(); }
  // Length of every vector the store holds: hash-<dim>'s dim, or
  // embedding_dimensions, or else the first vector accepted (0 until then).
  [[nodiscard]] uint32_t dimension() const { return dim_; }
  // The model and dimension, as the file records them.
  [[nodiscard]] embedding_label label() const { return {cfg_.embedding_model, dim_}; }
  // Checks a provider's vector before any use: dimension() floats (the
  // first one accepted fixes it), all finite. Returns it L2-normalised (the
  // index scores unit vectors; a zero vector stays zero). Errors:
  // provider_error naming both lengths, so vectors of two shapes never
  // share the index.
  [[nodiscard]] caf::expected<std::vector<float>> accept_vector(std::vector<float> v);
  // Gives an unembedded entry its vector (through accept_vector). False
  // when the entry is gone or has one already (nothing changes).
  bool set_vector(uint64_t id, std::vector<float> v);
  // Entries held without a vector, in id order (a provider's store only).
  [[nodiscard]] const std::set<uint64_t>& unembedded() const { return unembedded_; }

  // Loads entries from a snapshot into an empty store without applying
  // retention (the caller runs enforce_retention next, counting evictions).
  // Errors: parse_error on a zero, duplicate or >= next_id id, or an entry
  // that fails validate_new_entry.
  [[nodiscard]] caf::error restore(std::vector<memory_entry> entries, uint64_t next_id);

  // Applies the retention policy at now_ms; returns how many were evicted.
  // O(log n) per eviction (retention_index.hpp), and O(n log n) once when
  // now_ms is earlier than a previous call under the importance policy.
  // First trims every scope above scope_entries_max (trim_scopes).
  size_t enforce_retention(int64_t now_ms);

  // Removes the given ids (absent ids are skipped); returns how many went.
  size_t evict(const std::vector<uint64_t>& ids);
  // Like evict, but not counted as evictions: undoing a store whose commit
  // failed, so that memory holds what the file holds.
  size_t discard(const std::vector<uint64_t>& ids);

  // Off by default: a shard that rewrites whole snapshots has no use for
  // the list, which would then grow without bound. On: every store, recall
  // hit, eviction and discard is recorded until take_changes.
  void track_changes(bool on) { tracking_ = on; }
  [[nodiscard]] memory_changes take_changes() { return std::exchange(changes_, {}); }

  // A copy of every entry in id order, for the snapshot writer.
  [[nodiscard]] std::vector<memory_entry> entries_copy() const;
  [[nodiscard]] const memory_entry* find(uint64_t id) const;
  // The id the next store will assign; persisted so ids are never reused.
  [[nodiscard]] uint64_t next_id() const { return next_id_; }
  [[nodiscard]] size_t size() const { return entries_.size(); }
  [[nodiscard]] uint64_t evictions() const { return evictions_; }
  [[nodiscard]] const memory_config& config() const { return cfg_; }
  // The index; a provider's store has none until its dimension is known.
  [[nodiscard]] bool has_index() const { return index_.has_value(); }
  [[nodiscard]] const vector_index& index() const;
  [[nodiscard]] const scope_index& scopes() const { return scopes_; }
  // Whether the scope index holds exactly each scoped entry under its
  // scope: O(n), for tests and assertions after bulk changes.
  [[nodiscard]] bool scopes_consistent() const;

  // Heap and object bytes of the entries (map nodes, string capacities,
  // metadata), the vector index (which holds the embeddings), the
  // retention index and the store itself. O(1): the entries' part is a
  // running total (added on insert, taken back on removal; a recall changes
  // no byte), the indexes report theirs from their sizes.
  [[nodiscard]] size_t bytes() const;
  // The same figure with every running total recomputed by a walk over all
  // entries and index slots: O(n), for tests that check bytes() against it.
  [[nodiscard]] size_t bytes_recounted() const;

  // name, entries, bytes, bytes_per_entry, evictions; snapshots_written is
  // the shard's to fill.
  [[nodiscard]] memory_stats stats() const;

 private:
  memory_store(memory_config cfg, const embedding_model_spec& spec);
  // `vector` empty: embedded here (hash-<dim>) or held unembedded.
  void insert(memory_entry e, std::vector<float> vector = {});
  // The index, made on first need once dim_ is known (live_max as in make).
  vector_index& index_for_dim(uint32_t live_max);
  [[nodiscard]] size_t indexed() const { return index_ ? index_->size() : 0; }
  [[nodiscard]] size_t unembedded_bytes() const {
    return unembedded_.size() * memory_bytes::tree_node<uint64_t>;
  }
  // The k best of `ids` by keyword_score, best first, lower id on ties.
  [[nodiscard]] std::vector<index_match> keyword_matches(std::string_view query,
                                                         const std::vector<uint64_t>& ids,
                                                         size_t k) const;
  // Merges two best-first lists into the k best.
  [[nodiscard]] static std::vector<index_match> merge_best(std::vector<index_match> a,
                                                           const std::vector<index_match>& b,
                                                           size_t k);
  size_t remove(const std::vector<uint64_t>& ids);
  void rebuild_retention();
  [[nodiscard]] static caf::error check_recall(std::string_view query, uint32_t k);
  std::vector<memory_hit> hits_of(const std::vector<index_match>& matches, int64_t now_ms);
  // Evicts from each scope above scope_entries_max what the policy's order
  // ranks lowest in it (memory_store_scope.cpp). O(scope size) per scope.
  size_t trim_scopes(int64_t now_ms);

  memory_config cfg_;
  std::optional<hashing_embedder> embedder_;  // hash-<dim> only
  uint32_t dim_ = 0;                          // 0: not known yet (a provider's store)
  uint32_t live_max_ = 0;                     // the index's live_max
  // Ordered by id, which is creation order: snapshots and ties are stable.
  std::map<uint64_t, memory_entry> entries_;
  // Embeddings live only here (not copied into each entry): the exact scan
  // and hnswlib both keep their own packed copy, and a second copy per
  // entry would double the shard's largest cost for nothing. Rebuilds and
  // the exact-to-HNSW switch read vectors back from the index.
  std::optional<vector_index> index_;
  // Entries without a vector yet (a provider's store): loaded, imported, or
  // their model changed; the shard embeds them in the background.
  std::set<uint64_t> unembedded_;
  // The policy's eviction order over entries_, kept in step by insert,
  // remove and recall.
  retention_index retention_;
  // Scope -> ids, kept in step by insert and remove.
  scope_index scopes_;
  size_t entries_bytes_ = 0;     // sum of each entry's bytes (memory_store.cpp)
  size_t kind_limits_bytes_ = 0;  // cfg_.kind_limits' map, fixed
  uint64_t next_id_ = 1;
  uint64_t evictions_ = 0;
  bool tracking_ = false;
  memory_changes changes_;  // filled only while tracking_
};

}  // namespace agentgraph
