// memory_store's scope part (scope_index.hpp): the scoped recall, the
// per-scope bound and the index's consistency check.
#include <algorithm>

#include "actors/memory/memory_store.hpp"
#include "actors/memory/retention.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace memory_store_scope_detail {

caf::error check_scopes(const std::vector<std::string>& scopes) {
  if (scopes.empty() || scopes.size() > memory_recall_scopes_max)
    return make_error(errc::invalid_argument,
                      "recall_scoped: needs 1 to " + std::to_string(memory_recall_scopes_max)
                        + " scopes, got " + std::to_string(scopes.size()));
  for (const auto& s : scopes)
    if (s.empty() || s.size() > memory_scope_bytes_max)
      return make_error(errc::invalid_argument,
                        "recall_scoped: a scope must have 1 to "
                          + std::to_string(memory_scope_bytes_max) + " bytes, got "
                          + std::to_string(s.size()));
  return caf::none;
}

// The order a scope is trimmed in: the shard's policy within the scope.
// importance: the lowest importance score (ties: the oldest); the other
// policies evict the oldest (hierarchical's per-kind limits are
// shard-wide, so within one scope it is the oldest as well).
memory_config scope_policy(const memory_config& cfg) {
  memory_config out;
  out.name = cfg.name;
  out.retention = cfg.retention == retention_policy::importance ? retention_policy::importance
                                                                : retention_policy::sliding_window;
  out.max_entries = cfg.scope_entries_max;
  out.importance_half_life = cfg.importance_half_life;
  return out;
}

}  // namespace memory_store_scope_detail

caf::expected<std::vector<memory_hit>>
memory_store::recall_scoped(std::string_view query, uint32_t k,
                            const std::vector<std::string>& scopes, int64_t now_ms,
                            const std::vector<float>* query_vector) {
  namespace d = memory_store_scope_detail;
  if (auto err = check_recall(query, k))
    return err;
  if (auto err = d::check_scopes(scopes))
    return err;
  // A scope named twice would count its entries twice.
  std::vector<std::string_view> distinct(scopes.begin(), scopes.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<uint64_t> ids;
  for (auto scope : distinct)
    if (const auto* in = scopes_.ids(scope))
      ids.insert(ids.end(), in->begin(), in->end());
  if (embedder_)
    return hits_of(index_->score(embedder_->embed(query), ids, k), now_ms);
  // A provider's store: the entries with a vector by cosine, the others
  // (all of them when the query has no vector) by keywords.
  std::vector<uint64_t> with_vector;
  std::vector<uint64_t> by_keywords;
  for (uint64_t id : ids)
    (query_vector != nullptr && unembedded_.count(id) == 0 ? with_vector : by_keywords).push_back(id);
  std::vector<index_match> found;
  if (!with_vector.empty())
    found = index_->score(*query_vector, with_vector, k);
  return hits_of(merge_best(std::move(found), keyword_matches(query, by_keywords, k), k), now_ms);
}

size_t memory_store::trim_scopes(int64_t now_ms) {
  if (scopes_.over().empty())
    return 0;
  const auto policy = memory_store_scope_detail::scope_policy(cfg_);
  size_t evicted = 0;
  // Each pass evicts the excess of one scope, which then leaves over(), so
  // this runs once per over-full scope.
  while (!scopes_.over().empty()) {
    const auto* ids = scopes_.ids(*scopes_.over().begin());
    AG_ASSERT(ids != nullptr && ids->size() > cfg_.scope_entries_max);
    std::vector<retention_candidate> candidates;
    candidates.reserve(ids->size());
    for (uint64_t id : *ids)
      candidates.push_back(retention_candidate_of(entries_.at(id)));
    auto victims = select_evictions(std::move(candidates), policy, now_ms);
    // The scope is back at its bound, so it left over(): the loop ends.
    AG_ASSERT(!victims.empty());
    size_t gone = evict(victims);
    AG_ASSERT(gone == victims.size());
    evicted += gone;
  }
  return evicted;
}

bool memory_store::scopes_consistent() const {
  std::map<std::string, std::set<uint64_t>, std::less<>> expected;
  for (const auto& [id, e] : entries_)
    if (auto scope = scope_index::scope_of(e))
      expected[std::string{*scope}].insert(id);
  return expected == scopes_.contents();
}

}  // namespace agentgraph
