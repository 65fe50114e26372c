#include "actors/memory/scope_index.hpp"

#include "actors/memory/memory_bytes.hpp"
#include "runtime/assert.hpp"

namespace agentgraph {

namespace scope_index_detail {

using scope_node = std::pair<const std::string, std::set<uint64_t>>;

}  // namespace scope_index_detail

std::optional<std::string_view> scope_index::scope_of(const memory_entry& e) {
  if (!e.metadata.is_object())
    return std::nullopt;
  const Value* v = e.metadata.find(memory_scope_field);
  if (v == nullptr || !v->is_string())
    return std::nullopt;
  const std::string& s = v->as_string();
  if (s.empty() || s.size() > memory_scope_bytes_max)
    return std::nullopt;
  return std::string_view{s};
}

void scope_index::add(std::string_view scope, uint64_t id) {
  auto it = scopes_.find(scope);
  if (it == scopes_.end()) {
    it = scopes_.emplace(std::string{scope}, std::set<uint64_t>{}).first;
    names_heap_ += memory_bytes::string_heap(it->first);
  }
  bool inserted = it->second.insert(id).second;
  AG_ASSERT(inserted, "an id added to its scope twice");
  ++entries_;
  if (per_scope_max_ > 0 && it->second.size() > per_scope_max_)
    over_.insert(std::string_view{it->first});
}

void scope_index::remove(std::string_view scope, uint64_t id) {
  auto it = scopes_.find(scope);
  AG_ASSERT(it != scopes_.end(), "remove from a scope the index does not hold");
  size_t erased = it->second.erase(id);
  AG_ASSERT(erased == 1, "remove of an id not in its scope");
  --entries_;
  if (per_scope_max_ > 0 && it->second.size() <= per_scope_max_)
    over_.erase(std::string_view{it->first});
  if (it->second.empty()) {
    AG_ASSERT(over_.count(std::string_view{it->first}) == 0);  // no view outlives its key
    names_heap_ -= memory_bytes::string_heap(it->first);
    scopes_.erase(it);
  }
  AG_ASSERT(entries_ >= scopes_.size());  // every scope held holds an id
}

const std::set<uint64_t>* scope_index::ids(std::string_view scope) const {
  auto it = scopes_.find(scope);
  return it == scopes_.end() ? nullptr : &it->second;
}

size_t scope_index::bytes() const {
  using namespace memory_bytes;
  return scopes_.size() * tree_node<scope_index_detail::scope_node> + names_heap_
         + entries_ * tree_node<uint64_t> + over_.size() * tree_node<std::string_view>;
}

size_t scope_index::bytes_recounted() const {
  using namespace memory_bytes;
  size_t total = over_.size() * tree_node<std::string_view>;
  for (const auto& [name, ids] : scopes_)
    total += tree_node<scope_index_detail::scope_node> + string_heap(name)
             + ids.size() * tree_node<uint64_t>;
  return total;
}

}  // namespace agentgraph
