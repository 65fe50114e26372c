// The retention policy's eviction order, kept up to date as entries come,
// go and are recalled, so that retention finds its next victim in
// O(log n) instead of sorting every entry on every store. retention.hpp
// defines the policies (select_evictions, a pure function over all
// entries); this index picks the same ids in the same order, which the
// tests check against select_evictions over random inputs. No CAF.
//
// The order per policy:
// - sliding_window: (created_ms, id), which never changes for an entry.
// - hierarchical: the same order within each kind listed in kind_limits,
//   and within the group of all unlisted kinds.
// - importance: importance_score decays with time, but every entry decays
//   at the same rate, so the order does not change with time. With
//   since = max(last_access_ms, created_ms) and w = importance *
//   (1 + ln(1 + access_count)),
//     score = w * 2^(-(now - since) / half_life)
//     log2(score) * half_life + now = log2(w) * half_life + since,
//   the right side free of `now`: that is the key (relative to a fixed
//   origin, in ms, so equal scores of integer ms times give equal keys).
//   A recall changes since and w: the entry is re-keyed (O(log n)).
//   Two exceptions to the formula, and how they are handled:
//   * Age is clamped at 0 (a clock that steps back, or a created_ms a
//     client set in the future): an entry whose since is after the last
//     `now` seen scores w. Such entries wait in a second set keyed by w
//     alone until `now` passes their since (each moves once, O(log n)).
//     A `now` earlier than the last one (the clock stepped back) makes
//     already-placed entries "future" again: the owner rebuilds the index
//     (needs_rebuild; O(n log n), once per backward step).
//   * select_evictions multiplies the decay out in doubles, so scores
//     below the smallest double (age beyond about 1,070 half-lives)
//     all become 0 and tie, and the oldest of them goes first; here the
//     log keeps them apart and the lowest score goes first. Scores that
//     differ by less than about 1e-12 relative may also order differently
//     (rounding of the log against rounding of the product).
//
// Not thread-safe: one owner (the memory_store) calls every method.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "actors/memory/memory_config.hpp"
#include "actors/memory/retention.hpp"

namespace agentgraph {

class retention_index {
 public:
  explicit retention_index(const memory_config& cfg);

  // `c` must not be in the index (by id).
  void add(const retention_candidate& c);
  // `c` must be in the index with the fields it was added with.
  void remove(const retention_candidate& c);
  // An entry's access fields changed from `before` to `after` (a recall).
  void update(const retention_candidate& before, const retention_candidate& after);

  // True when `now_ms` is before the latest time select saw and the
  // policy depends on time (importance): the owner must then rebuild the
  // index from its entries (a fresh index, add each) before select.
  [[nodiscard]] bool needs_rebuild(int64_t now_ms) const;

  // Ids to evict at `now_ms` so that the entries satisfy the policy, in
  // select_evictions' order; the caller removes them. O(log n) per entry
  // that moved out of the "future" set, plus O(1) per id returned.
  // Precondition: !needs_rebuild(now_ms).
  [[nodiscard]] std::vector<uint64_t> select(int64_t now_ms);

  [[nodiscard]] size_t size() const { return size_; }
  // Heap bytes of the ordered sets (node count times node size) and the
  // object itself; O(1).
  [[nodiscard]] size_t bytes() const;

 private:
  // (created_ms, id): the age order of sliding_window and hierarchical.
  struct age_key {
    int64_t created_ms;
    uint64_t id;
    friend bool operator<(const age_key& a, const age_key& b) {
      return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.id < b.id;
    }
  };
  using age_set = std::set<age_key>;
  // A kind listed in kind_limits: its entries and its limit.
  struct kind_group {
    uint32_t limit = 0;
    age_set entries;
  };
  // (key, created_ms, id): the importance order; key is a log score in ms
  // (see the opening comment), lower goes first, ties go to the older.
  struct score_key {
    double key;
    int64_t created_ms;
    uint64_t id;
    friend bool operator<(const score_key& a, const score_key& b) {
      if (a.key != b.key)
        return a.key < b.key;
      return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.id < b.id;
    }
  };
  // An entry whose since is after `frontier_`, by since: moves to
  // `settled_` once `now` reaches since.
  struct ahead_item {
    int64_t since;
    uint64_t id;
    double log_w;  // log2(w) * half_life
    int64_t created_ms;
    friend bool operator<(const ahead_item& a, const ahead_item& b) {
      return a.since != b.since ? a.since < b.since : a.id < b.id;
    }
  };

  age_set* group_of(std::string_view kind);
  void add_aged(const retention_candidate& c);
  void remove_aged(const retention_candidate& c);
  void add_scored(const retention_candidate& c);
  void remove_scored(const retention_candidate& c);
  [[nodiscard]] double log_w(const retention_candidate& c) const;
  [[nodiscard]] double settled_key(double log_w, int64_t since) const;
  void settle(int64_t now_ms);
  [[nodiscard]] std::vector<uint64_t> select_by_age() const;
  [[nodiscard]] std::vector<uint64_t> select_by_score(int64_t now_ms) const;

  // From the config, never changed (not const: the owner replaces the
  // whole index on a rebuild, which needs assignment).
  retention_policy policy_;
  uint32_t max_entries_;
  double half_life_ms_;
  size_t size_ = 0;

  // sliding_window: every entry. hierarchical: the entries of unlisted kinds.
  age_set shared_;
  // hierarchical only: one group per kind in kind_limits, made up front.
  std::map<std::string, kind_group, std::less<>> listed_;
  size_t listed_entries_ = 0;      // sum over listed_ of size
  size_t listed_kept_ = 0;         // sum over listed_ of min(size, limit)
  size_t listed_fixed_bytes_ = 0;  // listed_'s own nodes and names
  // Listed kinds above their limit, in name order. Views into listed_'s
  // keys: map nodes never move, not even when the map is moved.
  std::set<std::string_view> over_;

  // importance only. settled_: entries with since <= frontier_, keyed by
  // log_w + (since - origin_). ahead_/ahead_by_since_: the others, keyed
  // by log_w alone (their age is 0 until now reaches since).
  std::set<score_key> settled_;
  std::set<score_key> ahead_;
  std::set<ahead_item> ahead_by_since_;
  int64_t frontier_ = std::numeric_limits<int64_t>::min();  // the latest `now` select saw
  int64_t origin_ = 0;  // fixed at the first add, keeps keys small and exact
  bool has_origin_ = false;
};

}  // namespace agentgraph
