// Which entries of a memory shard belong to which scope, so that a scoped
// recall (recall_scoped_atom) and the per-scope bound (scope_entries_max)
// cost the scopes' entries, not the shard's. A population's million keyed
// agents share one shard and each tags its entries with its key as the
// scope (issue 14): without this index every agent's recall would scan
// everyone's memories.
//
// An entry's scope is its metadata field "scope" when that is a string of
// 1..memory_scope_bytes_max bytes; any other entry has no scope and is
// not indexed (a scoped recall never returns it). The memory_store keeps
// the index in step with its entries in insert and remove, the only two
// places entries come and go (store, place, import, restore, retention,
// eviction, discard).
//
// Not thread-safe: one owner (the memory_store) calls every method.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "actors/memory/memory_interface.hpp"

namespace agentgraph {

class scope_index {
 public:
  // `per_scope_max`: a scope holding more ids than this is listed by
  // over(); 0 = no bound (over() stays empty).
  explicit scope_index(uint32_t per_scope_max) : per_scope_max_(per_scope_max) {}
  // over_ views the map's keys: a move keeps the nodes (and the views
  // valid), a copy would not.
  scope_index(scope_index&&) noexcept = default;
  scope_index& operator=(scope_index&&) noexcept = default;
  scope_index(const scope_index&) = delete;
  scope_index& operator=(const scope_index&) = delete;

  // The entry's scope, viewing into its metadata; nullopt: none.
  [[nodiscard]] static std::optional<std::string_view> scope_of(const memory_entry& e);

  // `id` must not be in `scope` yet (programmer error).
  void add(std::string_view scope, uint64_t id);
  // `id` must be in `scope` (programmer error). A scope left empty goes.
  void remove(std::string_view scope, uint64_t id);

  // The ids of `scope` in id order; null when it holds none.
  [[nodiscard]] const std::set<uint64_t>* ids(std::string_view scope) const;
  // Scopes above per_scope_max, for the owner to trim (retention).
  [[nodiscard]] const std::set<std::string_view>& over() const { return over_; }

  [[nodiscard]] size_t scopes() const { return scopes_.size(); }
  [[nodiscard]] size_t entries() const { return entries_; }
  // Every (scope, id) pair, for tests that compare the index with the
  // entries: O(n).
  [[nodiscard]] std::map<std::string, std::set<uint64_t>, std::less<>> contents() const {
    return scopes_;
  }

  // Heap bytes of the maps and sets (node counts times node sizes) and of
  // the scope names beyond SSO (a running total). O(1).
  [[nodiscard]] size_t bytes() const;
  // bytes() with the names' heap summed by a walk: O(scopes).
  [[nodiscard]] size_t bytes_recounted() const;

 private:
  uint32_t per_scope_max_;
  std::map<std::string, std::set<uint64_t>, std::less<>> scopes_;
  // Views of scopes_' keys (map nodes never move); erased before the key.
  std::set<std::string_view> over_;
  size_t entries_ = 0;
  size_t names_heap_ = 0;  // memory_bytes::string_heap of every key
};

}  // namespace agentgraph
