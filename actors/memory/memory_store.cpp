#include "actors/memory/memory_store.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "actors/memory/memory_bytes.hpp"
#include "actors/memory/retention.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace memory_store_detail {

std::string key(const memory_config& cfg, const char* name) {
  return (cfg.name.empty() ? std::string{"memory."} : "memory." + cfg.name + ".") + name;
}

caf::error bad(const memory_config& cfg, const char* name, const std::string& why) {
  return make_error(errc::invalid_argument, key(cfg, name) + ": " + why);
}

// What one entry of memory_store::entries_ holds: its map node, the heap of
// its strings beyond SSO and its metadata. Fixed while the entry is held
// (a recall changes only integers), so the store adds it on insert and
// takes the same figure back on removal.
size_t entry_bytes(const memory_entry& e) {
  return memory_bytes::tree_node<std::pair<const uint64_t, memory_entry>>
         + memory_bytes::string_heap(e.text) + memory_bytes::string_heap(e.kind)
         + e.metadata.heap_bytes();
}

// kind_limits: a map node per kind plus the kind's string heap.
size_t kind_limits_bytes(const memory_config& cfg) {
  size_t total = 0;
  for (const auto& [kind, limit] : cfg.kind_limits)
    total += memory_bytes::tree_node<std::pair<const std::string, uint32_t>>
             + memory_bytes::string_heap(kind);
  return total;
}

caf::error validate_limits(const memory_config& cfg) {
  if (cfg.max_entries < 1 || cfg.max_entries > memory_entries_max_limit)
    return bad(cfg, "max_entries",
               "must be in [1, " + std::to_string(memory_entries_max_limit) + "]");
  if (!(cfg.similarity_threshold >= -1.0 && cfg.similarity_threshold <= 1.0))
    return bad(cfg, "similarity_threshold", "must be in [-1, 1]");
  if (cfg.exact_search_max < 1 || cfg.exact_search_max > memory_entries_max_limit)
    return bad(cfg, "exact_search_max",
               "must be in [1, " + std::to_string(memory_entries_max_limit) + "]");
  auto min_text = std::to_string(memory_timer_interval_min.count()) + " ms";
  if (cfg.cleanup_interval < memory_timer_interval_min)
    return bad(cfg, "cleanup_interval", "must be at least " + min_text);
  if (cfg.importance_half_life.count() <= 0)
    return bad(cfg, "importance_half_life", "must be positive");
  if (!cfg.snapshot_path.empty() && cfg.snapshot_interval < memory_timer_interval_min)
    return bad(cfg, "snapshot_interval", "must be at least " + min_text);
  if (cfg.commit_window.count() < 0 || cfg.commit_window > memory_commit_window_max)
    return bad(cfg, "commit_window", "must be in [0, "
                                       + std::to_string(memory_commit_window_max.count()) + " ms]");
  if (cfg.commit_batch_max < 1 || cfg.commit_batch_max > memory_commit_batch_max_limit)
    return bad(cfg, "commit_batch_max",
               "must be in [1, " + std::to_string(memory_commit_batch_max_limit) + "]");
  if (cfg.commit_waiting_max < 1 || cfg.commit_waiting_max > memory_commit_waiting_max_limit)
    return bad(cfg, "commit_waiting_max",
               "must be in [1, " + std::to_string(memory_commit_waiting_max_limit) + "]");
  if (cfg.scope_entries_max > memory_scope_entries_max_limit)
    return bad(cfg, "scope_entries_max",
               "must be in [0, " + std::to_string(memory_scope_entries_max_limit) + "]");
  if (cfg.replicas < 1 || cfg.replicas > memory_replicas_max)
    return bad(cfg, "replicas", "must be in [1, " + std::to_string(memory_replicas_max) + "]");
  // A replica set is chosen among the nodes that build the shard; a pin
  // to one node leaves one candidate, so R > 1 could never be met.
  if (cfg.replicas > 1 && cfg.placement != "any")
    return bad(cfg, "replicas", std::to_string(cfg.replicas)
                                  + " copies need placement = any (the replicas are chosen "
                                    "among the nodes that build the shard), not '"
                                  + cfg.placement + "'");
  return caf::none;
}

