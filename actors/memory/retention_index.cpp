#include "actors/memory/retention_index.hpp"

#include <algorithm>
#include <cmath>

#include "actors/memory/memory_bytes.hpp"
#include "runtime/assert.hpp"

namespace agentgraph {

namespace retention_index_detail {

int64_t since_of(const retention_candidate& c) {
  return std::max(c.last_access_ms, c.created_ms);
}

}  // namespace retention_index_detail

retention_index::retention_index(const memory_config& cfg)
    : policy_(cfg.retention),
      max_entries_(cfg.max_entries),
      half_life_ms_(static_cast<double>(cfg.importance_half_life.count())) {
  if (policy_ == retention_policy::hierarchical)
    for (const auto& [kind, limit] : cfg.kind_limits) {
      listed_[kind].limit = limit;
      listed_fixed_bytes_ += memory_bytes::tree_node<std::pair<const std::string, kind_group>>
                             + memory_bytes::string_heap(kind);
    }
}

retention_index::age_set* retention_index::group_of(std::string_view kind) {
  if (policy_ == retention_policy::hierarchical)
    if (auto it = listed_.find(kind); it != listed_.end())
      return &it->second.entries;
  return &shared_;
}

void retention_index::add(const retention_candidate& c) {
  if (policy_ == retention_policy::importance)
    add_scored(c);
  else
    add_aged(c);
  ++size_;
}

void retention_index::remove(const retention_candidate& c) {
  AG_ASSERT(size_ > 0, "remove from an empty retention index");
  if (policy_ == retention_policy::importance)
    remove_scored(c);
  else
    remove_aged(c);
  --size_;
}

void retention_index::update(const retention_candidate& before, const retention_candidate& after) {
  AG_ASSERT(before.id == after.id && before.created_ms == after.created_ms
              && before.kind == after.kind,
            "update changes only access fields");
  // Only the importance order reads access fields.
  if (policy_ != retention_policy::importance)
    return;
  remove_scored(before);
  add_scored(after);
}

void retention_index::add_aged(const retention_candidate& c) {
  auto* group = group_of(c.kind);
  bool inserted = group->insert({c.created_ms, c.id}).second;
  AG_ASSERT(inserted, "an id added twice to the retention index");
  if (group == &shared_)
    return;
  ++listed_entries_;
  auto it = listed_.find(c.kind);
  if (group->size() <= it->second.limit)
    ++listed_kept_;
  else
    over_.emplace(it->first);
}

void retention_index::remove_aged(const retention_candidate& c) {
  auto* group = group_of(c.kind);
  size_t erased = group->erase({c.created_ms, c.id});
  AG_ASSERT(erased == 1, "remove of an id not in the retention index");
  if (group == &shared_)
    return;
  --listed_entries_;
  auto it = listed_.find(c.kind);
  // The group had size + 1: it was counted in listed_kept_ if that was
  // within the limit, and stays over only while still above it.
  if (group->size() < it->second.limit)
    --listed_kept_;
  if (group->size() <= it->second.limit)
    over_.erase(it->first);
}

double retention_index::log_w(const retention_candidate& c) const {
  // importance 0 gives -inf: below every other key, ties broken by age,
  // as select_evictions breaks its ties at score 0.
  double w = c.importance * (1.0 + std::log1p(static_cast<double>(c.access_count)));
  return std::log2(w) * half_life_ms_;
}

double retention_index::settled_key(double lw, int64_t since) const {
  return lw + static_cast<double>(since - origin_);
}

void retention_index::add_scored(const retention_candidate& c) {
  if (!has_origin_) {
    origin_ = retention_index_detail::since_of(c);
    has_origin_ = true;
  }
  const int64_t since = retention_index_detail::since_of(c);
  const double lw = log_w(c);
  if (since <= frontier_) {
    bool inserted = settled_.insert({settled_key(lw, since), c.created_ms, c.id}).second;
    AG_ASSERT(inserted, "an id added twice to the retention index");
    return;
  }
  bool inserted = ahead_.insert({lw, c.created_ms, c.id}).second;
  bool inserted_by_since = ahead_by_since_.insert({since, c.id, lw, c.created_ms}).second;
  AG_ASSERT(inserted && inserted_by_since, "an id added twice to the retention index");
}

void retention_index::remove_scored(const retention_candidate& c) {
  const int64_t since = retention_index_detail::since_of(c);
  const double lw = log_w(c);
  if (since <= frontier_) {
    size_t erased = settled_.erase({settled_key(lw, since), c.created_ms, c.id});
    AG_ASSERT(erased == 1, "remove of an id not in the retention index");
    return;
  }
  size_t erased = ahead_.erase({lw, c.created_ms, c.id});
  size_t erased_by_since = ahead_by_since_.erase({since, c.id, 0, 0});
  AG_ASSERT(erased == 1 && erased_by_since == 1, "remove of an id not in the retention index");
}

// Moves the entries whose since is at or before now_ms into settled_.
// Each entry moves at most once per backward clock step.
void retention_index::settle(int64_t now_ms) {
  AG_ASSERT(now_ms >= frontier_, "settle behind the frontier: rebuild first");
  frontier_ = now_ms;
  while (!ahead_by_since_.empty() && ahead_by_since_.begin()->since <= now_ms) {
    auto item = *ahead_by_since_.begin();
    ahead_by_since_.erase(ahead_by_since_.begin());
    size_t erased = ahead_.erase({item.log_w, item.created_ms, item.id});
    AG_ASSERT(erased == 1, "ahead sets disagree");
    settled_.insert({settled_key(item.log_w, item.since), item.created_ms, item.id});
  }
  AG_ASSERT(ahead_.size() == ahead_by_since_.size());
}

bool retention_index::needs_rebuild(int64_t now_ms) const {
  return policy_ == retention_policy::importance && now_ms < frontier_;
}

std::vector<uint64_t> retention_index::select(int64_t now_ms) {
  AG_ASSERT(!needs_rebuild(now_ms), "select behind the frontier: rebuild first");
  if (policy_ == retention_policy::importance) {
    settle(now_ms);
    return select_by_score(now_ms);
  }
  return select_by_age();
}

std::vector<uint64_t> retention_index::select_by_age() const {
  std::vector<uint64_t> out;
  auto take_oldest = [&out](const age_set& group, size_t excess) {
    auto it = group.begin();
    for (size_t i = 0; i < excess && it != group.end(); ++i, ++it)
      out.push_back(it->id);
  };
  size_t shared_max = max_entries_;
  if (policy_ == retention_policy::hierarchical) {
    // Listed kinds in name order, as select_evictions goes through them.
    for (const auto& kind : over_) {
      const auto& g = listed_.find(kind)->second;
      take_oldest(g.entries, g.entries.size() - g.limit);
    }
    // Validation keeps sum(kind_limits) <= max_entries, so this is >= 0.
    AG_ASSERT(listed_kept_ <= max_entries_);
    shared_max = max_entries_ - listed_kept_;
  }
  if (shared_.size() > shared_max)
    take_oldest(shared_, shared_.size() - shared_max);
  return out;
}

// The lowest scores at now_ms: a merge of settled_ (keys as stored) and
// ahead_ (age 0 at now_ms, so their key is log_w plus now's offset).
std::vector<uint64_t> retention_index::select_by_score(int64_t now_ms) const {
  std::vector<uint64_t> out;
  if (size_ <= max_entries_)
    return out;
  const size_t excess = size_ - max_entries_;
  out.reserve(excess);
  auto s = settled_.begin();
  auto a = ahead_.begin();
  while (out.size() < excess) {
    AG_ASSERT(s != settled_.end() || a != ahead_.end(), "retention index lost entries");
    bool take_ahead = s == settled_.end();
    if (!take_ahead && a != ahead_.end())
      take_ahead = score_key{settled_key(a->key, now_ms), a->created_ms, a->id} < *s;
    out.push_back(take_ahead ? (a++)->id : (s++)->id);
  }
  return out;
}

size_t retention_index::bytes() const {
  namespace b = memory_bytes;
  size_t total = sizeof(retention_index) + listed_fixed_bytes_;
  total += (shared_.size() + listed_entries_) * b::tree_node<age_key>;
  total += over_.size() * b::tree_node<std::string_view>;
  total += (settled_.size() + ahead_.size()) * b::tree_node<score_key>;
  total += ahead_by_since_.size() * b::tree_node<ahead_item>;
  return total;
}

}  // namespace agentgraph
