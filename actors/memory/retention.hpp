// Retention policies of a memory shard as pure functions: given the entries,
// the config and the time, which ids to evict. This is the policies'
// definition; the store applies them after every store and on every cleanup
// tick through retention_index, which keeps the same order incrementally
// (O(log n) per victim instead of a sort of every entry) and is tested
// against select_evictions. No CAF, no clock: tests pass time in.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "actors/memory/memory_config.hpp"
#include "actors/memory/memory_interface.hpp"

namespace agentgraph {

// What retention reads of an entry. Views into the entry: valid while the
// entries they were made from are unchanged.
struct retention_candidate {
  uint64_t id = 0;
  std::string_view kind;
  double importance = 0;
  int64_t created_ms = 0;
  int64_t last_access_ms = 0;  // 0: never recalled
  uint32_t access_count = 0;
};

[[nodiscard]] retention_candidate retention_candidate_of(const memory_entry& e);

// The importance policy's score:
//   importance * 0.5^(age / half_life) * (1 + ln(1 + access_count)),
// where age runs from the last access (or creation, if never recalled) to
// now_ms, and is clamped at 0 for clocks that step backwards.
[[nodiscard]] double importance_score(const retention_candidate& c,
                                      std::chrono::milliseconds half_life, int64_t now_ms);

// Ids to evict so that the entries satisfy cfg's retention policy, in
// eviction order. Policies:
// - sliding_window: the oldest (created_ms, then id) beyond max_entries.
// - importance: the lowest importance_score beyond max_entries (ties: the
//   oldest goes first).
// - hierarchical: per kind in kind_limits, the oldest beyond that kind's
//   limit; then kinds not listed share what the listed kinds leave of
//   max_entries (so a listed kind can always reach its limit, and the total
//   never exceeds max_entries because the limits sum to at most max_entries).
[[nodiscard]] std::vector<uint64_t> select_evictions(std::vector<retention_candidate> entries,
                                                     const memory_config& cfg, int64_t now_ms);

}  // namespace agentgraph