caf::error validate_embedding(const memory_config& cfg, const embedding_model_spec& spec) {
  if (cfg.embedding_dimensions > memory_embedding_dimensions_max)
    return bad(cfg, "embedding_dimensions",
               "must be in [0, " + std::to_string(memory_embedding_dimensions_max) + "]");
  if (spec.hashing && cfg.embedding_dimensions != 0 && cfg.embedding_dimensions != spec.hash_dim)
    return bad(cfg, "embedding_dimensions",
               std::to_string(cfg.embedding_dimensions) + " differs from " + cfg.embedding_model
                 + "'s own; hash-<dim> names its length, leave this 0");
  if (cfg.embedding_timeout < memory_timer_interval_min)
    return bad(cfg, "embedding_timeout", "must be at least "
                                           + std::to_string(memory_timer_interval_min.count())
                                           + " ms");
  if (cfg.embedding_attempts < 1 || cfg.embedding_attempts > memory_embedding_attempts_max)
    return bad(cfg, "embedding_attempts",
               "must be in [1, " + std::to_string(memory_embedding_attempts_max) + "]");
  if (cfg.embedding_waiting_max < 1
      || cfg.embedding_waiting_max > memory_embedding_waiting_max_limit)
    return bad(cfg, "embedding_waiting_max",
               "must be in [1, " + std::to_string(memory_embedding_waiting_max_limit) + "]");
  if (cfg.embedding_cache_entries < 1
      || cfg.embedding_cache_entries > memory_embedding_cache_entries_max)
    return bad(cfg, "embedding_cache_entries",
               "must be in [1, " + std::to_string(memory_embedding_cache_entries_max) + "]");
  if (cfg.embedding_cache_ttl.count() <= 0)
    return bad(cfg, "embedding_cache_ttl", "must be positive");
  if (cfg.embedding_input_bytes_max < 64 || cfg.embedding_input_bytes_max > entry_text_bytes_max)
    return bad(cfg, "embedding_input_bytes_max",
               "must be in [64, " + std::to_string(entry_text_bytes_max) + "]");
  if (cfg.reembed_inflight < 1 || cfg.reembed_inflight > memory_reembed_inflight_max)
    return bad(cfg, "reembed_inflight",
               "must be in [1, " + std::to_string(memory_reembed_inflight_max) + "]");
  return caf::none;
}

caf::error validate_kind_limits(const memory_config& cfg) {
  uint64_t sum = 0;
  for (const auto& [kind, limit] : cfg.kind_limits) {
    if (kind.empty() || kind.size() > entry_kind_bytes_max)
      return bad(cfg, "kind_limits", "kind names must have 1 to "
                                       + std::to_string(entry_kind_bytes_max) + " bytes");
    if (limit < 1)
      return bad(cfg, "kind_limits", "limit of kind '" + kind + "' must be at least 1");
    sum += limit;
  }
  if (sum > cfg.max_entries)
    return bad(cfg, "kind_limits", "limits sum to " + std::to_string(sum)
                                     + ", above max_entries " + std::to_string(cfg.max_entries));
  return caf::none;
}

}  // namespace memory_store_detail

caf::error validate_memory_config(const memory_config& cfg) {
  if (auto err = memory_store_detail::validate_limits(cfg))
    return err;
  if (auto err = memory_store_detail::validate_kind_limits(cfg))
    return err;
  auto spec = parse_embedding_spec(cfg.embedding_model);
  if (!spec)
    return make_error(*errc_of(spec.error()),
                      memory_store_detail::key(cfg, "embedding_model") + ": "
                        + error_context(spec.error()));
  return memory_store_detail::validate_embedding(cfg, *spec);
}

caf::error validate_new_entry(const memory_entry& e) {
  if (e.text.empty())
    return make_error(errc::invalid_argument, "memory entry: text is empty");
  if (e.text.size() > entry_text_bytes_max)
    return make_error(errc::invalid_argument, "memory entry: text has " + std::to_string(e.text.size())
                                                + " bytes, above " + std::to_string(entry_text_bytes_max));
  if (e.kind.empty() || e.kind.size() > entry_kind_bytes_max)
    return make_error(errc::invalid_argument, "memory entry: kind must have 1 to "
                                                + std::to_string(entry_kind_bytes_max) + " bytes");
  if (!(e.importance >= 0.0 && e.importance <= 1.0))
    return make_error(errc::invalid_argument, "memory entry: importance must be in [0, 1]");
  if (e.metadata.heap_bytes() > entry_metadata_bytes_max)
    return make_error(errc::invalid_argument, "memory entry: metadata above "
                                                + std::to_string(entry_metadata_bytes_max) + " bytes");
  if (e.created_ms < 0 || e.last_access_ms < 0)
    return make_error(errc::invalid_argument, "memory entry: negative timestamp");
  return caf::none;
}

memory_store::memory_store(memory_config cfg, const embedding_model_spec& spec)
    : cfg_(std::move(cfg)),
      dim_(spec.hashing ? spec.hash_dim : cfg_.embedding_dimensions),
      // +1: a store inserts before retention evicts.
      live_max_(cfg_.max_entries + 1),
      retention_(cfg_),
      scopes_(cfg_.scope_entries_max),
      kind_limits_bytes_(memory_store_detail::kind_limits_bytes(cfg_)) {
  if (spec.hashing)
    embedder_.emplace(spec.hash_dim);
  if (dim_ != 0)
    index_for_dim(live_max_);
}

