#include "actors/memory/retention.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace agentgraph {

namespace retention_detail {

bool older(const retention_candidate& a, const retention_candidate& b) {
  return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.id < b.id;
}

// The `excess` oldest of `group`, appended to `out`.
void evict_oldest(std::vector<retention_candidate>& group, size_t excess,
                  std::vector<uint64_t>& out) {
  excess = std::min(excess, group.size());
  std::partial_sort(group.begin(), group.begin() + static_cast<ptrdiff_t>(excess), group.end(),
                    older);
  for (size_t i = 0; i < excess; ++i)
    out.push_back(group[i].id);
}

std::vector<uint64_t> sliding_window(std::vector<retention_candidate>& entries, size_t max) {
  std::vector<uint64_t> out;
  if (entries.size() > max)
    evict_oldest(entries, entries.size() - max, out);
  return out;
}

std::vector<uint64_t> by_importance(std::vector<retention_candidate>& entries,
                                    const memory_config& cfg, int64_t now_ms) {
  std::vector<uint64_t> out;
  if (entries.size() <= cfg.max_entries)
    return out;
  size_t excess = entries.size() - cfg.max_entries;
  std::vector<std::pair<double, retention_candidate>> scored;
  scored.reserve(entries.size());
  for (const auto& c : entries)
    scored.emplace_back(importance_score(c, cfg.importance_half_life, now_ms), c);
  auto lower = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : older(a.second, b.second);
  };
  std::partial_sort(scored.begin(), scored.begin() + static_cast<ptrdiff_t>(excess), scored.end(),
                    lower);
  for (size_t i = 0; i < excess; ++i)
    out.push_back(scored[i].second.id);
  return out;
}

std::vector<uint64_t> hierarchical(std::vector<retention_candidate>& entries,
                                   const memory_config& cfg) {
  std::map<std::string_view, std::vector<retention_candidate>> listed;
  std::vector<retention_candidate> unlisted;
  for (const auto& c : entries) {
    if (cfg.kind_limits.count(std::string{c.kind}) > 0)
      listed[c.kind].push_back(c);
    else
      unlisted.push_back(c);
  }
  std::vector<uint64_t> out;
  size_t listed_kept = 0;
  for (auto& [kind, group] : listed) {
    size_t limit = cfg.kind_limits.at(std::string{kind});
    if (group.size() > limit)
      evict_oldest(group, group.size() - limit, out);
    listed_kept += std::min(group.size(), limit);
  }
  // Validation guarantees sum(kind_limits) <= max_entries, so this is >= 0.
  size_t unlisted_max = cfg.max_entries - listed_kept;
  if (unlisted.size() > unlisted_max)
    evict_oldest(unlisted, unlisted.size() - unlisted_max, out);
  return out;
}

}  // namespace retention_detail

retention_candidate retention_candidate_of(const memory_entry& e) {
  return {e.id, e.kind, e.importance, e.created_ms, e.last_access_ms, e.access_count};
}

double importance_score(const retention_candidate& c, std::chrono::milliseconds half_life,
                        int64_t now_ms) {
  int64_t since = std::max(c.last_access_ms, c.created_ms);
  auto age_ms = static_cast<double>(std::max<int64_t>(0, now_ms - since));
  double decay = std::exp2(-age_ms / static_cast<double>(half_life.count()));
  return c.importance * decay * (1.0 + std::log1p(static_cast<double>(c.access_count)));
}

std::vector<uint64_t> select_evictions(std::vector<retention_candidate> entries,
                                       const memory_config& cfg, int64_t now_ms) {
  switch (cfg.retention) {
    case retention_policy::sliding_window:
      return retention_detail::sliding_window(entries, cfg.max_entries);
    case retention_policy::importance:
      return retention_detail::by_importance(entries, cfg, now_ms);
    case retention_policy::hierarchical:
      return retention_detail::hierarchical(entries, cfg);
  }
  return {};
}

}  // namespace agentgraph
