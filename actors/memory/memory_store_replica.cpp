// memory_store's part in a replicated shard (memory_replica_interface.hpp):
// stores under an id chosen elsewhere, and pages of entries out and in.
// Pages come from other nodes, so import_page trusts nothing in them.
#include "actors/memory/memory_store.hpp"

#include <algorithm>
#include <set>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace memory_store_replica_detail {

// What place() and import_page() require of an entry beyond a new one's
// checks: the id and created_ms the front assigned.
caf::error check_placed(const memory_entry& e) {
  if (e.id == 0 || e.id >= memory_replica_id_limit)
    return make_error(errc::invalid_argument,
                      "memory entry: a replica's id must be in [1, 2^62), got "
                        + std::to_string(e.id));
  if (e.created_ms == 0)
    return make_error(errc::invalid_argument,
                      "memory entry " + std::to_string(e.id) + ": a replica's created_ms is 0");
  if (auto err = validate_new_entry(e))
    return make_error(errc::invalid_argument,
                      "memory entry " + std::to_string(e.id) + ": " + error_context(err));
  return caf::none;
}

}  // namespace memory_store_replica_detail

size_t memory_page_bytes(const memory_entry& e) {
  return e.text.size() + e.kind.size() + e.metadata.heap_bytes();
}

caf::expected<std::pair<uint64_t, bool>> memory_store::place(memory_entry e, int64_t now_ms,
                                                             std::vector<float> vector) {
  if (auto err = memory_store_replica_detail::check_placed(e))
    return err;
  const uint64_t id = e.id;
  if (entries_.count(id) != 0)
    return std::pair{id, false};
  next_id_ = std::max(next_id_, id + 1);
  insert(std::move(e), std::move(vector));
  if (tracking_)
    changes_.upserted.push_back(id);
  enforce_retention(now_ms);
  AG_ASSERT(entries_.size() <= cfg_.max_entries);
  return std::pair{id, true};
}

caf::expected<memory_page> memory_store::export_page(uint64_t after_id, uint32_t limit) const {
  if (limit == 0 || limit > memory_page_entries_max)
    return make_error(errc::invalid_argument, "memory export: limit must be in [1, "
                                                + std::to_string(memory_page_entries_max)
                                                + "], got " + std::to_string(limit));
  memory_page page;
  size_t bytes = 0;
  auto it = entries_.upper_bound(after_id);
  for (; it != entries_.end() && page.entries.size() < limit; ++it) {
    const size_t b = memory_page_bytes(it->second);
    if (!page.entries.empty() && bytes + b > memory_page_bytes_max)
      break;
    bytes += b;
    page.entries.push_back(it->second);
  }
  page.more = it != entries_.end();
  // One entry is at most 2 MiB (text and metadata bounds), below the page's.
  AG_ASSERT(bytes <= memory_page_bytes_max);
  return page;
}

caf::expected<uint64_t> memory_store::import_page(const memory_page& page, int64_t now_ms) {
  using memory_store_replica_detail::check_placed;
  if (page.entries.size() > memory_page_entries_max)
    return make_error(errc::invalid_argument,
                      "memory import: " + std::to_string(page.entries.size())
                        + " entries in one page, above " + std::to_string(memory_page_entries_max));
  // Checked whole before anything changes: a bad page adds nothing.
  std::set<uint64_t> ids;
  size_t bytes = 0;
  for (const auto& e : page.entries) {
    if (auto err = check_placed(e))
      return make_error(errc::invalid_argument, "memory import: " + error_context(err));
    if (!ids.insert(e.id).second)
      return make_error(errc::invalid_argument,
                        "memory import: id " + std::to_string(e.id) + " twice in one page");
    bytes += memory_page_bytes(e);
    if (bytes > memory_page_bytes_max)
      return make_error(errc::invalid_argument, "memory import: page above "
                                                  + std::to_string(memory_page_bytes_max)
                                                  + " bytes");
  }
  uint64_t added = 0;
  for (const auto& e : page.entries) {
    // One at a time, retention after each: the index holds at most
    // max_entries + 1 vectors, as for stores.
    auto placed = place(e, now_ms);
    AG_ASSERT(static_cast<bool>(placed), "checked above");
    if (placed->second)
      ++added;
  }
  return added;
}

}  // namespace agentgraph