caf::expected<memory_store> memory_store::make(const memory_config& cfg) {
  if (auto err = validate_memory_config(cfg))
    return err;
  return memory_store{cfg, *parse_embedding_spec(cfg.embedding_model)};
}

vector_index& memory_store::index_for_dim(uint32_t live_max) {
  AG_ASSERT(dim_ != 0, "an index before the dimension is known");
  if (!index_)
    index_.emplace(dim_, cfg_.exact_search_max, live_max, cfg_.exact_search_sparse);
  return *index_;
}

const vector_index& memory_store::index() const {
  AG_ASSERT(index_.has_value(), "no index before the dimension is known");
  return *index_;
}

void memory_store::insert(memory_entry e, std::vector<float> vector) {
  if (embedder_)
    vector = embedder_->embed(e.text);
  if (vector.empty())
    unembedded_.insert(e.id);
  else
    index_for_dim(live_max_).add(e.id, vector);
  uint64_t id = e.id;
  auto [it, inserted] = entries_.emplace(id, std::move(e));
  AG_ASSERT(inserted, "an id stored twice");
  // Measured where it stays: moving the strings in kept their capacity.
  entries_bytes_ += memory_store_detail::entry_bytes(it->second);
  retention_.add(retention_candidate_of(it->second));
  if (auto scope = scope_index::scope_of(it->second))
    scopes_.add(*scope, id);
  AG_ASSERT(entries_.size() == indexed() + unembedded_.size());  // one vector per entry, or none yet
  AG_ASSERT(entries_.size() == retention_.size());
  AG_ASSERT(scopes_.entries() <= entries_.size());  // at most one scope per entry
}

caf::expected<uint64_t> memory_store::store(memory_entry e, int64_t now_ms,
                                            std::vector<float> vector) {
  if (e.id != 0)
    return make_error(errc::invalid_argument, "memory entry: id is assigned by the shard; send 0");
  if (auto err = validate_new_entry(e))
    return err;
  e.id = next_id_++;
  if (e.created_ms == 0)
    e.created_ms = now_ms;
  uint64_t id = e.id;
  insert(std::move(e), std::move(vector));
  if (tracking_)
    changes_.upserted.push_back(id);
  enforce_retention(now_ms);
  // Retention brings every policy back within max_entries (retention.hpp).
  AG_ASSERT(entries_.size() <= cfg_.max_entries);
  AG_ASSERT(id < next_id_);
  return id;
}

caf::error memory_store::check_recall(std::string_view query, uint32_t k) {
  if (k == 0 || k > recall_k_max)
    return make_error(errc::invalid_argument,
                      "recall: k must be in [1, " + std::to_string(recall_k_max) + "], got "
                        + std::to_string(k));
  if (query.size() > entry_text_bytes_max)
    return make_error(errc::invalid_argument, "recall: query above "
                                                + std::to_string(entry_text_bytes_max) + " bytes");
  return caf::none;
}

caf::expected<std::vector<memory_hit>> memory_store::recall(std::string_view query, uint32_t k,
                                                            int64_t now_ms,
                                                            const std::vector<float>* query_vector) {
  if (auto err = check_recall(query, k))
    return err;
  if (embedder_)
    return hits_of(index_->search(embedder_->embed(query), k), now_ms);
  if (query_vector == nullptr) {  // degraded: the provider gave no query vector
    std::vector<uint64_t> all;
    all.reserve(entries_.size());
    for (const auto& [id, e] : entries_)
      all.push_back(id);
    return hits_of(keyword_matches(query, all, k), now_ms);
  }
  AG_ASSERT(query_vector->size() == dim_, "a query vector not through accept_vector");
  std::vector<index_match> found;
  if (index_)
    found = index_->search(*query_vector, k);
  std::vector<uint64_t> pending(unembedded_.begin(), unembedded_.end());
  return hits_of(merge_best(std::move(found), keyword_matches(query, pending, k), k), now_ms);
}

// The matches at or above the threshold become hits; each hit's entry is
// recorded as accessed.
std::vector<memory_hit> memory_store::hits_of(const std::vector<index_match>& matches,
                                              int64_t now_ms) {
  std::vector<memory_hit> hits;
  for (const auto& match : matches) {
    if (match.score < cfg_.similarity_threshold)
      continue;
    auto it = entries_.find(match.id);
    AG_ASSERT(it != entries_.end(), "index holds an id the store does not");
    auto& entry = it->second;
    const auto before = retention_candidate_of(entry);
    entry.last_access_ms = now_ms;
    if (entry.access_count < std::numeric_limits<uint32_t>::max())
      ++entry.access_count;
    retention_.update(before, retention_candidate_of(entry));
    if (tracking_)
      changes_.upserted.push_back(entry.id);
    hits.push_back({entry, static_cast<double>(match.score)});
  }
  // The exact scan already orders hits; HNSW orders by float distance, so
  // sort once more to make "best first, lower id on ties" hold in both modes.
  std::stable_sort(hits.begin(), hits.end(), [](const memory_hit& a, const memory_hit& b) {
    return a.score != b.score ? a.score > b.score : a.entry.id < b.entry.id;
  });
  return hits;
}

