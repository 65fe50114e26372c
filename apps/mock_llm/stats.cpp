#include "stats.hpp"

namespace agentgraph::mock_llm {

void stats::add(std::string_view group, std::string_view key) {
  std::lock_guard lock{mutex_};
  auto g = groups_.find(group);
  if (g == groups_.end()) g = groups_.emplace(std::string{group}, std::map<std::string, uint64_t, std::less<>>{}).first;
  auto k = g->second.find(key);
  if (k == g->second.end()) k = g->second.emplace(std::string{key}, 0).first;
  ++k->second;
  changed_.notify_all();
}

void stats::add_connection() {
  std::lock_guard lock{mutex_};
  ++connections_;
}

void stats::add_request() {
  std::lock_guard lock{mutex_};
  ++requests_;
}

nlohmann::json stats::to_json() const {
  std::lock_guard lock{mutex_};
  nlohmann::json j = {{"requests", requests_}, {"connections", connections_}};
  for (const char* group : {"routes", "faults", "rules", "statuses", "headers"}) j[group] = nlohmann::json::object();
  for (const auto& [group, counters] : groups_)
    for (const auto& [key, n] : counters) j[group][key] = n;
  return j;
}

namespace {
template <class Groups>
uint64_t count_in(const Groups& groups, std::string_view group, std::string_view key) {
  auto g = groups.find(group);
  if (g == groups.end()) return 0;
  auto k = g->second.find(key);
  return k == g->second.end() ? 0 : k->second;
}
}  // namespace

uint64_t stats::count(std::string_view group, std::string_view key) const {
  std::lock_guard lock{mutex_};
  return count_in(groups_, group, key);
}

bool stats::wait_count(std::string_view group, std::string_view key, uint64_t n,
                       std::chrono::milliseconds timeout_max) const {
  std::unique_lock lock{mutex_};
  return changed_.wait_for(lock, timeout_max, [&] { return count_in(groups_, group, key) >= n; });
}

void stats::reset() {
  std::lock_guard lock{mutex_};
  requests_ = 0;
  connections_ = 0;
  groups_.clear();
}

}  // namespace agentgraph::mock_llm