caf::error memory_store::restore(std::vector<memory_entry> entries, uint64_t next_id) {
  AG_ASSERT(entries_.empty(), "restore into a non-empty store");
  std::set<uint64_t> seen;
  for (const auto& e : entries) {
    auto where = "snapshot entry " + std::to_string(e.id) + ": ";
    if (e.id == 0 || e.id >= next_id || !seen.insert(e.id).second)
      return make_error(errc::parse_error, where + "id is zero, duplicate or not below next_id");
    if (auto err = validate_new_entry(e))
      return make_error(errc::parse_error, where + error_context(err));
  }
  // A snapshot may hold more than max_entries (the limit shrank since it was
  // written); size the index for all of them until retention trims them.
  live_max_ = static_cast<uint32_t>(std::max<size_t>(cfg_.max_entries, entries.size()) + 1);
  index_.reset();
  if (dim_ != 0)
    index_for_dim(live_max_);
  AG_ASSERT(retention_.size() == 0 && entries_bytes_ == 0 && unembedded_.empty());
  for (auto& e : entries)
    insert(std::move(e));
  next_id_ = next_id;
  return caf::none;
}

size_t memory_store::enforce_retention(int64_t now_ms) {
  if (retention_.needs_rebuild(now_ms))
    rebuild_retention();
  // Scopes first: a scope's own overflow should cost that scope, not
  // whichever entry is the shard's lowest.
  size_t evicted = trim_scopes(now_ms);
  return evicted + evict(retention_.select(now_ms));
}

// The clock stepped back under the importance policy: entries placed by a
// later `now` may score differently at this one (retention_index.hpp).
void memory_store::rebuild_retention() {
  retention_ = retention_index{cfg_};
  for (const auto& [id, e] : entries_)
    retention_.add(retention_candidate_of(e));
}

size_t memory_store::remove(const std::vector<uint64_t>& ids) {
  size_t removed = 0;
  for (uint64_t id : ids) {
    auto it = entries_.find(id);
    if (it == entries_.end())
      continue;
    retention_.remove(retention_candidate_of(it->second));
    if (auto scope = scope_index::scope_of(it->second))
      scopes_.remove(*scope, id);
    entries_bytes_ -= memory_store_detail::entry_bytes(it->second);
    if (unembedded_.erase(id) == 0)
      index_->remove(id);
    entries_.erase(it);
    if (tracking_)
      changes_.removed.push_back(id);
    ++removed;
  }
  AG_ASSERT(entries_.size() == indexed() + unembedded_.size());
  AG_ASSERT(entries_.size() == retention_.size());
  AG_ASSERT(scopes_.entries() <= entries_.size());
  return removed;
}

size_t memory_store::evict(const std::vector<uint64_t>& ids) {
  auto removed = remove(ids);
  evictions_ += removed;
  return removed;
}

size_t memory_store::discard(const std::vector<uint64_t>& ids) {
  return remove(ids);
}

std::vector<memory_entry> memory_store::entries_copy() const {
  std::vector<memory_entry> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_)
    out.push_back(e);
  return out;
}

const memory_entry* memory_store::find(uint64_t id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

size_t memory_store::bytes() const {
  return sizeof(memory_store) + entries_bytes_ + kind_limits_bytes_
         + (index_ ? index_->bytes() : 0) + unembedded_bytes() + retention_.bytes()
         + scopes_.bytes();
}

size_t memory_store::bytes_recounted() const {
  size_t entries = 0;
  for (const auto& [id, e] : entries_)
    entries += memory_store_detail::entry_bytes(e);
  return sizeof(memory_store) + entries + memory_store_detail::kind_limits_bytes(cfg_)
         + (index_ ? index_->bytes_recounted() : 0) + unembedded_bytes() + retention_.bytes()
         + scopes_.bytes_recounted();
}

memory_stats memory_store::stats() const {
  memory_stats s;
  s.name = cfg_.name;
  s.entries = entries_.size();
  s.bytes = bytes();
  s.bytes_per_entry = entries_.empty() ? 0.0 : static_cast<double>(s.bytes) / s.entries;
  s.evictions = evictions_;
  s.embedding_model = cfg_.embedding_model;
  s.dimension = dim_;
  s.vectors_pending = unembedded_.size();
  return s;
}

}  // namespace agentgraph
